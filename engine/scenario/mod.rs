//! Scenarios: the validated model of one procedure, built from a scenario
//! file (see [`file`](mod@file) for the format) by [`build`], which reports every
//! problem it finds with its position.

pub(crate) mod build;
pub(crate) mod document;
pub(crate) mod file;
pub(crate) mod graph;

use crate::date_rule::DateBound;
use crate::diagnostic::Pos;
use crate::expr::{Expr, Text};
use crate::field::{self, FieldType, Problem};
use crate::persona::PersonaSpec;
pub use file::StepKind;
pub(crate) use file::{Channel, Level};
use std::collections::BTreeMap;
use time::Date;

/// One procedure, ready to rehearse.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `<operator folder>/<file name>`: `impots/declaration-revenus`.
    pub id: String,
    /// The file as shown to people.
    pub file: String,
    /// The procedure's title.
    pub title: String,
    /// The operator it belongs to.
    pub operator: String,
    /// One sentence on what it does.
    pub summary: String,
    /// How hard it is.
    pub level: Level,
    /// How long a rehearsal takes.
    pub duration_minutes: u32,
    /// The date the replica was last checked against the real site.
    pub valid_as_of: String,
    /// `valid_as_of` as a date: personas are counted from it.
    pub reference_date: Date,
    /// Where the procedure is described.
    pub sources: Vec<String>,
    /// The real site's address.
    pub real_site: Option<String>,
    /// The theme its pages use.
    pub theme: String,
    /// What its personas are made of.
    pub persona: PersonaSpec,
    /// Persona card lines: the persona values the scenario reads, then the
    /// spec's `card`.
    pub card: Vec<CardItem>,
    /// The index of the first step.
    pub start: usize,
    /// The steps, in file order.
    pub steps: Vec<Step>,
    /// The walkthroughs written in the file.
    pub tests: Vec<Walkthrough>,
    /// Changes whenever the file or one of its groups changes.
    pub fingerprint: u64,
}

/// Bytes of personas kept made, over every scenario.
pub const PERSONA_CACHE_BYTES: u64 = 64 << 20;

type Made = moka::sync::Cache<(u64, u64, Option<usize>, i32), std::sync::Arc<crate::persona::Persona>>;

/// Personas made, shared by every rehearsal of the same seed on the same day.
static MADE: std::sync::LazyLock<Made> = std::sync::LazyLock::new(|| {
    moka::sync::Cache::builder()
        .max_capacity(PERSONA_CACHE_BYTES)
        .weigher(|_, p: &std::sync::Arc<crate::persona::Persona>| u32::try_from(p.approx_bytes() + 96).unwrap_or(u32::MAX))
        .build()
});

/// The bytes the persona cache holds now, as its bound counts them.
pub fn persona_cache_bytes() -> u64 {
    MADE.run_pending_tasks();
    MADE.weighted_size()
}

impl Scenario {
    /// When the scenario was checked against the real site, in words:
    /// `avril 2026`, or `15 avril 2026` when `valid_as_of` names the day.
    pub fn checked_on(&self) -> String {
        let d = self.reference_date;
        let month = crate::expr::MONTHS[usize::from(u8::from(d.month())) - 1];
        if self.valid_as_of.len() > 7 { format!("{} {month} {}", d.day(), d.year()) } else { format!("{month} {}", d.year()) }
    }

    /// The index of the step with this id.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The step that asks for the field `name`, and the field. The fields
    /// of a repeatable group's items are not answers of their own.
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.repeat.is_none())
            .find_map(|(i, s)| s.fields.iter().find(|f| f.name == name).map(|f| (i, f)))
    }

    /// The step of the repeatable group `name`.
    pub fn group(&self, name: &str) -> Option<(usize, &Repeat)> {
        self.steps.iter().enumerate().find_map(|(i, s)| s.repeat.as_ref().filter(|r| r.name == name).map(|r| (i, r)))
    }

    /// The persona of `seed`, with the traits of walkthrough `pinned` if any,
    /// its ages counted at `valid_as_of`.
    pub fn persona_of(&self, seed: u64, pinned: Option<usize>) -> std::sync::Arc<crate::persona::Persona> {
        self.persona_on(seed, pinned, self.reference_date)
    }

    /// The persona of `seed` (with the traits of walkthrough `pinned` if any)
    /// as it is on `today`: born on the same day, so perhaps a year older.
    /// Made once and kept a while (64 MiB of the most used): a persona is
    /// the same every time.
    pub fn persona_on(&self, seed: u64, pinned: Option<usize>, today: Date) -> std::sync::Arc<crate::persona::Persona> {
        MADE.get_with((self.fingerprint, seed, pinned, today.to_julian_day()), || {
            let made = match pinned.and_then(|i| self.tests.get(i)) {
                Some(test) => crate::persona::generate(&test.pins.apply(&self.persona), seed),
                None => crate::persona::generate(&self.persona, seed),
            };
            std::sync::Arc::new(if today == made.today { made } else { made.on(today) })
        })
    }

    /// The distinct sections, in step order, for the step train.
    pub fn sections(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.steps {
            if let Some(section) = s.section.as_deref()
                && !out.contains(&section)
            {
                out.push(section);
            }
        }
        out
    }
}

