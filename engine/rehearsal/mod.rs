//! The rehearsal engine: one visitor's walk through a scenario, in pure
//! Rust, with no HTTP. A [`Rehearsal`] holds only what cannot be derived
//! again: the seed, the current step, the answers, the path taken, the
//! inbox and a few counters. The persona is derived from the seed; texts
//! are rendered from the scenario on demand.

pub(crate) mod answers;
pub(crate) mod inbox;
pub(crate) mod markup;
mod scope;
pub(crate) mod view;

use crate::field::{self, FieldType, Problem};
use crate::persona::{Persona, ids};
use crate::scenario::{Scenario, Step, StepKind};
use minijinja::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub(crate) use answers::Answers;
pub(crate) use inbox::Sent;
pub(crate) use view::StepView;

/// One visitor's walk through one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rehearsal {
    /// The scenario's id.
    pub scenario: String,
    /// The scenario's fingerprint when the rehearsal started: a rehearsal
    /// of a scenario that changed since cannot go on.
    pub version: u64,
    /// The persona's seed.
    pub seed: u64,
    /// The current step, by index.
    pub step: u16,
    /// Field name to canonical value (checkbox groups joined by `\n`).
    #[serde(default, skip_serializing_if = "Answers::is_empty")]
    pub answers: Answers,
    /// Computed values, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub computed: BTreeMap<String, serde_json::Value>,
    /// The steps completed to reach the current one, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<u16>,
    /// While changing an answer from the review: the path that followed it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resume: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The messages sent so far.
    pub inbox: Vec<Sent>,
    /// Failed attempts in a row, per step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<u16, u8>,
    /// Minutes the visitor let pass on purpose, to rehearse expiry.
    #[serde(default)]
    pub skipped_minutes: u32,
    /// When the rehearsal started, in seconds since the epoch.
    pub started: u64,
    /// Messages sent so far: numbers each message's code.
    #[serde(default)]
    pub sent_count: u32,
    /// The walkthrough whose persona traits this rehearsal plays, if any
    /// (a rehearsal started "as the walkthrough" by a trainer or author).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<u8>,
    /// Changes kept so far (counted by the session, see
    /// [`crate::session::Session::put`]): with the fields that name the
    /// rehearsal, it tells one state from another without reading it all
    /// (the page cache's key).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u32,
    /// Steps left by one of their actions, their form unsent: the review
    /// does not list them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acted: Vec<u16>,
    /// Repeatable groups: list name to its items, each field name to
    /// canonical value. A list absent here starts from its `prefill`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    /// The item whose form is open on a list's step, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_item: Option<OpenItem>,
}

/// An item form open on a list's step: a new item (`index` is the list's
/// length) or an item being changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    pub index: u16,
    /// Opened by "Modifier" on the récapitulatif: saving it goes back there.
    #[serde(default)]
    pub from_review: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the engine needs besides the rehearsal: the scenario and the
/// persona derived from the seed.
#[derive(Clone, Copy)]
pub struct Stage<'a> {
    /// The scenario played.
    pub scenario: &'a Scenario,
    /// The persona playing it.
    pub persona: &'a Persona,
}

/// A mistake in the scenario that only shows when it runs: an expression
/// that fails, no branch that matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub step: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at step `{}`: {}", self.step, self.message)
    }
}

/// A problem with one field, in the scenario's wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
    pub message: String,
}

/// The result of a submit.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Accepted: the rehearsal moved on.
    Moved,
    /// Failed too often: the rehearsal moved to an incident.
    Incident,
    /// Refused: show the page again with these errors and values (values
    /// that looked like real data are not kept).
    Invalid {
        /// What was wrong, field by field.
        errors: Vec<FieldError>,
        /// The values to show again.
        values: BTreeMap<String, String>,
    },
    /// A list's step changed without moving on (an item added, changed or
    /// removed, a form opened or closed); the status message to show, if any.
    Listed(Option<String>),
    /// The page waits for a link from the inbox.
    Waiting,
    /// The form named an action the step does not have.
    UnknownAction,
}

/// What following a link from the inbox did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The link was followed: the rehearsal moved on.
    Moved,
    /// The link is too old.
    Expired,
    /// The link was already followed.
    AlreadyUsed,
    /// No such link.
    NoLink,
}

/// The steps kept for "Précédent": a rehearsal's size stays bounded, even
/// on a step that loops onto itself.
pub(crate) const MAX_HISTORY: usize = 200;

