//! The documents phase: the values a theme's document template reads must
//! exist in the scenario that prints it.

use super::expressions::unknown_root;
use super::*;

impl Builder<'_> {
    /// A theme document reads the rehearsal's values: each one must exist
    /// in this scenario, or the printed document would show an empty
    /// " €" where an amount should be. Reported in the document's file, at
    /// the line that reads it, naming the scenario.
    pub(super) fn check_document(&mut self, theme: &str, path: &str, step: &str) {
        let (Some(source), Some(doc_file)) = (self.world.themes.template(theme, path), self.world.themes.template_file(theme, path)) else {
            return;
        };
        let mut env = minijinja::Environment::new();
        crate::expr::add_filters(&mut env);
        let Ok(template) = env.template_from_str(source) else { return };
        let vars: BTreeSet<String> = template.undeclared_variables(true).into_iter().collect();
        let (source, doc_file) = (source.to_owned(), doc_file.to_owned());
        let used_by = format!("document of step `{step}` in {}", self.file);
        let guards = super::document::guarded(&source);
        for var in &vars {
            let Some((message, hint)) = self.document_problem(var) else { continue };
            // Reads inside `{% if x is defined %}` count only where `x` exists.
            let unguarded = super::document::places(&source, var).into_iter().find(|at| {
                !guards.iter().any(|(range, tested)| range.contains(at) && tested.iter().any(|t| self.document_problem(t).is_some()))
            });
            let Some(at) = unguarded else { continue };
            let pos = super::document::position(&source, at);
            let len = var.chars().count() as u32;
            self.error(&doc_file, pos, len, format!("{message} ({used_by})"), Some(hint));
        }
    }

    /// What is wrong with a value a document reads, if anything.
    fn document_problem(&self, var: &str) -> Option<(String, String)> {
        let mut parts = var.split('.');
        let root = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        match Root::from_name(root) {
            Some(Root::Persona) => {
                rest.first()?;
                let path = rest.iter().take(2).copied().collect::<Vec<_>>().join(".");
                (!self.spec.has_path(&path)).then(|| (format!("unknown persona field `{path}`"), "see the persona reference".to_owned()))
            }
            Some(Root::Answers) => self.member(rest.first(), &self.fields, "answers", "no field of the scenario is named so"),
            Some(Root::Computed) => self.member(rest.first(), &self.computed, "computed", "no step of the scenario computes it"),
            Some(fixed) => self.fixed_member(fixed, rest.first()),
            None if DOCUMENT_LOCALS.contains(&root) || FUNCTIONS.contains(&root) => None,
            None => Some(unknown_root(root, DOCUMENT_LOCALS, "a document")),
        }
    }
}