/// One line of the persona card: a persona value, its label, and the
/// condition on the persona for it to show.
#[derive(Clone, Debug)]
pub struct CardItem {
    pub path: String,
    pub label: String,
    pub when: Option<Expr>,
}

/// A repeatable group: a list of items, each made of the step's fields.
#[derive(Clone, Debug)]
pub struct Repeat {
    /// `answers.<name>`.
    pub name: String,
    /// "Enfant": legends read "Enfant 2".
    pub item: String,
    /// The add button: "Ajouter un enfant".
    pub add: String,
    pub min: u32,
    pub max: u32,
    /// The items to start with: a list of mappings.
    pub prefill: Option<Expr>,
    /// Wording of too few items (`min`) and one too many (`max`).
    pub too_few: Text,
    pub too_many: Text,
}

/// Items a list may hold at most: each is a form rendered on the
/// récapitulatif and kept in the session.
pub(crate) const MAX_ITEMS: u32 = 20;

/// Where a step was written: the scenario file or a group file.
#[derive(Clone, Debug)]
pub struct Origin {
    pub file: String,
    /// Where the step's id is written.
    pub pos: Pos,
    /// The group's id when the step comes from a step group.
    pub group: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
    pub title: Text,
    pub section: Option<String>,
    pub text: Option<Text>,
    pub hint: Option<Text>,
    pub fields: Vec<Field>,
    pub next: Vec<Branch>,
    pub on_failure: Option<OnFailure>,
    pub send: Vec<Message>,
    pub compute: Vec<(String, Expr)>,
    pub button: Option<String>,
    pub back: bool,
    pub template: Option<String>,
    pub theme: Option<String>,
    pub document: Option<Document>,
    pub wait_for_link: bool,
    /// Buttons and links that leave the page without checking its form.
    pub actions: Vec<Action>,
    /// Shown on the récapitulatif (`recap: false` keeps it off).
    pub recap: bool,
    pub repeat: Option<Repeat>,
    pub origin: Origin,
}

impl Step {
    /// The action a form posts as `_action=<key>`.
    pub fn action(&self, key: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.key == key)
    }
}

/// A way off a page that skips its form: a look-alike FranceConnect
/// button, a "Mot de passe oublié ?" link.
#[derive(Clone, Debug)]
pub struct Action {
    /// What the page posts and walkthroughs write: `franceconnect`, or the
    /// id of the step it leads to.
    pub key: String,
    pub label: String,
    /// The look-alike FranceConnect button rather than a link.
    pub franceconnect: bool,
    /// FranceConnect+ rather than FranceConnect.
    pub plus: bool,
    pub goto: usize,
}

impl Step {
    /// Receipts and incidents end a path; the others need a way forward.
    pub fn is_terminal_kind(&self) -> bool {
        matches!(self.kind, StepKind::Receipt | StepKind::Incident)
    }
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub when: Option<Expr>,
    pub goto: usize,
}

#[derive(Clone, Debug)]
pub struct OnFailure {
    pub after: u8,
    pub goto: usize,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// Shown, required and checked only when this holds.
    pub when: Option<Expr>,
    pub label: Text,
    pub kind: FieldType,
    pub hint: Option<Text>,
    pub prefill: Option<Expr>,
    pub required: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// A date field's bounds, resolved at each submit.
    pub min_date: Option<DateBound>,
    pub max_date: Option<DateBound>,
    /// Whether an amount may have cents.
    pub cents: bool,
    pub max_length: usize,
    pub pattern: Option<regex::Regex>,
    pub expect: Option<Expr>,
    /// The wording of each problem: the author's, or the usual one.
    pub messages: BTreeMap<&'static str, Text>,
    pub options: Vec<Choice>,
    /// The options' values, for validation.
    pub option_values: Vec<String>,
    pub autocomplete: Option<String>,
    pub accept: Vec<String>,
    pub unit: Option<String>,
}