/// Submitted form values: a field name may come several times (checkboxes).
pub(crate) type Form = [(String, String)];

impl Rehearsal {
    /// About how many bytes this rehearsal holds, itself included.
    pub fn approx_bytes(&self) -> usize {
        use crate::memory::{json, map_entry, text, vec_of};
        std::mem::size_of::<Rehearsal>()
            + text(&self.scenario)
            + self.answers.approx_bytes()
            + self.computed.iter().map(|(k, v)| map_entry::<String, serde_json::Value>() + text(k) + json(v)).sum::<usize>()
            + vec_of::<u16>(self.history.len())
            + vec_of::<u16>(self.resume.len())
            + vec_of::<Sent>(self.inbox.len())
            + self.failures.len() * map_entry::<u16, u8>()
            + vec_of::<u16>(self.acted.len())
            + self
                .items
                .iter()
                .map(|(k, list)| {
                    map_entry::<String, Vec<BTreeMap<String, String>>>()
                        + text(k)
                        + vec_of::<BTreeMap<String, String>>(list.len())
                        + list
                            .iter()
                            .flat_map(|item| item.iter())
                            .map(|(k, v)| map_entry::<String, String>() + text(k) + text(v))
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    /// A new rehearsal of `scenario` for the persona of `seed`, started at `now`.
    pub fn start(scenario: &Scenario, seed: u64, now: u64) -> Rehearsal {
        Rehearsal {
            scenario: scenario.id.clone(),
            version: scenario.fingerprint,
            seed,
            step: scenario.start as u16,
            answers: Answers::default(),
            computed: BTreeMap::new(),
            history: Vec::new(),
            resume: Vec::new(),
            inbox: Vec::new(),
            failures: BTreeMap::new(),
            skipped_minutes: 0,
            started: now,
            sent_count: 0,
            pinned: None,
            revision: 0,
            acted: Vec::new(),
            items: BTreeMap::new(),
            open_item: None,
        }
    }

    /// The persona this rehearsal plays, derived from its seed, as it is
    /// on the rehearsal's today.
    pub fn persona(&self, scenario: &Scenario, now: u64) -> std::sync::Arc<Persona> {
        scenario.persona_on(self.seed, self.pinned.map(usize::from), self.today(now))
    }

    /// The rehearsal's today: now, with the time made to pass.
    pub fn today(&self, now: u64) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp(now as i64 + i64::from(self.skipped_minutes) * 60)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .date()
    }

    /// Back to the start with the same persona.
    pub fn reset(&mut self, scenario: &Scenario, now: u64) {
        let pinned = self.pinned;
        *self = Rehearsal::start(scenario, self.seed, now);
        self.pinned = pinned;
    }

    /// Back to the start with another persona.
    pub fn restart_with(&mut self, scenario: &Scenario, seed: u64, now: u64) {
        *self = Rehearsal::start(scenario, seed, now);
    }

    /// The step the rehearsal is on.
    pub fn current<'s>(&self, scenario: &'s Scenario) -> &'s Step {
        &scenario.steps[usize::from(self.step).min(scenario.steps.len() - 1)]
    }

    /// Minutes since the start, counting the ones skipped on purpose.
    pub fn minutes(&self, now: u64) -> u32 {
        (now.saturating_sub(self.started) / 60) as u32 + self.skipped_minutes
    }

    /// Moves a replayed rehearsal's clock to `now`, in real time from then
    /// on: its messages count as just received.
    pub fn restart_clock(&mut self, now: u64) {
        self.started = now;
        self.skipped_minutes = 0;
        for m in &mut self.inbox {
            m.at = 0;
        }
    }

    /// Lets time pass, to rehearse a code or a link that expires.
    pub fn wait(&mut self, minutes: u32) {
        self.skipped_minutes = self.skipped_minutes.saturating_add(minutes.min(60 * 24 * 30));
    }

    /// Whether the rehearsal is over (receipt or incident with no way on).
    pub fn is_finished(&self, scenario: &Scenario) -> bool {
        let step = self.current(scenario);
        step.is_terminal_kind() && step.next.is_empty()
    }

