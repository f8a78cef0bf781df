//! The walkthroughs phase (`tests:`): each attempt's answers name fields
//! and actions of its step, and its persona pins lie within bounds.

use super::*;

impl Builder<'_> {
    /// A persona trait a walkthrough imposes, within the bounds of the spec's own.
    fn pin(&mut self, pin: &Option<Located<u8>>, what: &str, bound: persona::spec::IntRange, file: &str) -> Option<u8> {
        let pin = pin.as_ref()?;
        if !(bound.min..=bound.max).contains(&i64::from(pin.value)) {
            self.error(file, pin.pos, pin.len, format!("`{what}` must lie within {bound}; got {}", pin.value), None);
        }
        Some(pin.value)
    }

    /// `_action: <key>` names one of the step's actions, and types nothing.
    fn check_test_action(
        &mut self,
        step: &Step,
        texts: &[String],
        values: &crate::yaml::Pairs<Located<AnswerFile>>,
        at: &Located<AnswerFile>,
        file: &str,
    ) {
        let keys: Vec<&str> = step.actions.iter().map(|a| a.key.as_str()).collect();
        let given = texts.first().map(String::as_str).unwrap_or_default();
        if texts.len() != 1 || !keys.contains(&given) {
            let hint = match did_you_mean(given, keys.iter().copied()) {
                Some(k) => format!("did you mean `{k}`?"),
                None if keys.is_empty() => "add `actions:` to the step".to_owned(),
                None => format!("its actions are: {}", keys.join(", ")),
            };
            self.error(file, at.pos, at.len, format!("step `{}` has no action `{given}`", step.id), Some(hint));
        }
        if let Some((typed, _)) = values.iter().find(|(k, _)| k.value != ACTION && k.value != "_wait_minutes") {
            let hint = Some("an action leaves the page without sending the form: give the answers in another attempt".into());
            self.error(file, typed.pos, typed.len, format!("`{}` is typed along with `_action`", typed.value), hint);
        }
    }

    /// The walkthroughs (`tests:`): answers that name fields and actions of
    /// their step, the end step, the expected values.
    pub(super) fn tests(&mut self, f: &ScenarioFile, steps: &[Step]) -> Vec<Walkthrough> {
        let file = self.file.clone();
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        if let Some(extra) = f.tests.get(MAX_TESTS) {
            let message = format!("too many walkthroughs ({}; at most {MAX_TESTS})", f.tests.len());
            self.error(&file, extra.pos, 1, message, Some("each one replays the procedure at every check".into()));
            return out;
        }
        for t in &f.tests {
            let t_pos = t.pos;
            let t = &t.value;
            if !names.insert(t.name.value.clone()) {
                self.error(&file, t.name.pos, t.name.len, format!("duplicate test name `{}`", t.name.value), None);
            }
            let mut answers = Vec::new();
            for (step_id, attempts) in t.answers.iter() {
                let Some(step_index) = self.resolve(step_id, &file) else { continue };
                let step = &steps[step_index];
                let list: Vec<(Pos, &crate::yaml::Pairs<Located<AnswerFile>>)> = match &attempts.value {
                    AttemptsFile::One(one) => vec![(attempts.pos, one)],
                    AttemptsFile::Many(many) => many.iter().map(|a| (a.pos, &a.value)).collect(),
                };
                let mut converted = Vec::new();
                for (pos, values) in list {
                    let mut fields = Vec::new();
                    for (name, value) in values.iter() {
                        let is_list_action = LIST_ACTION_KEYS.contains(&name.value.as_str());
                        if is_list_action && step.repeat.is_none() {
                            self.error(
                                &file,
                                name.pos,
                                name.len,
                                format!("`{}` applies to a step with `repeat`; step `{}` has none", name.value, step.id),
                                None,
                            );
                            continue;
                        }
                        let is_action = is_list_action || ACTION_KEYS.contains(&name.value.as_str());
                        if !is_action && !step.fields.iter().any(|fl| fl.name == name.value) {
                            let names: Vec<&str> = step.fields.iter().map(|fl| fl.name.as_str()).collect();
                            let hint = match did_you_mean(&name.value, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None if names.is_empty() => "this step has no fields".to_owned(),
                                None => format!("its fields are: {}", names.join(", ")),
                            };
                            self.error(&file, name.pos, name.len, format!("step `{}` has no field `{}`", step.id, name.value), Some(hint));
                            continue;
                        }
                        let texts = match &value.value {
                            AnswerFile::Text(s) => vec![s.clone()],
                            AnswerFile::List(items) => items.clone(),
                        };
                        if name.value == ACTION {
                            self.check_test_action(step, &texts, values, value, &file);
                        }
                        let compiled = texts
                            .iter()
                            .map(|s| self.text(&Located { value: s.clone(), pos: value.pos, len: value.len }, &file, &[]))
                            .collect();
                        fields.push((name.value.clone(), compiled, value.pos));
                    }
                    converted.push(Attempt { pos, values: fields });
                }
                answers.push(StepAnswers { step: step_id.value.clone(), pos: step_id.pos, attempts: converted });
            }
            self.resolve(&t.ends_at, &file);
            // The expected value is a template, as answers are: a literal
            // (`"1111"`) or computed from the persona (`"{{ persona.salaires + 1000 }}"`).
            let expect =
                t.expect.iter().filter_map(|(e, v)| self.expr(e, &file, &[]).map(|x| (x, self.text(v, &file, &[]), e.pos))).collect();
            out.push(Walkthrough {
                name: t.name.value.clone(),
                pos: t_pos,
                seed: t.seed.unwrap_or(1),
                pins: Pins {
                    situation: t.persona.situation_familiale,
                    sexe: t.persona.sexe.map(|s| if s == Sexe::F { 'F' } else { 'M' }),
                    enfants: self.pin(&t.persona.enfants, "enfants", persona::bounds::CHILDREN, &file),
                    age: self.pin(&t.persona.age, "age", persona::bounds::AGE, &file),
                    statut: t.persona.statut,
                },
                answers,
                ends_at: t.ends_at.value.clone(),
                ends_at_pos: t.ends_at.pos,
                expect,
            });
        }
        out
    }
}
