//! The names an expression or a text may read: the rehearsal's values
//! ([`Root`]), and those one place adds (an error message's `min`, a sent
//! message's `code`, a theme document's `service`). This is the one list:
//! the checker (`scenario::build`) accepts exactly these names,
//! `tests/expression_names.rs` holds the rehearsal's context to them, and
//! a test of `web::pages` holds the document page's context to
//! [`DOCUMENT_LOCALS`].

/// A value every expression and text may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    /// `persona`: the persona's values.
    Persona,
    /// `answers`: what was typed, by step.
    Answers,
    /// `computed`: the scenario's computed values.
    Computed,
    /// `inbox`: the messages sent.
    Inbox,
    /// `today`: the rehearsal's date.
    Today,
    /// `clock`: the rehearsal's time.
    Clock,
    /// `scenario`: the scenario's own values.
    Scenario,
    /// `reference`: the rehearsal's file reference.
    Reference,
}

impl Root {
    /// Every root, in the order the rehearsal's context gives them.
    pub const ALL: [Root; 8] =
        [Root::Persona, Root::Answers, Root::Computed, Root::Inbox, Root::Today, Root::Clock, Root::Scenario, Root::Reference];

    /// The name an expression reads it by.
    pub const fn name(self) -> &'static str {
        match self {
            Root::Persona => "persona",
            Root::Answers => "answers",
            Root::Computed => "computed",
            Root::Inbox => "inbox",
            Root::Today => "today",
            Root::Clock => "clock",
            Root::Scenario => "scenario",
            Root::Reference => "reference",
        }
    }

    /// The root read as `name`, if any.
    pub fn from_name(name: &str) -> Option<Root> {
        Root::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its members when they are the same in every scenario; `None` when
    /// the scenario decides them (persona values, answers, computed
    /// values) or the value has none (the reference).
    pub const fn members(self) -> Option<&'static [&'static str]> {
        match self {
            Root::Inbox => Some(&["last", "code", "link", "expired", "count", "unread", "messages"]),
            Root::Today => Some(&["date", "iso", "year", "month", "day"]),
            Root::Clock => Some(&["minutes"]),
            Root::Scenario => Some(&["title", "operator"]),
            Root::Persona | Root::Answers | Root::Computed | Root::Reference => None,
        }
    }
}

/// minijinja's global functions, and ours ([`super::add_filters`]).
pub(crate) const FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug", "mois", "lipsum", "cycler", "joiner", "loop"];

/// What a field's error message reads besides the roots.
pub(crate) const FIELD_MESSAGE_LOCALS: &[&str] = &["label", "min", "max", "max_length", "attempts_left", "value"];

/// What a list's "too few" and "too many" messages read besides the roots.
pub(crate) const LIST_MESSAGE_LOCALS: &[&str] = &["min", "max"];

/// What a sent message's subject and body read besides the roots.
pub(crate) const MESSAGE_LOCALS: &[&str] = &["code", "link"];

/// What a theme's document reads besides the roots: the templates' globals
/// (`web::render`) and the document page's own values (`web::pages`).
pub(crate) const DOCUMENT_LOCALS: &[&str] = &[
    "root",
    "routes",
    "document",
    "step_url",
    "urls",
    "scenario_info",
    "service",
    "theme",
    "hints_shown",
    "in_workshop",
    "here",
    "catalogue_url",
    "accessibility_url",
    "hints_url",
];
