//! Runs the walkthrough tests written in scenario files: each one starts a
//! rehearsal, submits the given answers step by step, and checks where it
//! ends. A failure names the test, the step, the field, what was expected
//! and what happened.
//!
//! The decisions ("at this step, type this") live in a [`Script`], so that
//! the same walkthrough can drive the engine directly, a server over HTTP,
//! or a real browser.

use crate::diagnostic::{Diagnostic, Pos};
use crate::persona::Persona;
use crate::rehearsal::{LIST_ACTION, LinkOutcome, Outcome, Rehearsal, ScenarioError, Stage};
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
pub(crate) fn persona(scenario: &Scenario, test: &Walkthrough) -> std::sync::Arc<Persona> {
    scenario.persona_of(test.seed, scenario.tests.iter().position(|t| t.name == test.name))
}

/// A rehearsal started as walkthrough `index` starts it: its seed, its
/// persona traits.
pub fn start(scenario: &Scenario, index: usize, now: u64) -> Rehearsal {
    let test = &scenario.tests[index];
    let mut r = Rehearsal::start(scenario, test.seed, now);
    r.pinned = Some(index as u8);
    r
}

/// One thing a walkthrough does at a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Let this many minutes pass first.
    Wait(u32),
    /// Follow the link of inbox message `index`.
    FollowLink(usize),
    /// Take the step's action of this key (post `_action`), leaving the
    /// form unsent.
    Act(String),
    /// Submit the page with these values (the page as shown, with the
    /// walkthrough's answers typed over it).
    Submit(Vec<(String, String)>),
}

/// What to do at the current step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The walkthrough is over, where it should end.
    Done,
    /// Do these, in order.
    Moves(Vec<Move>),
}

/// A walkthrough being played: it remembers how many attempts of each step
/// were used.
pub struct Script<'a> {
    /// The scenario walked through.
    pub scenario: &'a Scenario,
    /// The walkthrough followed.
    pub test: &'a Walkthrough,
    used: BTreeMap<String, usize>,
    last_attempt: bool,
    attempt_pos: Pos,
    /// Played for someone else's persona (a handout, a learner moved to a
    /// step): see [`Script::for_persona`].
    for_persona: bool,
}

