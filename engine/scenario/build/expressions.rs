//! The expressions phase: every text and expression compiles, and reads
//! only names that exist (answers, persona values, computed values, the
//! inbox, today...), with the items of a list read through their fields.

use super::*;

/// What a member of a fixed root that does not exist is told.
fn no_member(root: Root) -> &'static str {
    match root {
        Root::Inbox => "the inbox has no such value",
        Root::Today => "`today` has no such value",
        Root::Clock => "`clock` has no such value",
        Root::Scenario => "`scenario` has no such value",
        Root::Persona | Root::Answers | Root::Computed | Root::Reference => "",
    }
}

/// The roots' names, in the order hints list them.
fn root_names() -> Vec<&'static str> {
    Root::ALL.iter().map(|r| r.name()).collect()
}

/// `root` names nothing that `who` may read: the message, and a hint with
/// the closest of the roots and `locals`, or all of them.
pub(super) fn unknown_root(root: &str, locals: &[&str], who: &str) -> (String, String) {
    let mut roots: Vec<&str> = root_names();
    roots.extend(locals);
    let hint = match did_you_mean(root, roots.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("{who} can read: {}", roots.join(", ")),
    };
    (format!("unknown variable `{root}`"), hint)
}

impl Builder<'_> {
    /// The fields of a list's items that an expression or a text reads:
    /// `answers.enfants[0].prenom`, `{% for e in answers.enfants %}{{ e.prenom }}`,
    /// `answers.enfants | map(attribute="prenom")`. Each must be a field of
    /// the list's step.
    fn check_item_fields(&mut self, file: &str, at: &Located<String>) {
        if self.groups.is_empty() || !at.value.contains("answers.") {
            return;
        }
        static INDEXED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"answers\.(\w+)\s*\[[^\]]*\]\s*\.(\w+)").expect("regex"));
        static LOOP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"for\s+(\w+)\s+in\s+answers\.(\w+)").expect("regex"));
        static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r#"answers\.(\w+)\s*\|\s*(?:map|selectattr|rejectattr|sum|sort|groupby|unique)\(\s*(?:attribute\s*=\s*)?["'](\w+)["']"#,
            )
            .expect("regex")
        });
        let text = at.value.clone();
        let mut reads: Vec<(String, String, String)> = Vec::new();
        for c in INDEXED.captures_iter(&text).chain(ATTRIBUTE.captures_iter(&text)) {
            reads.push((c[1].to_owned(), c[2].to_owned(), c[0].to_owned()));
        }
        for c in LOOP.captures_iter(&text) {
            let (var, list) = (&c[1], &c[2]);
            let Ok(member) = Regex::new(&format!(r"\b{}\.(\w+)", regex::escape(var))) else { continue };
            for m in member.captures_iter(&text) {
                reads.push((list.to_owned(), m[1].to_owned(), m[0].to_owned()));
            }
        }
        for (list, field, written) in reads {
            let Some(fields) = self.groups.get(&list) else { continue };
            if fields.contains(&field) {
                continue;
            }
            let hint = match did_you_mean(&field, fields.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the items of `{list}` have: {}", fields.join(", ")),
            };
            let (pos, len) = self.locate(file, at, &written);
            self.error(file, pos, len, format!("the items of `answers.{list}` have no field `{field}`"), Some(hint));
        }
    }

    /// Compiles an author text and checks the names it reads; an empty text if
    /// it does not parse.
    pub(super) fn text(&mut self, t: &Located<String>, file: &str, local: &[&str]) -> Text {
        match Text::compile(&t.value) {
            Ok(text) => {
                let vars = text.variables();
                self.check_vars(&vars, local, file, t);
                self.check_item_fields(file, t);
                text
            }
            Err(e) => {
                self.error(
                    file,
                    t.pos,
                    t.len,
                    format!("this text does not parse: {e}"),
                    Some("check the `{{ }}` and `{% %}` pairs".into()),
                );
                Text::compile("").expect("empty text")
            }
        }
    }

    /// Compiles an expression and checks the names it reads.
    pub(super) fn expr(&mut self, e: &Located<String>, file: &str, local: &[&str]) -> Option<Expr> {
        match Expr::compile(&e.value) {
            Ok(expr) => {
                let vars = expr.variables();
                self.check_vars(&vars, local, file, e);
                self.check_item_fields(file, e);
                Some(expr)
            }
            Err(err) => {
                self.error(
                    file,
                    e.pos,
                    e.len,
                    format!("this expression does not parse: {err}"),
                    Some("expressions are minijinja expressions, such as `answers.montant > 0`".into()),
                );
                None
            }
        }
    }

    /// Each name read must exist: a root of `expr::names`, one of `local` or
    /// a function; below the root, a field, a persona value or a member.
    fn check_vars(&mut self, vars: &BTreeSet<String>, local: &[&str], file: &str, at: &Located<String>) {
        for var in vars {
            let mut parts = var.split('.');
            let root = parts.next().unwrap_or_default();
            let rest: Vec<&str> = parts.collect();
            if local.contains(&root) || FUNCTIONS.contains(&root) {
                continue;
            }
            let problem: Option<(String, String)> = match Root::from_name(root) {
                Some(Root::Persona) => match rest.first() {
                    None => None,
                    Some(_) => {
                        let path = rest.iter().take(2).copied().collect::<Vec<_>>().join(".");
                        if self.spec.has_path(&path) {
                            self.persona_reads.push(path);
                        } else {
                            let (pos, len) = self.locate(file, at, var);
                            self.unknown_persona(file, pos, len, &path, "persona.");
                        }
                        None
                    }
                },
                Some(Root::Answers) => match (rest.first(), rest.get(1)) {
                    (Some(list), Some(attr)) if self.groups.contains_key(*list) => Some((
                        format!("`answers.{list}` is a list: `answers.{list}.{attr}` names nothing"),
                        format!(
                            "read an item's field as `answers.{list}[0].{attr}`, or in `{{% for x in answers.{list} %}}`; its count is `answers.{list} | length`"
                        ),
                    )),
                    _ => self.member(rest.first(), &self.fields.clone(), "answers", "no field is named so"),
                },
                Some(Root::Computed) => self.member(rest.first(), &self.computed.clone(), "computed", "no step computes it"),
                Some(fixed) => self.fixed_member(fixed, rest.first()),
                None => Some(unknown_root(root, local, "expressions")),
            };
            if let Some((message, hint)) = problem {
                let (pos, len) = self.locate(file, at, var);
                self.error(file, pos, len, message, Some(hint));
            }
        }
    }

    /// Where `needle` is written inside the value `at`: the line and column
    /// in the file when the file's text confirms it, else the value's start.
    pub(super) fn locate(&self, file: &str, at: &Located<String>, needle: &str) -> (Pos, u32) {
        let fallback = (at.pos, at.len);
        let Some(offset) = at.value.find(needle) else { return fallback };
        let Some(source) = self.world.sources.get(file) else { return fallback };
        let before = &at.value[..offset];
        let line_offset = before.matches('\n').count() as u32;
        let col_in_line = before.rsplit('\n').next().unwrap_or("").chars().count() as u32;
        let candidates = if line_offset == 0 {
            // A quoted scalar starts one column before its text.
            vec![Pos::new(at.pos.line, at.pos.col + col_in_line), Pos::new(at.pos.line, at.pos.col + col_in_line + 1)]
        } else {
            vec![Pos::new(at.pos.line + line_offset, at.pos.col + col_in_line)]
        };
        for pos in candidates {
            let line = source.lines().nth(pos.line as usize - 1).unwrap_or("");
            let rest: String = line.chars().skip(pos.col as usize - 1).collect();
            if rest.starts_with(needle) {
                return (pos, needle.chars().count() as u32);
            }
        }
        fallback
    }

    /// A member of a root whose members are the same in every scenario
    /// (`inbox`, `today`...): none to check for the others.
    pub(super) fn fixed_member(&self, root: Root, key: Option<&&str>) -> Option<(String, String)> {
        let members = root.members()?;
        self.member(key, &to_set(members), root.name(), no_member(root))
    }

    /// `root.key` when `key` is not among `known`: the message and its hint.
    pub(super) fn member(&self, key: Option<&&str>, known: &BTreeSet<String>, root: &str, why: &str) -> Option<(String, String)> {
        let key = key?;
        if known.contains(*key) {
            return None;
        }
        let hint = match did_you_mean(key, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{root}.{s}`?"),
            None => why.to_owned(),
        };
        Some((format!("unknown variable `{root}.{key}`"), hint))
    }
}

/// `items` as owned strings.
fn to_set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