    /// The expression context: persona, answers, computed values, inbox, today, clock.
    pub fn context(&self, stage: Stage, now: u64) -> Value {
        let scenario = stage.scenario;
        let mut answers = BTreeMap::new();
        for (name, value) in &self.answers {
            if let Some((_, f)) = scenario.field(name) {
                answers.insert(name, typed(f.kind, f.is_group(), value));
            }
        }
        for (name, list) in &self.items {
            if let Some((step, _)) = scenario.group(name) {
                answers.insert(
                    name.as_str(),
                    Value::from(list.iter().map(|item| typed_item(&scenario.steps[step], item)).collect::<Vec<_>>()),
                );
            }
        }
        // Exactly the roots of `expr::names::Root`, with its members: the
        // checker accepts those (tests/expression_names.rs).
        Value::from_object(scope::Scope {
            persona: stage.persona.template_value().clone(),
            answers: Value::from(answers),
            computed: crate::expr::to_value(&self.computed),
            inbox: inbox::context(self, stage, now),
            // Minutes since the rehearsal started, counting the time made to
            // pass: to rehearse a session that expires.
            clock: minijinja::context! { minutes => self.minutes(now) },
            scenario: minijinja::context! { title => scenario.title.clone(), operator => scenario.operator.clone() },
            today: self.today(now),
            reference: reference_number(self.seed, &scenario.id),
            today_written: Default::default(),
            reference_written: Default::default(),
        })
    }

    /// Submits the current page.
    pub fn submit(&mut self, stage: Stage, form: &Form, now: u64) -> Result<Outcome, ScenarioError> {
        let scenario = stage.scenario;
        if let Some((_, key)) = form.iter().find(|(k, _)| k == crate::scenario::build::ACTION) {
            return Ok(self.act(scenario, key));
        }
        let step = self.current(scenario);
        if step.wait_for_link {
            return Ok(Outcome::Waiting);
        }
        if self.is_finished(scenario) {
            return Ok(Outcome::Moved);
        }
        if step.repeat.is_some() {
            return self.submit_list(stage, form, now);
        }
        let ctx = self.context(stage, now);
        let shown = shown_fields(step, &ctx)?;
        let (values, problems, bounds) = self.check_fields(stage, step, &shown, form, &ctx, now)?;
        if !problems.is_empty() {
            return self.refuse(step, problems, &bounds, values, &ctx);
        }
        for f in &step.fields {
            if !shown.contains(&f.name.as_str()) {
                // A hidden field's answer is never kept.
                self.answers.remove(f.name.as_str());
            }
        }
        for (name, value) in values {
            // Passwords are checked, never kept.
            let password = step.fields.iter().any(|f| f.name == name && f.kind == FieldType::Password);
            if value.is_empty() || password {
                self.answers.remove(name.as_str());
            } else {
                self.answers.insert(&name, &value);
            }
        }
        self.go_on(stage, now)
    }

    /// The rest of a successful submit: computed values, hidden answers
    /// dropped, messages, the next step.
    fn go_on(&mut self, stage: Stage, now: u64) -> Result<Outcome, ScenarioError> {
        let step = self.current(stage.scenario);
        self.failures.remove(&self.step);
        let here = self.step;
        self.acted.retain(|&s| s != here);
        // Hidden answers go first: computed values never read one.
        self.drop_hidden(stage, now);
        self.compute(stage, usize::from(self.step), now)?;
        if step.send.iter().any(|m| m.when.is_some()) {
            let ctx = self.context(stage, now);
            for (i, m) in step.send.iter().enumerate() {
                let send = match &m.when {
                    None => true,
                    Some(cond) => cond
                        .test(&ctx)
                        .map_err(|e| ScenarioError { step: step.id.clone(), message: format!("condition `{}`: {e}", cond.source()) })?,
                };
                if send {
                    inbox::send(self, usize::from(self.step), i, now);
                }
            }
        } else {
            for i in 0..step.send.len() {
                inbox::send(self, usize::from(self.step), i, now);
            }
        }
        let next = self.next_of(stage, usize::from(self.step), now)?;
        if self.resume.is_empty() {
            self.move_to(next);
        } else {
            self.advance_through_resume(stage, next, now)?;
        }
        Ok(Outcome::Moved)
    }