impl<'a> Script<'a> {
    /// A script that follows `test` through `scenario`.
    pub fn new(scenario: &'a Scenario, test: &'a Walkthrough) -> Script<'a> {
        Script { scenario, test, used: BTreeMap::new(), last_attempt: true, attempt_pos: test.pos, for_persona: false }
    }

    /// The script played for a persona the walkthrough was not written for:
    /// where a page pre-fills a value from the persona, a fixed answer of
    /// the walkthrough (`1AJ: "24000"`, test data) gives way to it, so that
    /// a handout or a moved learner types what the persona card says.
    /// Answers written as templates (`{{ persona.salaires }}`) are already
    /// the persona's.
    pub fn for_persona(mut self) -> Script<'a> {
        self.for_persona = true;
        self
    }

    fn fail(&self, pos: Pos, message: String) -> Failure {
        Failure { pos, message: format!("walkthrough `{}`: {message}", self.test.name) }
    }

    /// Whether the submit just decided was the last attempt given for its
    /// step: a refusal then fails the walkthrough.
    pub fn was_last_attempt(&self) -> bool {
        self.last_attempt
    }

    /// What to do at the current step of `r`.
    pub fn next(&mut self, r: &Rehearsal, persona: &Persona, now: u64) -> Result<Next, Failure> {
        let scenario = self.scenario;
        let stage = Stage { scenario, persona };
        let step = r.current(scenario);
        let answers = self.test.attempts(&step.id);
        let done = self.used.get(&step.id).copied().unwrap_or(0);
        let attempt = answers.and_then(|a| a.attempts.get(done));
        if step.id == self.test.ends_at && attempt.is_none() {
            self.all_used()?;
            return Ok(Next::Done);
        }
        if r.is_finished(scenario) {
            return Err(
                self.fail(self.test.ends_at_pos, format!("the rehearsal ended at step `{}`, not at `{}`", step.id, self.test.ends_at))
            );
        }
        let test = self.test;
        let scenario_error =
            |e: ScenarioError| Failure { pos: test.pos, message: format!("walkthrough `{}`: scenario error {e}", test.name) };
        let Some(attempt) = attempt else {
            if step.wait_for_link {
                return Err(self.fail(
                    self.test.pos,
                    format!("step `{}` waits for a link: add `{}: {{ _link: follow }}` to the answers", step.id, step.id),
                ));
            }
            // No answers given: submit the page as it shows, pre-filled.
            self.last_attempt = true;
            self.attempt_pos = self.test.pos;
            let form = page_form(r, stage, now).map_err(scenario_error)?;
            return Ok(Next::Moves(vec![Move::Submit(form)]));
        };
        self.used.insert(step.id.clone(), done + 1);
        self.last_attempt = answers.is_some_and(|a| done + 1 >= a.attempts.len());
        self.attempt_pos = attempt.pos;

        let ctx = r.context(stage, now);
        let mut moves = Vec::new();
        let mut given: Vec<(String, String)> = Vec::new();
        let mut follow = false;
        let mut action = None;
        for (field, values, pos) in &attempt.values {
            let mut rendered = Vec::new();
            for v in values {
                let text = v
                    .render_plain(&ctx)
                    .map_err(|e| self.fail(*pos, format!("at step `{}`, the value of `{field}` does not render: {e}", step.id)))?;
                rendered.push(text);
            }
            match field.as_str() {
                "_wait_minutes" => {
                    let minutes: u32 = rendered
                        .first()
                        .and_then(|m| m.trim().parse().ok())
                        .ok_or_else(|| self.fail(*pos, "`_wait_minutes` takes a number of minutes".to_owned()))?;
                    moves.push(Move::Wait(minutes));
                }
                "_link" => follow = true,
                "_action" => action = rendered.into_iter().next(),
                _ => given.extend(rendered.into_iter().map(|v| (field.clone(), v))),
            }
        }
        if let Some(key) = action {
            moves.push(Move::Act(key));
            return Ok(Next::Moves(moves));
        }
        if follow {
            let index = r.inbox.iter().rposition(|s| crate::rehearsal::inbox::message(scenario, s).is_some_and(|m| m.link.is_some()));
            let Some(index) = index else {
                return Err(self.fail(attempt.pos, format!("at step `{}`, there is no link in the inbox to follow", step.id)));
            };
            moves.push(Move::FollowLink(index));
            return Ok(Next::Moves(moves));
        }
        if let Some(repeat) = &step.repeat {
            moves.extend(self.list_moves(r, stage, now, &given, repeat.name.as_str(), attempt.pos).map_err(|e| match e {
                ListError::Scenario(e) => scenario_error(e),
                ListError::Failure(f) => f,
            })?);
            return Ok(Next::Moves(moves));
        }
        // What the page shows, with the given answers typed over it.
        let mut form = page_form(r, stage, now).map_err(scenario_error)?;
        if self.for_persona {
            let fixed = |name: &str| attempt.values.iter().any(|(f, values, _)| f == name && values.iter().all(|v| v.is_static()));
            let from_persona = |name: &str| {
                step.fields.iter().any(|f| f.name == name && f.prefill.as_ref().is_some_and(|p| p.source().contains("persona")))
            };
            let prefilled = |name: &str| form.iter().any(|(k, v)| k == name && !v.is_empty());
            given.retain(|(name, _)| !(fixed(name) && from_persona(name) && prefilled(name)));
        }
        form.retain(|(k, _)| !given.iter().any(|(g, _)| g == k));
        form.extend(given);
        moves.push(Move::Submit(form));
        Ok(Next::Moves(moves))
    }

    /// The submits of one attempt on a list's step: add an item (open its
    /// form, fill it, save), change item N (`_edit: N`), remove item N
    /// (`_remove: N`), or press "Continuer" (`_continue`).
    fn list_moves(
        &self,
        r: &Rehearsal,
        stage: Stage,
        now: u64,
        given: &[(String, String)],
        list: &str,
        pos: Pos,
    ) -> Result<Vec<Move>, ListError> {
        let action = |a: String| (LIST_ACTION.to_owned(), a);
        let number = |key: &str| -> Result<Option<usize>, ListError> {
            match given.iter().find(|(k, _)| k == key) {
                None => Ok(None),
                Some((_, v)) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .map(Some)
                    .ok_or_else(|| ListError::Failure(self.fail(pos, format!("`{key}` takes an item number, from 1; got `{v}`")))),
            }
        };
        let fields: Vec<(String, String)> = given.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect();
        if given.iter().any(|(k, _)| k == "_continue") {
            return Ok(vec![Move::Submit(vec![action("continuer".into())])]);
        }
        if let Some(n) = number("_remove")? {
            return Ok(vec![Move::Submit(vec![action(format!("supprimer-{n}"))])]);
        }
        let step = r.current(stage.scenario);
        let items = r.list_items(stage, step, now).map_err(ListError::Scenario)?;
        let mut moves = Vec::new();
        let mut form: Vec<(String, String)> = Vec::new();
        match (number("_edit")?, r.open_item) {
            // A form still open after a refused attempt: type over it.
            (_, Some(open)) => {
                if let Some(item) = items.get(usize::from(open.index)) {
                    form.extend(item.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            (Some(n), None) => {
                let Some(item) = items.get(n - 1) else {
                    return Err(ListError::Failure(self.fail(pos, format!("`_edit: {n}`: the list `{list}` has {} item(s)", items.len()))));
                };
                moves.push(Move::Submit(vec![action(format!("modifier-{n}"))]));
                form.extend(item.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            (None, None) => moves.push(Move::Submit(vec![action("ajouter".into())])),
        }
        form.retain(|(k, _)| !fields.iter().any(|(g, _)| g == k));
        form.extend(fields);
        form.push(action("enregistrer".into()));
        moves.push(Move::Submit(form));
        Ok(moves)
    }

    /// At the end, every answer given must have been played: a walkthrough
    /// whose later steps are never reached proves nothing about them.
    fn all_used(&self) -> Result<(), Failure> {
        let unused: Vec<(&crate::scenario::StepAnswers, usize)> = self
            .test
            .answers
            .iter()
            .map(|a| (a, self.used.get(&a.step).copied().unwrap_or(0)))
            .filter(|(a, used)| *used < a.attempts.len())
            .collect();
        let Some((first, _)) = unused.first() else { return Ok(()) };
        let names: Vec<String> = unused
            .iter()
            .map(|(a, used)| match used {
                0 => format!("`{}`", a.step),
                n => format!("`{}` ({n} of {} attempts played)", a.step, a.attempts.len()),
            })
            .collect();
        let what = if names.len() == 1 { "step" } else { "steps" };
        Err(self.fail(
            first.pos,
            format!("the rehearsal reached `{}` without playing the answers given for {what} {}", self.test.ends_at, names.join(", ")),
        ))
    }

    /// Checks what a submit gave, as decided by the last call to [`next`](Self::next).
    pub fn check(&self, step: &str, form: &[(String, String)], outcome: &Outcome) -> Result<(), Failure> {
        match outcome {
            Outcome::Moved | Outcome::Incident | Outcome::Listed(_) => Ok(()),
            Outcome::UnknownAction => Err(self.fail(self.attempt_pos, format!("step `{step}` has no such action"))),
            Outcome::Waiting => Err(self.fail(self.attempt_pos, format!("step `{step}` waits for a link: answer it with `_link: follow`"))),
            Outcome::Invalid { .. } if !self.last_attempt => Ok(()),
            Outcome::Invalid { errors, .. } => {
                let e = &errors[0];
                let list = self.scenario.step_index(step).and_then(|i| self.scenario.steps[i].repeat.as_ref());
                if list.is_some_and(|l| l.name == e.field) {
                    return Err(self.fail(
                        self.attempt_pos,
                        format!("at step `{step}`, the list `{}` refused the attempt: «{}»", e.field, crate::expr::plain(&e.message)),
                    ));
                }
                let given = form.iter().find(|(k, _)| *k == e.field).map_or("nothing", |(_, v)| v.as_str());
                let pos = self
                    .test
                    .attempts(step)
                    .and_then(|a| a.attempts.iter().flat_map(|at| &at.values).find(|(k, _, _)| *k == e.field))
                    .map_or(self.attempt_pos, |(_, _, p)| *p);
                Err(self.fail(
                    pos,
                    format!(
                        "at step `{step}`, field `{}`: expected the answer `{given}` to be accepted, but the page said «{}»",
                        e.field,
                        crate::expr::plain(&e.message)
                    ),
                ))
            }
        }
    }

    /// Checks the test's `expect:` lines at the end.
    pub fn check_end(&self, r: &Rehearsal, persona: &Persona, now: u64) -> Result<(), Failure> {
        let ctx = r.context(Stage { scenario: self.scenario, persona }, now);
        for (expr, expected, pos) in &self.test.expect {
            let got = expr.eval(&ctx).map_err(|e| self.fail(*pos, format!("`{}` fails at the end: {e}", expr.source())))?;
            let expected = expected
                .render_plain(&ctx)
                .map_err(|e| self.fail(*pos, format!("the value expected for `{}` does not render: {e}", expr.source())))?;
            let expected = expected.as_str();
            let got_text = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
            let same = match (got_text.trim().parse::<f64>(), expected.trim().parse::<f64>()) {
                (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
                _ => got_text.trim() == expected.trim(),
            };
            if !same {
                return Err(self.fail(*pos, format!("`{}` is `{got_text}`, expected `{expected}`", expr.source())));
            }
        }
        Ok(())
    }
}

/// Runs every walkthrough of `scenario`; one diagnostic per failure.
pub(crate) fn run_all(scenario: &Scenario) -> Vec<Diagnostic> {
    scenario
        .tests
        .iter()
        .filter_map(|t| run(scenario, t).err())
        .map(|f| Diagnostic::error(&scenario.file, f.pos, f.message).with_hint("fix the scenario or the walkthrough's answers"))
        .collect()
}

/// Runs one walkthrough to its end.
pub fn run(scenario: &Scenario, test: &Walkthrough) -> Result<Rehearsal, Failure> {
    let index = index_of(scenario, test);
    walk(scenario, index, As::Itself, false, None, &mut |_, _, _, _| {})
}

/// Replays a walkthrough until the rehearsal reaches `step`: a rehearsal
/// that starts there with the earlier answers filled in.
pub fn replay_to(scenario: &Scenario, test: &Walkthrough, step: &str) -> Option<Rehearsal> {
    walk(scenario, index_of(scenario, test), As::Itself, false, Some(step), &mut |_, _, _, _| {}).ok()
}

/// Whose persona a replay plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum As {
    /// The walkthrough's own seed and traits.
    Itself,
    /// Another seed, with the walkthrough's traits (same name, same
    /// identifiers: each value has its own stream).
    Seed(u64),
    /// Another seed, exactly as a visitor of that seed has it.
    Exactly(u64),
}

/// Brings a rehearsal to `step` with the answers of some walkthrough, as
/// the persona of `seed` exactly: never with a walkthrough's traits (a
/// single person is not made married to reach "Déclarant 2"). `None` when
/// this persona's path does not pass there.
pub fn reach(scenario: &Scenario, seed: u64, step: &str) -> Option<Rehearsal> {
    // The first step needs no answers, hence no walkthrough.
    if scenario.steps[scenario.start].id == step {
        return Some(Rehearsal::start(scenario, seed, clock(scenario)));
    }
    (0..scenario.tests.len()).find_map(|i| walk(scenario, i, As::Exactly(seed), true, Some(step), &mut |_, _, _, _| {}).ok())
}

/// For an author's "Commencer ici": brings a rehearsal to `step` as the
/// persona of `seed` if a walkthrough allows it, else with a walkthrough's
/// traits, else as a walkthrough's own persona. Never for a learner, whose
/// persona must not change ([`reach`]).
pub(crate) fn reach_with_traits(scenario: &Scenario, seed: u64, step: &str) -> Option<Rehearsal> {
    if let Some(r) = reach(scenario, seed, step) {
        return Some(r);
    }
    let n = scenario.tests.len();
    let tries = (0..n).map(|i| (i, As::Seed(seed))).chain((0..n).map(|i| (i, As::Itself)));
    tries.into_iter().find_map(|(i, who)| walk(scenario, i, who, false, Some(step), &mut |_, _, _, _| {}).ok())
}

/// Plays walkthrough `index` to its end, calling `observe` before each move
/// with the rehearsal as it is then.
pub(crate) fn observe(
    scenario: &Scenario,
    index: usize,
    who: As,
    observe: &mut dyn FnMut(&Rehearsal, Stage, u64, &Move),
) -> Result<Rehearsal, Failure> {
    walk(scenario, index, who, false, None, observe)
}

/// [`observe`], played for the persona of `who` ([`Script::for_persona`]):
/// its pre-filled values over the walkthrough's fixed ones, and the
/// walkthrough's `expect:` left unchecked, since they hold for the
/// walkthrough's own numbers.
pub(crate) fn observe_for_persona(
    scenario: &Scenario,
    index: usize,
    who: As,
    observe: &mut dyn FnMut(&Rehearsal, Stage, u64, &Move),
) -> Result<Rehearsal, Failure> {
    walk(scenario, index, who, true, None, observe)
}

fn index_of(scenario: &Scenario, test: &Walkthrough) -> usize {
    scenario.tests.iter().position(|t| t.name == test.name).unwrap_or(0)
}

fn walk(
    scenario: &Scenario,
    index: usize,
    who: As,
    for_persona: bool,
    stop_at: Option<&str>,
    observe: &mut dyn FnMut(&Rehearsal, Stage, u64, &Move),
) -> Result<Rehearsal, Failure> {
    let test = &scenario.tests[index];
    let mut now = clock(scenario);
    let mut r = start(scenario, index, now);
    match who {
        As::Itself => {}
        As::Seed(seed) => r.seed = seed,
        As::Exactly(seed) => {
            r.seed = seed;
            r.pinned = None;
        }
    }
    let persona = r.persona(scenario, now);
    let stage = Stage { scenario, persona: &persona };
    let mut script = Script::new(scenario, test);
    if for_persona {
        script = script.for_persona();
    }
    for _ in 0..MAX_ACTIONS {
        let step_id = r.current(scenario).id.clone();
        if stop_at == Some(step_id.as_str()) {
            return Ok(r);
        }
        match script.next(&r, &persona, now)? {
            Next::Done => {
                if let Some(target) = stop_at {
                    return Err(script.fail(test.pos, format!("never reached step `{target}`")));
                }
                if !for_persona {
                    script.check_end(&r, &persona, now)?;
                }
                return Ok(r);
            }
            Next::Moves(moves) => {
                now += 60;
                for m in moves {
                    observe(&r, stage, now, &m);
                    match m {
                        Move::Wait(minutes) => r.wait(minutes),
                        Move::FollowLink(i) => match r.follow_link(scenario, i, now) {
                            LinkOutcome::Moved | LinkOutcome::Expired => {}
                            other => {
                                return Err(script.fail(test.pos, format!("at step `{step_id}`, following the link gave {other:?}")));
                            }
                        },
                        Move::Act(key) => {
                            let outcome = r.act(scenario, &key);
                            script.check(&step_id, &[], &outcome)?;
                        }
                        Move::Submit(form) => {
                            let outcome = r.submit(stage, &form, now).map_err(|e| script.fail(test.pos, format!("scenario error {e}")))?;
                            script.check(&step_id, &form, &outcome)?;
                        }
                    }
                }
            }
        }
    }
    Err(script.fail(test.pos, format!("more than {MAX_ACTIONS} submits: the walkthrough goes round in circles")))
}

enum ListError {
    Scenario(ScenarioError),
    Failure(Failure),
}

/// The values a page would post if submitted as shown: pre-filled values,
/// earlier answers, ticked boxes. On a list's step, "Continuer".
pub(crate) fn page_form(r: &Rehearsal, stage: Stage, now: u64) -> Result<Vec<(String, String)>, ScenarioError> {
    let view = r.view(stage, now, None)?;
    let mut form = Vec::new();
    if view.list.as_ref().is_some_and(|l| l.open.is_none()) {
        form.push((LIST_ACTION.to_owned(), "continuer".to_owned()));
        return Ok(form);
    }
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
