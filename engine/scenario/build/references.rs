//! The references phase: a step id, a goto (with `$return` in a group) or a
//! theme name must name something that exists.

use super::*;

impl Builder<'_> {
    pub(super) fn check_theme(&mut self, theme: &Located<String>, file: &str) {
        if !self.world.themes.has(&theme.value) {
            let names: Vec<&str> = self.world.themes.names().collect();
            let hint = match did_you_mean(&theme.value, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known themes: {}", names.join(", ")),
            };
            self.error(file, theme.pos, theme.len, format!("no theme `{}`", theme.value), Some(hint));
        }
    }

    /// A step id to its index, or an error that says which ids exist.
    pub(super) fn resolve(&mut self, target: &Located<String>, file: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(&target.value) {
            return Some(i);
        }
        let known: Vec<&str> = self.index.keys().map(String::as_str).filter(|k| !k.starts_with('$')).collect();
        let hint = match did_you_mean(&target.value, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("steps are: {}", known.join(", ")),
        };
        self.unresolved = true;
        self.error(file, target.pos, target.len, format!("no step `{}`", target.value), Some(hint));
        None
    }

    /// Resolves a goto written in a step, where `$return` leaves a group.
    pub(super) fn goto(&mut self, target: &Located<String>, raw: &RawStep) -> Option<usize> {
        if target.value == RETURN {
            return match raw.then {
                Some(then) => self.index.get(&then.value).copied(),
                None => {
                    self.error(
                        &raw.file,
                        target.pos,
                        target.len,
                        "`$return` is only allowed in a step group".into(),
                        Some("name the step to go to".into()),
                    );
                    None
                }
            };
        }
        if raw.then.is_some() && !self.index.contains_key(&target.value) {
            // In a group, suggest `$return` too.
            let mut known: Vec<&str> = self.index.keys().map(String::as_str).filter(|k| !k.starts_with('$')).collect();
            known.push(RETURN);
            let hint = match did_you_mean(&target.value, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("steps are: {}", known.join(", ")),
            };
            self.unresolved = true;
            self.error(&raw.file, target.pos, target.len, format!("no step `{}`", target.value), Some(hint));
            return None;
        }
        self.resolve(target, &raw.file)
    }
}