    /// Cleans up and checks the values posted for `fields` of `step`: the
    /// values to keep (or show again) and the problems found.
    #[allow(clippy::type_complexity)]
    fn check_fields(
        &self,
        stage: Stage,
        step: &Step,
        shown: &[&str],
        form: &Form,
        ctx: &Value,
        now: u64,
    ) -> Result<(BTreeMap<String, String>, Vec<(usize, Problem)>, DateBounds), ScenarioError> {
        let err = |message: String| ScenarioError { step: step.id.clone(), message };
        let mut values = BTreeMap::new();
        let mut problems: Vec<(usize, Problem)> = Vec::new();
        // Date bounds count from the simulated today, and from other date
        // answers: this page's as typed, else the earlier ones.
        let today = self.today(now);
        let answer_date = |name: &str| {
            let typed = step.fields.iter().any(|f| f.name == name).then(|| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()));
            match typed {
                Some(v) => v.and_then(crate::date_rule::to_date),
                None => self.answers.get(name).and_then(crate::date_rule::to_date),
            }
        };
        let mut bounds = BTreeMap::new();
        for (i, f) in step.fields.iter().enumerate() {
            if !shown.contains(&f.name.as_str()) {
                continue;
            }
            // Control characters never reach the answers, nor the page that
            // shows a refused value again.
            let multiline = f.kind == FieldType::Textarea;
            let raw: Vec<String> = form.iter().filter(|(k, _)| *k == f.name).map(|(_, v)| field::strip_controls(v, multiline)).collect();
            let raw = if f.is_group() { raw.join("\n") } else { raw.into_iter().next().unwrap_or_default() };
            let rules = f.rules_at(today, answer_date);
            bounds.insert(i, (rules.min_date, rules.max_date));
            match field::normalize(&rules, &raw) {
                Err(problem) => {
                    problems.push((i, problem));
                    // An identifier that may be someone's, even mistyped,
                    // is not shown again: only fictitious-looking ones are.
                    if !f.kind.is_identifier() || fictitious_looking(f.kind, &raw) {
                        values.insert(f.name.clone(), raw);
                    }
                }
                Ok(value) => {
                    if f.kind.is_identifier() && looks_real(f.kind, &value, stage.persona) {
                        problems.push((i, Problem::RealData));
                        continue; // not kept, not even to show it again
                    }
                    if let Some(expect) = &f.expect
                        && !value.is_empty()
                    {
                        let expected = expect.eval(ctx).map_err(|e| err(format!("`expect` of `{}`: {e}", f.name)))?;
                        if !field::same(f.kind, &value, &expected_text(&expected)) {
                            problems.push((i, Problem::Expect));
                        }
                    }
                    values.insert(f.name.clone(), value);
                }
            }
        }
        Ok((values, problems, bounds))
    }

    /// A refused submit: failures counted, messages worded.
    fn refuse(
        &mut self,
        step: &Step,
        problems: Vec<(usize, Problem)>,
        bounds: &DateBounds,
        values: BTreeMap<String, String>,
        ctx: &Value,
    ) -> Result<Outcome, ScenarioError> {
        let err = |message: String| ScenarioError { step: step.id.clone(), message };
        let here = self.step;
        let mut attempts_left = None;
        if problems.iter().any(|(_, p)| *p == Problem::Expect) {
            let count = self.failures.entry(here).or_insert(0);
            *count = count.saturating_add(1);
            if let Some(of) = &step.on_failure {
                if *count >= of.after {
                    self.failures.remove(&here);
                    self.move_to(of.goto);
                    return Ok(Outcome::Incident);
                }
                attempts_left = Some(of.after - *count);
            }
        }
        let errors = problems
            .into_iter()
            .map(|(i, problem)| {
                let f = &step.fields[i];
                let label = f.label.render(ctx).unwrap_or_else(|_| f.name.clone());
                let (min_date, max_date) = bounds.get(&i).copied().unwrap_or_default();
                let local = minijinja::context! {
                    label => Value::from_safe_string(label),
                    min => f.min.map(|m| crate::expr::number(&Value::from(m))).or(min_date.map(crate::persona::format_date)),
                    max => f.max.map(|m| crate::expr::number(&Value::from(m))).or(max_date.map(crate::persona::format_date)),
                    max_length => f.max_length,
                    attempts_left => attempts_left,
                    ..ctx.clone()
                };
                let message = f.message(problem).render(&local).map_err(|e| err(format!("error message of `{}`: {e}", f.name)))?;
                Ok(FieldError { field: f.name.clone(), problem, message })
            })
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        Ok(Outcome::Invalid { errors, values })
    }

    /// Drops the answers of fields whose condition no longer holds (an
    /// earlier answer changed from the récapitulatif), until none is left:
    /// expressions and the récapitulatif never see a hidden answer.
    fn drop_hidden(&mut self, stage: Stage, now: u64) {
        let conditional: Vec<&crate::scenario::Field> =
            stage.scenario.steps.iter().filter(|s| s.repeat.is_none()).flat_map(|s| &s.fields).filter(|f| f.when.is_some()).collect();
        if conditional.is_empty() {
            return;
        }
        for _ in 0..conditional.len() {
            let ctx = self.context(stage, now);
            // A condition that cannot be read (an answer it reads was
            // dropped) does not hold.
            let hidden: Vec<String> = conditional
                .iter()
                .filter(|f| self.answers.contains_key(f.name.as_str()))
                .filter(|f| !f.when.as_ref().is_some_and(|w| w.test(&ctx).unwrap_or(false)))
                .map(|f| f.name.clone())
                .collect();
            if hidden.is_empty() {
                return;
            }
            for name in hidden {
                self.answers.remove(name.as_str());
            }
        }
    }

    /// The items of the list of `step`: those kept, or else its prefill.
    pub fn list_items(&self, stage: Stage, step: &Step, now: u64) -> Result<Vec<BTreeMap<String, String>>, ScenarioError> {
        let Some(repeat) = &step.repeat else { return Ok(Vec::new()) };
        if let Some(items) = self.items.get(&repeat.name) {
            return Ok(items.clone());
        }
        let Some(prefill) = &repeat.prefill else { return Ok(Vec::new()) };
        let ctx = self.context(stage, now);
        let v = prefill
            .eval(&ctx)
            .map_err(|e| ScenarioError { step: step.id.clone(), message: format!("`prefill` of `{}`: {e}", repeat.name) })?;
        let mut out = Vec::new();
        if let Ok(iter) = v.try_iter() {
            for entry in iter.take(repeat.max as usize) {
                let mut item = BTreeMap::new();
                for f in &step.fields {
                    let Ok(value) = entry.get_attr(&f.name) else { continue };
                    if value.is_undefined() || value.is_none() {
                        continue;
                    }
                    let raw = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                    // Cleaned up as if typed; a value the field refuses stays
                    // as it is, for the visitor to correct.
                    let clean = field::normalize(&f.rules(), &raw).unwrap_or(raw);
                    if !clean.is_empty() {
                        item.insert(f.name.clone(), clean);
                    }
                }
                out.push(item);
            }
        }
        Ok(out)
    }

    /// A submit on a list's step: the buttons of the list ("Ajouter",
    /// "Modifier", "Supprimer", "Continuer") and of the item form
    /// ("Enregistrer", "Annuler"), named by the form's `_list`.
    fn submit_list(&mut self, stage: Stage, form: &Form, now: u64) -> Result<Outcome, ScenarioError> {
        let scenario = stage.scenario;
        let step = self.current(scenario);
        let Some(repeat) = &step.repeat else { return Ok(Outcome::Moved) };
        let action = form.iter().find(|(k, _)| k == LIST_ACTION).map_or("", |(_, v)| v.as_str());
        let mut items = self.list_items(stage, step, now)?;
        let ctx = self.context(stage, now);
        let legend = |n: usize| format!("{} {n}", repeat.item);
        if let Some(open) = self.open_item {
            if action == "annuler" {
                self.open_item = None;
                if open.from_review {
                    self.back(scenario);
                }
                return Ok(Outcome::Listed(None));
            }
            let shown = shown_fields(step, &ctx)?;
            let (values, problems, bounds) = self.check_fields(stage, step, &shown, form, &ctx, now)?;
            if !problems.is_empty() {
                return self.refuse(step, problems, &bounds, values, &ctx);
            }
            let item: BTreeMap<String, String> = values
                .into_iter()
                .filter(|(name, v)| !v.is_empty() && !step.fields.iter().any(|f| &f.name == name && f.kind == FieldType::Password))
                .collect();
            let index = usize::from(open.index);
            let message = if index < items.len() {
                items[index] = item;
                format!("Vous avez modifié : {}.", legend(index + 1))
            } else {
                items.push(item);
                format!("Vous avez ajouté : {}.", legend(items.len()))
            };
            self.items.insert(repeat.name.clone(), items);
            self.open_item = None;
            if open.from_review {
                return self.go_on(stage, now);
            }
            return Ok(Outcome::Listed(Some(message)));
        }
        let numbered =
            |prefix: &str| action.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).filter(|n| (1..=items.len()).contains(n));
        if action == "ajouter" {
            if items.len() >= repeat.max as usize {
                let local = minijinja::context! { max => repeat.max, min => repeat.min, ..ctx.clone() };
                return self.list_error(step, Problem::Max, &repeat.too_many, &local);
            }
            self.items.insert(repeat.name.clone(), items.clone());
            self.open_item = Some(OpenItem { index: items.len() as u16, from_review: false });
            return Ok(Outcome::Listed(None));
        }
        if let Some(n) = numbered("modifier-") {
            self.items.insert(repeat.name.clone(), items);
            self.open_item = Some(OpenItem { index: (n - 1) as u16, from_review: false });
            return Ok(Outcome::Listed(None));
        }
        if let Some(n) = numbered("supprimer-") {
            items.remove(n - 1);
            self.items.insert(repeat.name.clone(), items);
            return Ok(Outcome::Listed(Some(format!("Vous avez supprimé : {}. Les suivants sont renumérotés.", legend(n)))));
        }
        if items.len() < repeat.min as usize {
            let local = minijinja::context! { max => repeat.max, min => repeat.min, ..ctx.clone() };
            return self.list_error(step, Problem::Min, &repeat.too_few, &local);
        }
        self.items.insert(repeat.name.clone(), items);
        self.go_on(stage, now)
    }

    fn list_error(&mut self, step: &Step, problem: Problem, text: &crate::expr::Text, ctx: &Value) -> Result<Outcome, ScenarioError> {
        let name = step.repeat.as_ref().map_or_else(String::new, |r| r.name.clone());
        let message =
            text.render(ctx).map_err(|e| ScenarioError { step: step.id.clone(), message: format!("error message of `{name}`: {e}") })?;
        Ok(Outcome::Invalid { errors: vec![FieldError { field: name, problem, message }], values: BTreeMap::new() })
    }

    /// Takes the current step's action `key` ("S'identifier avec
    /// FranceConnect", "Mot de passe oublié ?"): on to its step, with
    /// nothing of the form checked or kept.
    pub fn act(&mut self, scenario: &Scenario, key: &str) -> Outcome {
        let Some(action) = self.current(scenario).action(key) else { return Outcome::UnknownAction };
        let goto = action.goto;
        if !self.acted.contains(&self.step) {
            self.acted.push(self.step);
        }
        self.resume.clear();
        self.move_to(goto);
        Outcome::Moved
    }

    /// Evaluates a step's computed values, in order.
    fn compute(&mut self, stage: Stage, step: usize, now: u64) -> Result<(), ScenarioError> {
        let s = &stage.scenario.steps[step];
        if s.compute.is_empty() {
            return Ok(());
        }
        // The context is made once; each value computed joins it, for the
        // ones after it to read (rebuilding it for each value made a step
        // of twenty computed values cost as much as the rest of a submit).
        let grown = Arc::new(Computed::from(&self.computed));
        let ctx = minijinja::context! { computed => Value::from_dyn_object(grown.clone()), ..self.context(stage, now) };
        for (name, expr) in &s.compute {
            let value =
                expr.eval(&ctx).map_err(|e| ScenarioError { step: s.id.clone(), message: format!("computed value `{name}`: {e}") })?;
            let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
            self.computed.insert(name.clone(), json);
            grown.insert(name, value);
        }
        Ok(())
    }

    /// The step after `step`: the first branch whose condition holds.
    fn next_of(&self, stage: Stage, step: usize, now: u64) -> Result<usize, ScenarioError> {
        let s = &stage.scenario.steps[step];
        // Made only for a branch with a condition: most steps have one way on.
        let mut ctx = None;
        for branch in &s.next {
            let taken = match &branch.when {
                None => true,
                Some(cond) => cond
                    .test(ctx.get_or_insert_with(|| self.context(stage, now)))
                    .map_err(|e| ScenarioError { step: s.id.clone(), message: format!("condition `{}`: {e}", cond.source()) })?,
            };
            if taken {
                return Ok(branch.goto);
            }
        }
        Err(ScenarioError { step: s.id.clone(), message: "no branch of `next` matches".into() })
    }

    fn move_to(&mut self, step: usize) {
        // A path longer than this loops: only its end matters for "Précédent".
        if self.history.len() >= MAX_HISTORY {
            self.history.drain(..self.history.len() + 1 - MAX_HISTORY);
        }
        self.history.push(self.step);
        self.step = step as u16;
        self.open_item = None;
    }

    /// After changing an answer from the review: walk again through the
    /// steps that were already answered, as long as the path is the same,
    /// back to the review; stop at the first step the change makes new.
    fn advance_through_resume(&mut self, stage: Stage, mut next: usize, now: u64) -> Result<(), ScenarioError> {
        let resume = std::mem::take(&mut self.resume);
        self.history.push(self.step);
        for &old in &resume {
            if usize::from(old) != next {
                break;
            }
            let s = &stage.scenario.steps[next];
            if s.kind == StepKind::Review || s.wait_for_link || s.kind == StepKind::Login {
                break;
            }
            self.compute(stage, next, now)?;
            self.history.push(next as u16);
            next = self.next_of(stage, next, now)?;
        }
        self.step = next as u16;
        Ok(())
    }

    /// "Précédent": back to the step before, keeping its answers. While
    /// changing an answer from the review, back to the review.
    pub fn back(&mut self, scenario: &Scenario) -> bool {
        // On a list's item form, back to the list, or to the review it was opened from.
        if let Some(open) = self.open_item.take()
            && !open.from_review
        {
            return true;
        }
        if !self.resume.is_empty() {
            self.history.push(self.step);
            let review = self.resume.pop().unwrap_or(self.step);
            self.history.extend(std::mem::take(&mut self.resume));
            self.step = review;
            return true;
        }
        if !self.current(scenario).back {
            return false;
        }
        match self.history.pop() {
            Some(previous) => {
                self.step = previous;
                true
            }
            None => false,
        }
    }

    /// "Modifier" on the review for item `item` (from 0) of a list: its
    /// form opens, and saving it comes back to the review.
    pub fn edit_item(&mut self, scenario: &Scenario, step_id: &str, item: usize) -> bool {
        let Some(target) = scenario.step_index(step_id) else { return false };
        let Some(repeat) = &scenario.steps[target].repeat else { return false };
        if self.items.get(&repeat.name).is_none_or(|list| item >= list.len()) || !self.edit(scenario, step_id) {
            return false;
        }
        self.open_item = Some(OpenItem { index: item as u16, from_review: true });
        true
    }

    /// "Modifier" on the review: go to an answered step, then come back.
    pub fn edit(&mut self, scenario: &Scenario, step_id: &str) -> bool {
        let here = self.current(scenario);
        if here.kind != StepKind::Review {
            return false;
        }
        let Some(target) = scenario.step_index(step_id) else { return false };
        let Some(pos) = self.history.iter().position(|&s| usize::from(s) == target) else { return false };
        if !view::editable(&scenario.steps[target]) {
            return false;
        }
        let mut resume: Vec<u16> = self.history.split_off(pos + 1);
        resume.push(self.step);
        self.history.pop();
        self.resume = resume;
        self.step = target as u16;
        true
    }

    /// Follows the link of inbox message `index`.
    pub fn follow_link(&mut self, scenario: &Scenario, index: usize, now: u64) -> LinkOutcome {
        let minutes = self.minutes(now);
        let Some(sent) = self.inbox.get(index).cloned() else { return LinkOutcome::NoLink };
        let Some(message) = inbox::message(scenario, &sent) else { return LinkOutcome::NoLink };
        let Some(link) = &message.link else { return LinkOutcome::NoLink };
        if sent.used {
            return LinkOutcome::AlreadyUsed;
        }
        self.inbox[index].read = true;
        if inbox::expired(message, &sent, minutes) {
            if let Some(goto) = link.expired_goto {
                self.move_to(goto);
            }
            return LinkOutcome::Expired;
        }
        self.inbox[index].used = true;
        if usize::from(self.step) != link.goto {
            self.resume.clear();
            self.move_to(link.goto);
        }
        LinkOutcome::Moved
    }

    /// Marks inbox message `index` as read.
    pub fn open_message(&mut self, index: usize) {
        if let Some(m) = self.inbox.get_mut(index) {
            m.read = true;
        }
    }
}

