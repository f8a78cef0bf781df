//! The expression context as an object: each root answered by its name,
//! the ones that cost words (today's date written out, the reference) made
//! the first time an expression reads them. A page's view and a submit
//! build it each time, and most expressions read only the persona and the
//! answers.

use crate::expr::names::Root;
use minijinja::value::{Enumerator, Object, Value};
use std::sync::OnceLock;

/// The roots' names, in the order of [`Root::ALL`].
const NAMES: [&str; Root::ALL.len()] = {
    let mut names = [""; Root::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Root::ALL[i].name();
        i += 1;
    }
    names
};

#[derive(Debug)]
pub(super) struct Scope {
    pub(super) persona: Value,
    pub(super) answers: Value,
    pub(super) computed: Value,
    pub(super) inbox: Value,
    pub(super) clock: Value,
    pub(super) scenario: Value,
    /// The rehearsal's date, written out when read.
    pub(super) today: time::Date,
    /// The reference's number, written out when read.
    pub(super) reference: u64,
    /// `today` written out, when first read.
    pub(super) today_written: OnceLock<Value>,
    /// `reference` written out, when first read.
    pub(super) reference_written: OnceLock<Value>,
}

impl Object for Scope {
    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        Some(match Root::from_name(key.as_str()?)? {
            Root::Persona => self.persona.clone(),
            Root::Answers => self.answers.clone(),
            Root::Computed => self.computed.clone(),
            Root::Inbox => self.inbox.clone(),
            Root::Clock => self.clock.clone(),
            Root::Scenario => self.scenario.clone(),
            Root::Today => self
                .today_written
                .get_or_init(|| {
                    let today = self.today;
                    minijinja::context! {
                        date => crate::persona::format_date(today),
                        iso => today.to_string(),
                        year => today.year(),
                        month => u8::from(today.month()),
                        day => today.day(),
                    }
                })
                .clone(),
            Root::Reference => self.reference_written.get_or_init(|| Value::from(super::written_reference(self.reference))).clone(),
        })
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> Enumerator {
        Enumerator::Str(&NAMES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The roots written when read are what they were when made eagerly;
    /// the scope spreads into a larger context, as a message's does.
    #[test]
    fn roots_written_when_read_and_spread() {
        let scope = Value::from_object(Scope {
            persona: minijinja::context! { nom => "Martin" },
            answers: Value::from(()),
            computed: Value::from(()),
            inbox: Value::from(()),
            clock: minijinja::context! { minutes => 3 },
            scenario: Value::from(()),
            today: time::macros::date!(2026 - 08 - 01),
            reference: super::super::reference_number(7, "impots/declaration"),
            today_written: OnceLock::new(),
            reference_written: OnceLock::new(),
        });
        let today = scope.get_attr("today").unwrap();
        assert_eq!(today.get_attr("iso").unwrap().as_str(), Some("2026-08-01"));
        assert_eq!(today.get_attr("date").unwrap().to_string(), crate::persona::format_date(time::macros::date!(2026 - 08 - 01)));
        assert_eq!(today.get_attr("month").unwrap().as_i64(), Some(8));
        let reference = scope.get_attr("reference").unwrap();
        assert_eq!(reference.as_str(), Some(super::super::reference(7, "impots/declaration").as_str()));
        assert_eq!(scope.get_attr("reference").unwrap(), reference, "written once");
        let keys: Vec<String> = scope.try_iter().unwrap().map(|k| k.to_string()).collect();
        assert_eq!(keys, NAMES);
        let spread = minijinja::context! { code => "123456", ..scope.clone() };
        assert_eq!(spread.get_attr("code").unwrap().as_str(), Some("123456"));
        assert_eq!(spread.get_attr("persona").unwrap().get_attr("nom").unwrap().as_str(), Some("Martin"));
        assert!(scope.get_attr("personne").unwrap().is_undefined());
    }
}