impl Field {
    pub fn rules(&self) -> field::Rules<'_> {
        field::Rules {
            kind: self.kind,
            required: self.required,
            min: self.min,
            max: self.max,
            min_date: None,
            max_date: None,
            cents: self.cents,
            max_length: self.max_length,
            pattern: self.pattern.as_ref(),
            options: &self.option_values,
            accept: &self.accept,
        }
    }

    pub fn message(&self, problem: Problem) -> &Text {
        &self.messages[problem.key()]
    }

    /// The rules with the date bounds resolved: today is `today`, and
    /// `answer` gives another field's date answer.
    pub fn rules_at(&self, today: time::Date, answer: impl Fn(&str) -> Option<time::Date>) -> field::Rules<'_> {
        field::Rules {
            min_date: self.min_date.as_ref().and_then(|b| b.resolve(today, &answer)),
            max_date: self.max_date.as_ref().and_then(|b| b.resolve(today, &answer)),
            ..self.rules()
        }
    }

    /// A checkbox group (several boxes) rather than a single box.
    pub fn is_group(&self) -> bool {
        self.kind == FieldType::Checkbox && !self.options.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub value: String,
    /// A template: `{{ persona.enfants[0].prenom }}` works.
    pub label: Text,
    pub hint: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Message {
    /// Sent only when this holds.
    pub when: Option<Expr>,
    pub channel: Channel,
    pub from: String,
    pub subject: Option<Text>,
    pub body: Text,
    pub code: Option<Code>,
    pub link: Option<Link>,
    pub valid_minutes: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Digits(u8),
    Fixed(String),
}

#[derive(Clone, Debug)]
pub struct Link {
    pub label: String,
    pub goto: usize,
    pub expired_goto: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Document {
    /// Template path in the theme: `documents/<name>.html`.
    pub template: String,
    pub title: String,
}

/// A walkthrough test written in the scenario file.
#[derive(Clone, Debug)]
pub struct Walkthrough {
    pub name: String,
    pub pos: Pos,
    pub seed: u64,
    pub pins: Pins,
    /// Step id to the attempts submitted there, in turn.
    pub answers: Vec<StepAnswers>,
    pub ends_at: String,
    pub ends_at_pos: Pos,
    /// Expression, expected value (a template), position.
    pub expect: Vec<(Expr, Text, Pos)>,
}

impl Walkthrough {
    pub fn attempts(&self, step: &str) -> Option<&StepAnswers> {
        self.answers.iter().find(|a| a.step == step)
    }
}

#[derive(Clone, Debug)]
pub struct StepAnswers {
    pub step: String,
    pub pos: Pos,
    pub attempts: Vec<Attempt>,
}

/// Field name to value templates, for one submit.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub pos: Pos,
    pub values: Vec<(String, Vec<Text>, Pos)>,
}

/// Persona traits a walkthrough imposes.
#[derive(Clone, Debug, Default)]
pub struct Pins {
    pub situation: Option<crate::persona::spec::Situation>,
    pub sexe: Option<char>,
    pub enfants: Option<u8>,
    pub age: Option<u8>,
    pub statut: Option<crate::persona::activity::Statut>,
}

impl Pins {
    /// The spec with these traits imposed.
    pub fn apply(&self, spec: &PersonaSpec) -> PersonaSpec {
        let mut spec = spec.clone();
        if let Some(s) = self.situation {
            spec.situations = vec![s];
        }
        if let Some(s) = self.sexe {
            spec.sexes = vec![s];
        }
        if let Some(n) = self.enfants {
            spec.children = crate::persona::spec::IntRange::new(n.into(), n.into());
        }
        if let Some(a) = self.age {
            spec.age = crate::persona::spec::IntRange::new(a.into(), a.into());
        }
        if let Some(s) = self.statut {
            spec.statuts = vec![s];
        }
        spec
    }
}