/// The date bounds each checked field had (by field index), for its message.
type DateBounds = BTreeMap<usize, (Option<time::Date>, Option<time::Date>)>;

/// The form key naming the button pressed on a list's step.
pub const LIST_ACTION: &str = "_list";

/// The names of the fields of `step` shown now: those without a condition
/// and those whose condition holds.
pub(crate) fn shown_fields<'s>(step: &'s Step, ctx: &Value) -> Result<Vec<&'s str>, ScenarioError> {
    let mut out = Vec::new();
    for f in &step.fields {
        let shown = match &f.when {
            None => true,
            Some(cond) => cond.test(ctx).map_err(|e| ScenarioError {
                step: step.id.clone(),
                message: format!("condition of `{}` (`{}`): {e}", f.name, cond.source()),
            })?,
        };
        if shown {
            out.push(f.name.as_str());
        }
    }
    Ok(out)
}

/// An item of a list as expressions see it: each field typed as an answer.
pub(crate) fn typed_item(step: &Step, item: &BTreeMap<String, String>) -> Value {
    let map: BTreeMap<&str, Value> =
        step.fields.iter().filter_map(|f| item.get(&f.name).map(|v| (f.name.as_str(), typed(f.kind, f.is_group(), v)))).collect();
    Value::from(map)
}

