//! Runs the walkthrough tests written in scenario files: each one starts a
//! rehearsal, submits the given answers step by step, and checks where it
//! ends. A failure names the test, the step, the field, what was expected
//! and what happened.

use crate::diagnostic::{Diagnostic, Pos};
use crate::persona::{self, Persona};
use crate::rehearsal::{LinkOutcome, Outcome, Rehearsal, Stage};
use crate::scenario::{Scenario, Walkthrough};
use std::collections::BTreeMap;

/// Submits beyond this mean the walkthrough loops.
const MAX_ACTIONS: usize = 1_000;

/// Why a walkthrough failed, and where in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub pos: Pos,
    pub message: String,
}

/// The moment walkthroughs run at: 9 o'clock on the scenario's date, so
/// that dates in texts never change from one run to the next.
pub fn clock(scenario: &Scenario) -> u64 {
    let midnight = scenario.reference_date.midnight().assume_utc().unix_timestamp();
    (midnight + 9 * 3600).max(0) as u64
}

/// The persona a walkthrough plays.
pub fn persona(scenario: &Scenario, test: &Walkthrough) -> Persona {
    persona::generate(&test.pins.apply(&scenario.persona), test.seed)
}

/// Runs every walkthrough of `scenario`; one diagnostic per failure.
pub fn run_all(scenario: &Scenario) -> Vec<Diagnostic> {
    scenario
        .tests
        .iter()
        .filter_map(|t| run(scenario, t).err())
        .map(|f| Diagnostic::error(&scenario.file, f.pos, f.message).with_hint("fix the scenario or the walkthrough's answers"))
        .collect()
}

/// Runs one walkthrough to its end.
pub fn run(scenario: &Scenario, test: &Walkthrough) -> Result<Rehearsal, Failure> {
    walk(scenario, test, None)
}

/// Replays a walkthrough until the rehearsal reaches `step`: a rehearsal
/// that starts there with the earlier answers filled in.
pub fn replay_to(scenario: &Scenario, test: &Walkthrough, step: &str) -> Option<Rehearsal> {
    walk(scenario, test, Some(step)).ok()
}

