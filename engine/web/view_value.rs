//! A step's view as templates read it: objects that answer each name as it
//! is looked up, instead of a copy of the whole view made through serde
//! (which built a map per field and option and then walked the result
//! again to validate it: a sixth of a step page's render). The names and
//! values are the same as the view's serialized form; a test checks it.

use super::fingerprint::keyed_by;
use crate::rehearsal::StepView;
use crate::rehearsal::view::{ErrorView, FieldView, OptionView, TrainItem};
use minijinja::value::{Enumerator, Object, Value};
use std::sync::Arc;

/// The view of a step, for templates (`view`).
pub(super) fn step(mut view: StepView) -> Value {
    // The fields and errors move into their objects (the step's own object
    // answers `fields` and `errors` with these): no copy of their texts.
    let fields = list(std::mem::take(&mut view.fields).into_iter().map(|f| {
        let options = list(f.options.iter().map(|o| Value::from_object(Choice(o.clone()))));
        Value::from_object(Field(f, options))
    }));
    let errors = list(std::mem::take(&mut view.errors).into_iter().map(|e| Value::from_object(Error(e))));
    Value::from_object(Step {
        // Read by the kept `train.html`: keyed by their items.
        train: keyed_by(crate::expr::to_value(&view.train), &view.train),
        train_now: keyed_by_or_none(&view.train_now),
        review: crate::expr::to_value(&view.review),
        document: crate::expr::to_value(&view.document),
        actions: crate::expr::to_value(&view.actions),
        franceconnect: crate::expr::to_value(&view.franceconnect),
        list: crate::expr::to_value(&view.list),
        fields,
        errors,
        view,
    })
}

fn keyed_by_or_none(item: &Option<TrainItem>) -> Value {
    item.as_ref().map_or(Value::from(()), |t| keyed_by(crate::expr::to_value(t), t))
}

fn list(items: impl Iterator<Item = Value>) -> Value {
    Value::from(items.collect::<Vec<_>>())
}

fn text(s: &str) -> Value {
    Value::from(s)
}

fn maybe(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::from(()), Value::from)
}

#[derive(Debug)]
struct Step {
    view: StepView,
    train: Value,
    train_now: Value,
    fields: Value,
    errors: Value,
    review: Value,
    document: Value,
    actions: Value,
    franceconnect: Value,
    list: Value,
}

const STEP_KEYS: &[&str] = &[
    "id",
    "index",
    "kind",
    "title_html",
    "text_html",
    "hint_html",
    "section",
    "train",
    "train_now",
    "fields",
    "errors",
    "button",
    "can_go_back",
    "editing",
    "review",
    "document",
    "wait_for_link",
    "finished",
    "theme",
    "template",
    "reference",
    "actions",
    "franceconnect",
    "list",
];

