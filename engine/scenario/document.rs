//! What a theme document reads, and where: a document shared by several
//! scenarios may read a value only some of them have, inside
//! `{% if computed.impot_estime is defined %}`; those reads are checked only
//! for the scenarios that have the guarding value.

use crate::diagnostic::Pos;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{%-?\s*(if|elif|else|endif)\b(.*?)-?%\}").expect("tag pattern"));
static DEFINED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([A-Za-z_][\w.]*)\s+is\s+defined").expect("guard pattern"));

/// The parts of `source` that only render when some values are defined:
/// each branch of an `{% if ... is defined %}`, with the values it tests.
pub(crate) fn guarded(source: &str) -> Vec<(Range<usize>, Vec<String>)> {
    let mut out = Vec::new();
    // The open `if` blocks: where the current branch starts, and its guards.
    let mut open: Vec<(usize, Vec<String>)> = Vec::new();
    for tag in TAG.captures_iter(source) {
        let whole = tag.get(0).expect("whole match");
        let condition = |c: &str| DEFINED.captures_iter(c).map(|m| m[1].to_owned()).collect::<Vec<_>>();
        match &tag[1] {
            "if" => open.push((whole.end(), condition(&tag[2]))),
            kind => {
                let Some((start, guards)) = open.pop() else { continue };
                if !guards.is_empty() {
                    out.push((start..whole.start(), guards));
                }
                match kind {
                    "elif" => open.push((whole.end(), condition(&tag[2]))),
                    "else" => open.push((whole.end(), Vec::new())),
                    _ => {}
                }
            }
        }
    }
    out
}

static TESTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s+is\s+(not\s+)?defined\b").expect("test pattern"));

/// Every place `var` is read in `source`, as a whole path (not the start
/// of a longer one); testing whether it `is defined` is not reading it.
pub(crate) fn places(source: &str, var: &str) -> Vec<usize> {
    source
        .match_indices(var)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = source[..at].chars().next_back();
            let rest = &source[at + var.len()..];
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && !rest.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !TESTED.is_match(rest)
        })
        .collect()
}

/// The line and column of byte `at` of `source`.
pub(crate) fn position(source: &str, at: usize) -> Pos {
    let before = &source[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
    Pos::new(line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_cover_their_branch_only() {
        let src = "a {% if computed.x is defined %}b{% else %}c{% endif %} {% if y %}d{% endif %}";
        let g = guarded(src);
        assert_eq!(g.len(), 1);
        assert_eq!(&src[g[0].0.clone()], "b");
        assert_eq!(g[0].1, vec!["computed.x".to_owned()]);
        assert_eq!(places("answers.ab answers.a answers.a.b", "answers.a"), vec![11, 21]);
        assert_eq!(places("{% if x.y is defined %}{{ x.y }}", "x.y"), vec![26]);
        assert_eq!(position("ab\ncd", 4), Pos::new(2, 2));
    }
}