fn walk(scenario: &Scenario, test: &Walkthrough, stop_at: Option<&str>) -> Result<Rehearsal, Failure> {
    let persona = persona(scenario, test);
    let stage = Stage { scenario, persona: &persona };
    let mut now = clock(scenario);
    let mut r = Rehearsal::start(scenario, test.seed, now);
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    let name = &test.name;
    let fail = |pos: Pos, message: String| Failure { pos, message: format!("walkthrough `{name}`: {message}") };

    for _ in 0..MAX_ACTIONS {
        let step = r.current(scenario);
        if stop_at == Some(step.id.as_str()) {
            return Ok(r);
        }
        let answers = test.attempts(&step.id);
        let done = used.get(step.id.as_str()).copied().unwrap_or(0);
        let attempt = answers.and_then(|a| a.attempts.get(done));
        if step.id == test.ends_at && attempt.is_none() {
            if stop_at.is_some() {
                return Err(fail(test.pos, format!("never reached step `{}`", stop_at.unwrap_or_default())));
            }
            check_expectations(&r, stage, now, test).map_err(|(pos, m)| fail(pos, m))?;
            return Ok(r);
        }
        if r.is_finished(scenario) {
            return Err(fail(
                test.ends_at_pos,
                format!("the rehearsal ended at step `{}`, not at `{}`", step.id, test.ends_at),
            ));
        }
        let Some(attempt) = attempt else {
            if step.wait_for_link {
                return Err(fail(
                    test.pos,
                    format!("step `{}` waits for a link: add `{}: {{ _link: follow }}` to the answers", step.id, step.id),
                ));
            }
            // No answers given: submit the page as it shows, pre-filled.
            let form = page_form(&r, stage, now).map_err(|e| fail(test.pos, format!("scenario error {e}")))?;
            now += 60;
            match r.submit(stage, &form, now) {
                Ok(Outcome::Moved | Outcome::Incident) => continue,
                Ok(other) => {
                    return Err(fail(
                        test.pos,
                        format!("at step `{}`, no answers are given and the page as shown was refused: {}", step.id, describe(&other)),
                    ));
                }
                Err(e) => return Err(fail(test.pos, format!("scenario error {e}"))),
            }
        };
        used.insert(step.id.as_str(), done + 1);
        let last_attempt = answers.is_some_and(|a| done + 1 >= a.attempts.len());

        // Actions first: let time pass, follow a link.
        let ctx = r.context(stage, now);
        let mut given: Vec<(String, String)> = Vec::new();
        let mut follow = false;
        for (field, values, pos) in &attempt.values {
            let mut rendered = Vec::new();
            for v in values {
                rendered.push(v.render_plain(&ctx).map_err(|e| fail(*pos, format!("at step `{}`, the value of `{field}` does not render: {e}", step.id)))?);
            }
            match field.as_str() {
                "_wait_minutes" => {
                    let minutes: u32 = rendered.first().and_then(|m| m.trim().parse().ok()).ok_or_else(|| {
                        fail(*pos, "`_wait_minutes` takes a number of minutes".to_owned())
                    })?;
                    r.wait(minutes);
                }
                "_link" => follow = true,
                _ => given.extend(rendered.into_iter().map(|v| (field.clone(), v))),
            }
        }
        // What the page shows, with the given answers typed over it.
        let mut form = page_form(&r, stage, now).map_err(|e| fail(attempt.pos, format!("scenario error {e}")))?;
        form.retain(|(k, _)| !given.iter().any(|(g, _)| g == k));
        form.extend(given);
        now += 60;
        if follow {
            let index = r.inbox.iter().rposition(|s| {
                crate::rehearsal::inbox::message(scenario, s).is_some_and(|m| m.link.is_some())
            });
            let Some(index) = index else {
                return Err(fail(attempt.pos, format!("at step `{}`, there is no link in the inbox to follow", step.id)));
            };
            match r.follow_link(scenario, index, now) {
                LinkOutcome::Moved | LinkOutcome::Expired => continue,
                other => return Err(fail(attempt.pos, format!("at step `{}`, following the link gave {other:?}", step.id))),
            }
        }
        match r.submit(stage, &form, now) {
            Ok(Outcome::Moved | Outcome::Incident) => {}
            Ok(Outcome::Waiting) => {
                return Err(fail(attempt.pos, format!("step `{}` waits for a link: answer it with `_link: follow`", step.id)));
            }
            Ok(Outcome::Invalid { errors, .. }) if last_attempt => {
                let e = &errors[0];
                let given = form.iter().find(|(k, _)| *k == e.field).map_or("nothing", |(_, v)| v.as_str());
                let pos = attempt.values.iter().find(|(k, _, _)| *k == e.field).map_or(attempt.pos, |(_, _, p)| *p);
                return Err(fail(
                    pos,
                    format!(
                        "at step `{}`, field `{}`: expected the answer `{given}` to be accepted, but the page said «{}»",
                        step.id,
                        e.field,
                        crate::expr::plain(&e.message)
                    ),
                ));
            }
            Ok(Outcome::Invalid { .. }) => {}
            Err(e) => return Err(fail(attempt.pos, format!("scenario error {e}"))),
        }
    }
    Err(fail(test.pos, format!("more than {MAX_ACTIONS} submits: the walkthrough goes round in circles")))
}

/// The values a page would post if submitted as shown: pre-filled values,
/// earlier answers, ticked boxes.
fn page_form(r: &Rehearsal, stage: Stage, now: u64) -> Result<Vec<(String, String)>, crate::rehearsal::ScenarioError> {
    let view = r.view(stage, now, None)?;
    let mut form = Vec::new();
    for f in view.fields {
        if f.options.is_empty() || f.kind == "select" {
            if !f.value.is_empty() {
                form.push((f.name.clone(), f.value.clone()));
            }
        } else {
            form.extend(f.options.iter().filter(|o| o.checked).map(|o| (f.name.clone(), o.value.clone())));
        }
    }
    Ok(form)
}

fn check_expectations(r: &Rehearsal, stage: Stage, now: u64, test: &Walkthrough) -> Result<(), (Pos, String)> {
    let ctx = r.context(stage, now);
    for (expr, expected, pos) in &test.expect {
        let got = expr.eval(&ctx).map_err(|e| (*pos, format!("`{}` fails at the end: {e}", expr.source())))?;
        let got_text = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
        let same = match (got_text.trim().parse::<f64>(), expected.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
            _ => got_text.trim() == expected.trim(),
        };
        if !same {
            return Err((*pos, format!("`{}` is `{got_text}`, expected `{expected}`", expr.source())));
        }
    }
    Ok(())
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Invalid { errors, .. } => {
            errors.iter().map(|e| format!("`{}`: {}", e.field, crate::expr::plain(&e.message))).collect::<Vec<_>>().join("; ")
        }
        Outcome::Waiting => "it waits for a link".into(),
        _ => "?".into(),
    }
}
