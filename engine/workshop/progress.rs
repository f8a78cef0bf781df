//! Where a learner stands in a scenario, as a trainer's dashboard shows it.

use super::Progress;
use crate::persona::Persona;
use crate::rehearsal::{Rehearsal, Stage};
use crate::scenario::{Scenario, Step, StepKind};
use minijinja::context;
use minijinja::value::Value;

/// Where a learner is, at `at` (seconds since the epoch).
pub(crate) fn progress(s: &Scenario, r: &Rehearsal, at: u64) -> Progress {
    let step = r.current(s);
    let persona = r.persona(s, at);
    let ctx = r.context(Stage { scenario: s, persona: &persona }, at);
    let (step_number, steps_total) = position(s, r);
    Progress {
        scenario: s.id.clone(),
        step: step.id.clone(),
        step_title: room_title(step, &ctx, &persona),
        step_number,
        steps_total,
        since: at,
        finished: r.is_finished(s),
    }
}

/// "Étape 2 sur 5" as the learner's progress train says it: the step's
/// section among the scenario's sections (a step without one counts as the
/// last section the learner went through; 0 before any). A scenario
/// without sections counts its steps, incidents aside.
fn position(s: &Scenario, r: &Rehearsal) -> (usize, usize) {
    let step = r.current(s);
    let sections = s.sections();
    if sections.is_empty() {
        let counted: Vec<&str> = s.steps.iter().filter(|x| x.kind != StepKind::Incident).map(|x| x.id.as_str()).collect();
        return (counted.iter().position(|id| *id == step.id).map_or(0, |i| i + 1), counted.len());
    }
    let section = step
        .section
        .as_deref()
        .or_else(|| r.history.iter().rev().find_map(|i| s.steps.get(usize::from(*i)).and_then(|x| x.section.as_deref())));
    (section.and_then(|x| sections.iter().position(|y| *y == x)).map_or(0, |i| i + 1), sections.len())
}

/// A step's title as a whole room may see it: one that reads persona
/// values shows placeholders instead ("Bonjour (prénom) (nom)"), never one
/// learner's name; a title that cannot be written so gives its section.
pub(crate) fn room_title(step: &Step, ctx: &Value, persona: &Persona) -> String {
    let fallback = || step.section.clone().unwrap_or_else(|| step.id.clone());
    if !step.title.variables().iter().any(|v| v == "persona" || v.starts_with("persona.")) {
        return step.title.render_plain(ctx).unwrap_or_else(|_| fallback());
    }
    let neutral = context! { persona => persona.placeholders(), ..ctx.clone() };
    step.title.render_plain(&neutral).unwrap_or_else(|_| fallback())
}
