//! Problems found in scenario and theme files, reported as
//! `file:line:column: error: message`, then the source line and a hint.

use std::fmt;

/// A 1-based position in a source file (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, col: 0 };

    pub fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }

    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (relative path, or `embedded:...`).
    pub file: String,
    pub pos: Pos,
    pub severity: Severity,
    pub message: String,
    /// One line that says how to fix it.
    pub hint: Option<String>,
    /// How many characters to underline (at least one).
    pub width: u32,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.into(), pos, severity: Severity::Error, message: message.into(), hint: None, width: 1 }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_width(mut self, width: usize) -> Diagnostic {
        self.width = width.clamp(1, 200) as u32;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The first line alone: `file:line:column: error: message`.
    pub fn headline(&self) -> String {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.pos.is_known() {
            format!("{}:{}:{}: {level}: {}", self.file, self.pos.line, self.pos.col, self.message)
        } else {
            format!("{}: {level}: {}", self.file, self.message)
        }
    }

    /// The full report: headline, the source line with a caret, and the hint.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = self.headline();
        out.push('\n');
        let line = source.filter(|_| self.pos.is_known()).and_then(|s| s.lines().nth(self.pos.line as usize - 1));
        let gutter = self.pos.line.to_string().len();
        if let Some(line) = line {
            let line: String = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
            let pad = " ".repeat(gutter);
            let caret_at = (self.pos.col as usize).saturating_sub(1);
            // Underline at most to the end of the line.
            let width = (self.width as usize).min(line.chars().count().saturating_sub(caret_at)).max(1);
            out.push_str(&format!("{pad} |\n{} | {line}\n", self.pos.line));
            out.push_str(&format!("{pad} | {}{}\n", " ".repeat(caret_at), "^".repeat(width)));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("{} = help: {hint}\n", " ".repeat(gutter)));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())
    }
}

/// Longer words (in bytes) get no suggestion, and are suggested for none.
const SUGGESTED_MAX_LEN: usize = 100;

/// The closest candidate to `word`, if one is close enough to be a likely typo.
/// Typos count as edits (a swap of two letters is one); a candidate is
/// kept within a third of the word's length, or when it starts the same
/// way and is very similar.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Both measures cost the product of the lengths (and Damerau-Levenshtein
    // as much memory): a 200 KB step id took seconds. Nobody typos that long.
    if word.len() > SUGGESTED_MAX_LEN {
        return None;
    }
    let lower = word.to_lowercase();
    let budget = (lower.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| c.len() <= SUGGESTED_MAX_LEN)
        .filter_map(|c| {
            let other = c.to_lowercase();
            let edits = strsim::damerau_levenshtein(&lower, &other);
            let similar = strsim::jaro_winkler(&lower, &other);
            (edits <= budget || similar >= 0.9).then_some((edits, -similar, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_get_no_suggestion() {
        assert_eq!(did_you_mean("nxet", ["next", "kind"]), Some("next"));
        let long = "x".repeat(200_000);
        assert_eq!(did_you_mean(&long, [long.as_str(), "next"]), None);
        assert_eq!(did_you_mean("x", [long.as_str()]), None);
    }

    #[test]
    fn renders_headline_source_caret_and_hint() {
        let d = Diagnostic::error("a.yaml", Pos::new(2, 3), "unknown key `nxet`").with_hint("did you mean `next`?").with_width(4);
        let text = d.render(Some("id: x\n  nxet: y\n"));
        assert_eq!(text, "a.yaml:2:3: error: unknown key `nxet`\n  |\n2 |   nxet: y\n  |   ^^^^\n  = help: did you mean `next`?\n");
    }

    #[test]
    fn suggestions_only_for_close_words() {
        assert_eq!(did_you_mean("nxet", ["next", "title"]), Some("next"));
        assert_eq!(did_you_mean("zzz", ["next", "title"]), None);
        assert_eq!(did_you_mean("nmo", ["nom", "numero_fiscal", "prenom"]), Some("nom"));
        assert_eq!(did_you_mean("numero_fical", ["nom", "numero_fiscal"]), Some("numero_fiscal"));
        assert_eq!(did_you_mean("lgin", ["login", "form", "info"]), Some("login"));
    }
}