impl Object for Step {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let v = &self.view;
        Some(match key.as_str()? {
            "id" => text(&v.id),
            "index" => Value::from(v.index),
            "kind" => Value::from(v.kind),
            "title_html" => text(&v.title_html),
            "text_html" => maybe(&v.text_html),
            "hint_html" => maybe(&v.hint_html),
            "section" => maybe(&v.section),
            "train" => self.train.clone(),
            "train_now" => self.train_now.clone(),
            "fields" => self.fields.clone(),
            "errors" => self.errors.clone(),
            "button" => text(&v.button),
            "can_go_back" => Value::from(v.can_go_back),
            "editing" => Value::from(v.editing),
            "review" => self.review.clone(),
            "document" => self.document.clone(),
            "wait_for_link" => Value::from(v.wait_for_link),
            "finished" => Value::from(v.finished),
            "theme" => text(&v.theme),
            "template" => text(&v.template),
            "reference" => text(&v.reference),
            "actions" => self.actions.clone(),
            "franceconnect" => self.franceconnect.clone(),
            "list" => self.list.clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(STEP_KEYS)
    }
}

#[derive(Debug)]
pub(super) struct Field(FieldView, Value);

impl Field {
    /// What the field's markup is made from (see `fragments`).
    pub(super) fn view(&self) -> &FieldView {
        &self.0
    }
}

const FIELD_KEYS: &[&str] = &[
    "name",
    "id",
    "label_html",
    "kind",
    "hint_html",
    "value",
    "options",
    "required",
    "error_html",
    "autocomplete",
    "unit",
    "accept",
    "max_length",
    "inputmode",
    "input_type",
    "grouped",
    "describedby",
];

impl Object for Field {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let f = &self.0;
        Some(match key.as_str()? {
            "name" => text(&f.name),
            "id" => text(&f.id),
            "label_html" => text(&f.label_html),
            "kind" => Value::from(f.kind),
            "hint_html" => maybe(&f.hint_html),
            "value" => text(&f.value),
            "options" => self.1.clone(),
            "required" => Value::from(f.required),
            "error_html" => maybe(&f.error_html),
            "autocomplete" => maybe(&f.autocomplete),
            "unit" => maybe(&f.unit),
            "accept" => text(&f.accept),
            "max_length" => Value::from(f.max_length),
            "inputmode" => f.inputmode.map_or(Value::from(()), Value::from),
            "input_type" => Value::from(f.input_type),
            "grouped" => Value::from(f.grouped),
            "describedby" => maybe(&f.describedby),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(FIELD_KEYS)
    }
}

#[derive(Debug)]
struct Choice(OptionView);

impl Object for Choice {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let o = &self.0;
        Some(match key.as_str()? {
            "value" => text(&o.value),
            "label_html" => text(&o.label_html),
            "hint_html" => maybe(&o.hint_html),
            "checked" => Value::from(o.checked),
            "id" => text(&o.id),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["value", "label_html", "hint_html", "checked", "id"])
    }
}

#[derive(Debug)]
struct Error(ErrorView);

impl Object for Error {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let e = &self.0;
        Some(match key.as_str()? {
            "field" => text(&e.field),
            "id" => text(&e.id),
            "label_html" => text(&e.label_html),
            "message_html" => text(&e.message_html),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["field", "id", "label_html", "message_html"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;
    use crate::rehearsal::{FieldError, Stage};
    use crate::walkthrough;

    /// Every value of every step of the bundled scenarios, read through
    /// the objects, is the value serde gives, name by name (refused
    /// submits included, for the errors).
    #[test]
    fn the_objects_read_as_the_serialized_view() {
        let lib = Library::embedded();
        let mut checked = 0;
        for s in lib.scenarios.values() {
            for test in &s.tests {
                for step in &s.steps {
                    let Some(r) = walkthrough::replay_to(s, test, &step.id) else { continue };
                    let now = walkthrough::clock(s);
                    let persona = r.persona(s, now);
                    let stage = Stage { scenario: s, persona: &persona };
                    let errors: Vec<FieldError> = step
                        .fields
                        .iter()
                        .map(|f| FieldError { field: f.name.clone(), problem: crate::field::Problem::Required, message: "Erreur".into() })
                        .collect();
                    let values = Default::default();
                    for refused in [None, Some((&errors[..], &values))] {
                        let Ok(view) = r.view(stage, now, refused) else { continue };
                        let serialized = crate::expr::to_value(&view);
                        let ours = super::step(view);
                        assert_same(&serialized, &ours, &format!("{}/{}", s.id, step.id));
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} views checked");
    }

    fn assert_same(expected: &Value, ours: &Value, at: &str) {
        match (expected.kind(), ours.kind()) {
            (minijinja::value::ValueKind::Map, minijinja::value::ValueKind::Map) => {
                let keys: Vec<Value> = expected.try_iter().unwrap().collect();
                let our_keys: Vec<Value> = ours.try_iter().unwrap().collect();
                assert_eq!(keys.len(), our_keys.len(), "{at}: the names");
                for k in keys {
                    let name = k.as_str().unwrap();
                    assert_same(&expected.get_attr(name).unwrap(), &ours.get_attr(name).unwrap(), &format!("{at}.{name}"));
                }
            }
            (minijinja::value::ValueKind::Seq, minijinja::value::ValueKind::Seq) => {
                assert_eq!(expected.len(), ours.len(), "{at}: the length");
                for (i, (a, b)) in expected.try_iter().unwrap().zip(ours.try_iter().unwrap()).enumerate() {
                    assert_same(&a, &b, &format!("{at}[{i}]"));
                }
            }
            _ => {
                assert_eq!(expected.kind(), ours.kind(), "{at}: the kind");
                assert_eq!(expected.to_string(), ours.to_string(), "{at}");
            }
        }
    }
}
