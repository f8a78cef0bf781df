//! What pages show of a scenario (its card and the links of its pages),
//! made once per loaded library: they are the same on every page of it,
//! and making them was a tenth of a step page's render.

use super::Loaded;
use super::fingerprint::constant;
use super::routes::{self, scenario as at};
use crate::scenario::Scenario;
use minijinja::context;
use minijinja::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A scenario's values for the templates.
pub(crate) struct Prepared {
    scenario: Arc<Scenario>,
    value: Value,
    urls: Value,
}

impl Prepared {
    /// Every scenario of the library, by id.
    pub(crate) fn all(loaded: &Loaded) -> HashMap<String, Prepared> {
        loaded
            .library
            .scenarios
            .iter()
            .map(|(id, s)| (id.clone(), Prepared { scenario: s.clone(), value: make_scenario_value(loaded, s), urls: make_urls(s) }))
            .collect()
    }
}

/// The name of an operator as the catalogue shows it: its theme's label.
pub(super) fn operator_label(loaded: &Loaded, operator: &str) -> String {
    match loaded.library.themes.get(operator) {
        Some(theme) => theme.label.clone(),
        None => {
            let mut chars = operator.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

/// What pages show of a scenario; one outside the library's prepared
/// values is made on the spot.
pub(super) fn scenario_value(loaded: &Loaded, s: &Scenario) -> Value {
    match loaded.prepared.get(&s.id) {
        Some(p) if std::ptr::eq(&*p.scenario, s) => p.value.clone(),
        _ => make_scenario_value(loaded, s),
    }
}

/// Links of a rehearsal's pages.
pub(super) fn urls(loaded: &Loaded, s: &Scenario) -> Value {
    match loaded.prepared.get(&s.id) {
        Some(p) if std::ptr::eq(&*p.scenario, s) => p.urls.clone(),
        _ => make_urls(s),
    }
}

fn make_scenario_value(loaded: &Loaded, s: &Scenario) -> Value {
    constant(context! {
        id => s.id.clone(),
        url => routes::scenario(&s.id),
        title => s.title.clone(),
        operator => s.operator.clone(),
        operator_label => operator_label(loaded, &s.operator),
        summary => s.summary.clone(),
        level => s.level.label(),
        duration_minutes => s.duration_minutes,
        valid_as_of => s.valid_as_of.clone(),
        checked_on => s.checked_on(),
        sources => s.sources.clone(),
        real_site => s.real_site.clone(),
    })
}

fn make_urls(s: &Scenario) -> Value {
    let under = |sub| routes::in_scenario(&s.id, sub);
    constant(context! {
        scenario => routes::scenario(&s.id),
        start => under(at::START),
        step => under(at::STEP),
        back => under(at::BACK),
        edit => under(at::EDIT),
        reset => under(at::RESET),
        new_persona => under(at::NEW_PERSONA),
        card => under(at::CARD),
        inbox => under(at::INBOX),
        clock => under(at::CLOCK),
        document => under(at::DOCUMENT),
        handout => routes::as_written(&routes::scenario(&s.id), at::HANDOUT),
        persona_card => routes::as_written(&routes::scenario(&s.id), at::PERSONA_CARD),
    })
}
