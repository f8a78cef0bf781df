//! The card phase: the spec's bounds, its `card:` entries and their
//! conditions, and the card itself, built from the persona values the
//! scenario reads.

use super::*;

/// Persona values that are not identifiers worth a card line.
const CARD_SKIP: &[&str] = &["prenom", "nom", "civilite", "sexe", "age", "adresse", "enfants", "conjoint", "nombre_enfants"];

impl Builder<'_> {
    /// The persona card: the persona values the scenario reads, in order,
    /// then the spec's own `card:` entries.
    pub(super) fn card(&mut self, f: &ScenarioFile) -> Vec<CardItem> {
        let conditions = self.card_conditions(f);
        let mut card: Vec<CardItem> = Vec::new();
        for path in &self.persona_reads {
            let head = path.split('.').next().unwrap_or(path);
            if CARD_SKIP.contains(&head) || card.iter().any(|c| c.path == head) {
                continue;
            }
            // A `card:` entry's label and condition name the value, wherever it shows.
            let at = self.spec.card.iter().position(|(p, _)| p == head);
            let label = at.map_or_else(|| persona::label_of(head), |i| self.spec.card[i].1.clone());
            card.push(CardItem { path: head.to_owned(), label, when: at.and_then(|i| conditions[i].clone()) });
        }
        for (i, (path, label)) in self.spec.card.iter().enumerate() {
            if !card.iter().any(|c| &c.path == path) {
                card.push(CardItem { path: path.clone(), label: label.clone(), when: conditions[i].clone() });
            }
        }
        card
    }

    /// The persona spec's bounds, `card:` paths, `sexe:` and choices.
    pub(super) fn check_persona_spec(&mut self, f: &ScenarioFile) {
        let file = self.file.clone();
        self.out.extend(persona::bounds::check(&file, &f.persona));
        for entry in &f.persona.card {
            let path = entry.field().to_owned();
            let (pos, len) = match &entry.value {
                persona::spec::CardEntry::Labelled(l) => (l.field.pos, l.field.len),
                persona::spec::CardEntry::Field(_) => (entry.pos, entry.len),
            };
            if !self.spec.has_path(&path) {
                self.unknown_persona(&file, pos, len, &path, "");
            }
        }
        if let Some(sexes) = &f.persona.sexe {
            let mut seen = BTreeSet::new();
            for s in sexes {
                if !seen.insert(s.value == Sexe::F) {
                    self.error(&file, s.pos, s.len, "this value is listed twice".into(), None);
                }
            }
        }
        for (name, generator) in f.persona.fields.iter() {
            if let persona::spec::Generator::Choice(options) = &generator.value
                && options.is_empty()
            {
                self.error(
                    &file,
                    generator.pos,
                    generator.len,
                    format!("`{}` has no choices", name.value),
                    Some("list at least one value".into()),
                );
            }
        }
    }

    /// The `if:` of each `card:` entry, compiled: a condition on the
    /// persona alone, since the card shows before any answer.
    fn card_conditions(&mut self, f: &ScenarioFile) -> Vec<Option<Expr>> {
        let file = self.file.clone();
        let mut out = Vec::new();
        for entry in &f.persona.card {
            let when = match &entry.value {
                persona::spec::CardEntry::Labelled(l) => l.when.as_ref(),
                persona::spec::CardEntry::Field(_) => None,
            };
            let Some(when) = when else {
                out.push(None);
                continue;
            };
            let compiled = self.expr(when, &file, &[]);
            if let Some(e) = &compiled {
                for var in e.variables() {
                    if !var.starts_with("persona.") && var != "persona" {
                        let (pos, len) = self.locate(&file, when, &var);
                        self.error(
                            &file,
                            pos,
                            len,
                            format!("a card line's condition reads only the persona, not `{var}`"),
                            Some("the card shows before any answer: test a persona value, such as `persona.conjoint`".into()),
                        );
                    }
                }
            }
            out.push(compiled);
        }
        out
    }

    /// `prefix` is how the path is written where it failed: `persona.` in
    /// expressions, nothing on the card.
    pub(super) fn unknown_persona(&mut self, file: &str, pos: Pos, len: u32, path: &str, prefix: &str) {
        let names = self.spec.field_names();
        let head = path.split('.').next().unwrap_or(path);
        let hint = if names.contains(&head) {
            "this persona value has no such part".to_owned()
        } else {
            match did_you_mean(head, names.iter().copied()) {
                Some(s) => format!("did you mean `{prefix}{s}`?"),
                None => "add it under `persona: fields:`, or see the persona reference".to_owned(),
            }
        };
        self.error(file, pos, len, format!("unknown persona field `{path}`"), Some(hint));
    }
}
