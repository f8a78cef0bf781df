//! The index phase, before any step is built: step ids, field and list
//! names, computed names, so that gotos and expressions may point forward.

use super::*;

impl Builder<'_> {
    /// Indexes every step's id, field names and computed names.
    pub(super) fn index(&mut self, raw: &[RawStep]) {
        // Ids first, so that gotos can point forward.
        let mut first_seen: BTreeMap<String, Pos> = BTreeMap::new();
        for (i, r) in raw.iter().enumerate() {
            let id = &r.step.id;
            if let Some(first) = first_seen.get(&id.value) {
                let message = format!("duplicate step id `{}` (first used at line {})", id.value, first.line);
                self.error(&r.file, id.pos, id.len, message, Some("give each step its own id".into()));
                continue;
            }
            if id.value.is_empty() || (id.value.starts_with('$') && id.value != "$fin") {
                self.error(
                    &r.file,
                    id.pos,
                    id.len,
                    format!("`{}` is not a valid step id", id.value),
                    Some("use letters, digits and dashes".into()),
                );
            }
            first_seen.insert(id.value.clone(), id.pos);
            self.index.insert(id.value.clone(), i);
        }
        // Field and computed names next, so that expressions can read any.
        let mut field_seen: BTreeMap<String, Pos> = BTreeMap::new();
        for r in raw {
            if let Some(repeat) = &r.step.repeat {
                // An item's fields are read through the list, as
                // `answers.<list>[0].<field>`: their names are the list's own.
                let mut own: BTreeMap<String, Pos> = BTreeMap::new();
                for f in &r.step.fields {
                    self.name_once(&r.file, &f.name, &mut own, "field", "each field of an item needs its own name");
                }
                let name = &repeat.name;
                self.name_once(&r.file, name, &mut field_seen, "list", "a list is read as `answers.<name>`, as a field");
                self.fields.insert(name.value.clone());
                self.groups.insert(name.value.clone(), own.into_keys().collect());
                for (name, _) in r.step.compute.iter() {
                    if !self.computed.insert(name.value.clone()) {
                        self.error(&r.file, name.pos, name.len, format!("duplicate computed value `{}`", name.value), None);
                    }
                }
                continue;
            }
            for f in &r.step.fields {
                let name = &f.name;
                self.name_once(&r.file, name, &mut field_seen, "field", "answers are read by name: give each field its own");
                self.fields.insert(name.value.clone());
                self.field_kinds.entry(name.value.clone()).or_insert(f.kind.value);
            }
            // The same name may be computed on several steps: branches that
            // rejoin each set `computed.montant`, and the steps after read it.
            for (name, _) in r.step.compute.iter() {
                self.computed.insert(name.value.clone());
            }
        }
    }
}

impl Builder<'_> {
    /// Records a field or list name among those already `seen` where it
    /// must be unique, or reports it: taken already (`taken` says why names
    /// must differ there), or not a valid `what` name ("field", "list").
    fn name_once(&mut self, file: &str, name: &Located<String>, seen: &mut BTreeMap<String, Pos>, what: &str, taken: &str) {
        if let Some(first) = seen.get(&name.value) {
            let message = format!("duplicate field name `{}` (first used at line {})", name.value, first.line);
            self.error(file, name.pos, name.len, message, Some(taken.into()));
        } else if !valid_name(&name.value) {
            self.error(
                file,
                name.pos,
                name.len,
                format!("`{}` is not a valid {what} name", name.value),
                Some("use letters, digits, `_` and `-`, not starting with `_`".into()),
            );
        }
        seen.insert(name.value.clone(), name.pos);
    }
}

/// A field or list name: letters, digits, `_` and `-`, not starting with `_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