/// A valid identifier that is not one of the persona's, and not one of our
/// fictitious ranges: it may well be someone's real one.
fn looks_real(kind: FieldType, value: &str, persona: &Persona) -> bool {
    let valid = match kind {
        // Some logins ask for the 13 characters without the key.
        FieldType::Nir => ids::nir_valid(value) || ids::nir_short_valid(value),
        FieldType::Iban => ids::iban_valid(value),
        FieldType::NumeroFiscal => ids::numero_fiscal_valid(value),
        FieldType::Phone => ids::normalize_phone(value).is_some(),
        FieldType::Email => ids::email_valid(value),
        _ => return false,
    };
    valid && !fictitious_looking(kind, value) && !persona_has(&serde_json::Value::Object(persona.values.clone()), kind, value)
}

/// Whether a value of an identifier field lies in the ranges set aside for
/// fiction (the persona's own are there too).
fn fictitious_looking(kind: FieldType, value: &str) -> bool {
    match kind {
        FieldType::Nir => ids::nir_fictitious(value),
        FieldType::Iban => ids::iban_fictitious(value),
        FieldType::NumeroFiscal => ids::numero_fiscal_fictitious(value),
        FieldType::Phone => ids::phone_fictitious(value),
        FieldType::Email => ids::email_fictitious(value),
        _ => true,
    }
}

/// Whether any value of the persona, at any depth, is this identifier.
fn persona_has(v: &serde_json::Value, kind: FieldType, value: &str) -> bool {
    match v {
        serde_json::Value::String(s) => field::same(kind, s, value),
        serde_json::Value::Array(a) => a.iter().any(|x| persona_has(x, kind, value)),
        serde_json::Value::Object(m) => m.values().any(|x| persona_has(x, kind, value)),
        _ => false,
    }
}

/// An expected value as text to compare with what was typed.
fn expected_text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => v.to_string(),
    }
}

/// An answer as expressions see it: numbers for numbers and amounts,
/// true for a ticked box, a list for a checkbox group.
pub(crate) fn typed(kind: FieldType, group: bool, value: &str) -> Value {
    match kind {
        FieldType::Number | FieldType::Money => match field::parse_number(value, true) {
            Some(n) if n.fract() == 0.0 && n.abs() < 9e15 => Value::from(n as i64),
            Some(n) => Value::from(n),
            None => Value::from(value),
        },
        FieldType::Checkbox if group => Value::from(value.split('\n').map(str::to_owned).collect::<Vec<_>>()),
        FieldType::Checkbox => Value::from(value == "on"),
        _ => Value::from(value),
    }
}

/// The rehearsal's reference number, as an accusé de réception shows it:
/// the same for the same seed and scenario.
pub(crate) fn reference(seed: u64, scenario_id: &str) -> String {
    written_reference(reference_number(seed, scenario_id))
}

fn reference_number(seed: u64, scenario_id: &str) -> u64 {
    scenario_id.bytes().fold(seed ^ 0x9e37_79b9_7f4a_7c15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn written_reference(h: u64) -> String {
    format!("SIM-{:04}-{:06}", (h >> 40) % 10_000, h % 1_000_000)
}

/// The computed values as expressions read them while a step computes
/// its own: a map that grows under the one context they share.
#[derive(Debug)]
struct Computed(std::sync::Mutex<BTreeMap<String, Value>>);

impl Computed {
    fn from(values: &BTreeMap<String, serde_json::Value>) -> Computed {
        Computed(std::sync::Mutex::new(values.iter().map(|(k, v)| (k.clone(), crate::expr::to_value(v))).collect()))
    }

    fn insert(&self, name: &str, value: Value) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(name.to_owned(), value);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Value>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl minijinja::value::Object for Computed {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.map().get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.map().keys().map(|k| Value::from(k.as_str())).collect())
    }
}
