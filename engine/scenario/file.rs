//! The scenario file format, as authors write it. These types are read
//! through serde derive and described by `miroir schema` through schemars;
//! their doc comments are what editors show on hover.

use crate::field::FieldType;
use crate::persona::spec::{PersonaSpecFile, Sexe, Situation};
use crate::yaml::{Located, Pairs};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A scenario: one online procedure, replayed step by step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Scenario")]
pub(crate) struct ScenarioFile {
    /// The procedure's name in the catalogue, e.g. "Déclarer ses revenus en ligne".
    pub title: Located<String>,
    /// The catalogue group, such as `impots` or `caf`; also the default theme.
    pub operator: Located<String>,
    /// The theme to render with (default: the operator's theme if there is
    /// one, else `base`).
    #[serde(default)]
    pub theme: Option<Located<String>>,
    /// One or two sentences for the catalogue.
    pub summary: Located<String>,
    /// How hard the procedure is for a beginner.
    pub level: Located<Level>,
    /// About how long a rehearsal takes, in minutes.
    pub duration_minutes: Located<u32>,
    /// When the real site looked like this: `2026-04` or `2026-04-15`.
    /// Personas' ages and dates are counted from this date.
    pub valid_as_of: Located<String>,
    /// Where the steps and wording come from (addresses or references).
    #[serde(default)]
    pub sources: Vec<Located<String>>,
    /// The real site's address, shown as "le vrai site" for later.
    #[serde(default)]
    pub real_site: Option<Located<String>>,
    /// How the fictitious person is generated.
    #[serde(default)]
    pub persona: PersonaSpecFile,
    /// The first step (default: the first one listed).
    #[serde(default)]
    pub start: Option<Located<String>>,
    /// The pages of the procedure, in the order of the usual path.
    pub steps: Vec<Located<StepFile>>,
    /// Step groups shared with other scenarios, such as a FranceConnect login.
    #[serde(default)]
    pub includes: Vec<Located<IncludeFile>>,
    /// Walkthroughs that `miroir check` and `cargo test` replay.
    #[serde(default)]
    pub tests: Vec<Located<TestFile>>,
}

/// Steps shared by several scenarios, in a `<name>.group.yaml` file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "StepGroup")]
pub(crate) struct GroupFile {
    /// What the group does, e.g. "Connexion avec FranceConnect".
    #[allow(dead_code)] // for authors and the JSON Schema; the loader does not read it
    pub title: Located<String>,
    /// The step a scenario enters the group by.
    pub entry: Located<String>,
    /// The theme of the group's pages (default: each scenario's own).
    #[serde(default)]
    pub theme: Option<Located<String>>,
    /// The group's steps. `goto: $return` leaves the group, to the step the
    /// including scenario names in `then`.
    pub steps: Vec<Located<StepFile>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// For a first time.
    Debutant,
    /// For someone who has done it before.
    Intermediaire,
    /// With branches and incidents.
    Avance,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Debutant => "Débutant",
            Level::Intermediaire => "Intermédiaire",
            Level::Avance => "Avancé",
        }
    }
}

/// What a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Text and a button.
    Info,
    /// Fields to fill in.
    Form,
    /// A login form: identifiers checked against the persona, failures counted.
    Login,
    /// One question answered by picking an option, often to branch.
    Choice,
    /// The récapitulatif: every answer, each with a "Modifier" link.
    Review,
    /// The accusé de réception, possibly with a printable document. Ends the rehearsal.
    Receipt,
    /// Something went wrong on purpose: account locked, code expired...
    Incident,
}

impl StepKind {
    /// The kind's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Info => "info",
            StepKind::Form => "form",
            StepKind::Login => "login",
            StepKind::Choice => "choice",
            StepKind::Review => "review",
            StepKind::Receipt => "receipt",
            StepKind::Incident => "incident",
        }
    }
}

/// One page of the procedure.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepFile {
    /// Unique name of the step, used by `goto`, `start` and tests.
    pub id: Located<String>,
    /// What the page is.
    pub kind: Located<StepKind>,
    /// The page heading (a template).
    pub title: Located<String>,
    /// The étape this page belongs to, for the step train ("Revenus").
    #[serde(default)]
    pub section: Option<Located<String>>,
    /// The page's text (a template). Blank lines separate paragraphs;
    /// lines starting with `- ` make a list; `**text**` is bold.
    #[serde(default)]
    pub text: Option<Located<String>>,
    /// The aidant hint: plain, easy-to-read advice shown on demand (a template).
    #[serde(default)]
    pub hint: Option<Located<String>>,
    /// The inputs of the page.
    #[serde(default)]
    pub fields: Vec<Located<FieldFile>>,
    /// Where to go after a successful submit: a step id, or a list of
    /// `{ if, goto }` tried in order (the last one usually without `if`).
    #[serde(default)]
    pub next: Option<Located<NextFile>>,
    /// After this many failed attempts, go to an incident step.
    #[serde(default)]
    pub on_failure: Option<Located<OnFailureFile>>,
    /// Messages that land in the simulated inbox after a successful submit.
    #[serde(default)]
    pub send: Vec<Located<MessageFile>>,
    /// Values computed after a successful submit: name to expression.
    /// Later steps read them as `computed.<name>`.
    #[serde(default)]
    pub compute: Pairs<Located<String>>,
    /// The button's label (default "Continuer"; "Valider" on a review).
    #[serde(default)]
    pub button: Option<Located<String>>,
    /// Whether a "Précédent" link is offered (default true).
    #[serde(default)]
    pub back: Option<bool>,
    /// A theme template to render this page with, instead of the kind's own.
    #[serde(default)]
    pub template: Option<Located<String>>,
    /// A theme for this page only, for a page of another site (FranceConnect).
    #[serde(default)]
    pub theme: Option<Located<String>>,
    /// A printable document offered on this page (receipts).
    #[serde(default)]
    pub document: Option<Located<DocumentFile>>,
    /// The page waits for a link from the inbox: no button, the link goes on.
    #[serde(default)]
    pub wait_for_link: bool,
    /// Other ways off the page than its button, such as a look-alike
    /// "S'identifier avec FranceConnect" button or a "Mot de passe oublié ?"
    /// link: each goes to its step without checking the form.
    #[serde(default)]
    pub actions: Vec<Located<ActionFile>>,
    /// Whether the step shows on the récapitulatif (default true for the
    /// forms and choices a review lists). `false` keeps a step that only
    /// navigates, such as the choice of a way to log in, off it.
    #[serde(default)]
    pub recap: Option<Located<bool>>,
    /// A repeatable group: the step's fields describe one item of a list
    /// the visitor adds to, changes and removes from ("Ajouter un enfant").
    #[serde(default)]
    pub repeat: Option<Located<RepeatFile>>,
}

/// A way off a page that skips its form: a button or link of the real site.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionFile {
    /// `true`: the look-alike "S'identifier avec FranceConnect" button, with
    /// its "Qu'est-ce que FranceConnect ?"; `plus`: the FranceConnect+ one.
    /// Walkthroughs name it `franceconnect`.
    #[serde(default)]
    pub franceconnect: FranceConnectFile,
    /// The link's text, such as "Mot de passe oublié ?" (without
    /// `franceconnect`); walkthroughs name the action by its `goto`.
    #[serde(default)]
    pub label: Option<Located<String>>,
    /// The step it leads to (`$return` in a step group).
    pub goto: Located<String>,
}

/// A list of items, each made of the step's fields, that the visitor adds,
/// changes and removes one at a time. Expressions read it as
/// `answers.<name>`, a list of mappings of field name to value.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepeatFile {
    /// The list's name, unique among field names: `answers.enfants`.
    pub name: Located<String>,
    /// What one item is called, numbered in legends: `Enfant` gives "Enfant 2".
    pub item: Located<String>,
    /// The add button's label, such as "Ajouter un enfant".
    pub add: Located<String>,
    /// Fewest items accepted to go on (default 0).
    #[serde(default)]
    pub min: Option<Located<u32>>,
    /// Most items accepted (default 10, at most 20).
    #[serde(default)]
    pub max: Option<Located<u32>>,
    /// The items the list starts with (an expression giving a list of
    /// mappings whose keys are the step's field names), such as
    /// `persona.enfants`.
    #[serde(default)]
    pub prefill: Option<Located<String>>,
    /// The wording when there are too few items (`min`) or one too many
    /// would be added (`max`); templates that may use `{{ min }}`, `{{ max }}`.
    #[serde(default)]
    pub errors: RepeatErrorsFile,
}

/// The wording of a list's problems; unset ones use a generic wording.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepeatErrorsFile {
    /// When "Continuer" is pressed with fewer items than `min`.
    #[serde(default)]
    pub min: Option<Located<String>>,
    /// When an item is added to a list that has `max` already.
    #[serde(default)]
    pub max: Option<Located<String>>,
}

/// A step id, or a list of branches tried in order.
#[derive(Clone, Debug)]
pub(crate) enum NextFile {
    Step(Located<String>),
    Branches(Vec<Located<BranchFile>>),
}

/// One branch: go to `goto` if `if` holds (or always, without `if`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BranchFile {
    /// A condition (an expression), such as `answers.situation == "marie"`.
    #[serde(default, rename = "if")]
    pub when: Option<Located<String>>,
    /// The step to go to.
    pub goto: Located<String>,
}

impl<'de> Deserialize<'de> for NextFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NextVisitor;
        impl<'de> Visitor<'de> for NextVisitor {
            type Value = NextFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a step id or a list of { if, goto }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NextFile, E> {
                // The position is the one of the whole `next` value.
                Ok(NextFile::Step(Located::new(v.to_owned(), Default::default())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NextFile, A::Error> {
                let mut branches = Vec::new();
                while let Some(b) = seq.next_element::<Located<BranchFile>>()? {
                    branches.push(b);
                }
                Ok(NextFile::Branches(branches))
            }
        }
        d.deserialize_any(NextVisitor)
    }
}

impl JsonSchema for NextFile {
    fn schema_name() -> Cow<'static, str> {
        "Next".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A step id, or a list of `{ if, goto }` branches tried in order.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": g.subschema_for::<BranchFile>() }
            ]
        })
    }
}

/// Route to an incident after repeated failures.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OnFailureFile {
    /// How many failed attempts in a row (wrong password, wrong code).
    pub after: Located<u8>,
    /// The incident step to go to.
    pub goto: Located<String>,
}

/// One input of a page.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldFile {
    /// The answer's name, unique in the scenario; expressions read it as
    /// `answers.<name>`.
    pub name: Located<String>,
    /// A condition (an expression) on the values known before the page:
    /// the persona, earlier answers, computed values. The field is shown,
    /// required and checked only when it holds; otherwise its answer is
    /// dropped.
    #[serde(default, rename = "if")]
    pub when: Option<Located<String>>,
    /// The label shown above the input (a template).
    pub label: Located<String>,
    /// The kind of input.
    #[serde(rename = "type")]
    pub kind: Located<FieldType>,
    /// Help shown under the label, as the real site shows it (a template).
    #[serde(default)]
    pub hint: Option<Located<String>>,
    /// The value the input starts with (an expression), such as
    /// `persona.salaires` for a pre-filled box.
    #[serde(default)]
    pub prefill: Option<Located<String>>,
    /// Whether an answer is needed (default true).
    #[serde(default)]
    pub required: Option<bool>,
    /// Smallest value accepted: a number for a `number` or `money` field;
    /// for a `date`, a date (`2026-01-01`, `01/01/2026`), one relative to
    /// today (`today - 18y`, `today + 3m`, `today - 30d`, `year_start` for
    /// 1 January of this year) or another date
    /// answer (`answers.date_debut`, `answers.date_debut + 1d`).
    #[serde(default)]
    pub min: Option<Located<BoundFile>>,
    /// Largest value accepted, written as `min`.
    #[serde(default)]
    pub max: Option<Located<BoundFile>>,
    /// Whether a `money` amount may have cents (default true); `false` for
    /// boxes in whole euros, such as impots.gouv's revenue boxes.
    #[serde(default)]
    pub cents: Option<Located<bool>>,
    /// Longest text accepted (default 200 characters, 2000 for a textarea).
    #[serde(default)]
    pub max_length: Option<Located<u32>>,
    /// A regular expression the cleaned-up value must match.
    #[serde(default)]
    pub pattern: Option<Located<String>>,
    /// The value that must be typed (an expression), such as
    /// `persona.mot_de_passe` or `inbox.code`.
    #[serde(default)]
    pub expect: Option<Located<String>>,
    /// The real site's wording for each problem (templates).
    #[serde(default)]
    pub errors: ErrorsFile,
    /// Choices of a select, radio or checkbox group: a value, or
    /// `{ value, label, hint }`.
    #[serde(default)]
    pub options: Vec<Located<OptionFile>>,
    /// The HTML `autocomplete` token, such as `given-name`.
    #[serde(default)]
    pub autocomplete: Option<Located<String>>,
    /// File extensions a simulated upload accepts, such as `[pdf, jpg]`.
    #[serde(default)]
    pub accept: Vec<String>,
    /// A unit shown after the input, such as `€` or `heures`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// The wording of each error; unset ones use the real sites' usual wording.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorsFile {
    /// When the field is left empty.
    #[serde(default)]
    pub required: Option<Located<String>>,
    /// When the value has the wrong format.
    #[serde(default)]
    pub invalid: Option<Located<String>>,
    /// When the value is too long.
    #[serde(default)]
    pub too_long: Option<Located<String>>,
    /// When a number is below `min`.
    #[serde(default)]
    pub min: Option<Located<String>>,
    /// When a number is above `max`.
    #[serde(default)]
    pub max: Option<Located<String>>,
    /// When the value does not match `pattern`.
    #[serde(default)]
    pub pattern: Option<Located<String>>,
    /// When an amount in whole euros (`cents: false`) has cents.
    #[serde(default)]
    pub cents: Option<Located<String>>,
    /// When the value is not the expected one. May use `{{ attempts_left }}`.
    #[serde(default)]
    pub expect: Option<Located<String>>,
}

/// A bound of `min` or `max`: a number, or a date bound written as text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BoundFile {
    Number(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for BoundFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BoundVisitor;
        impl<'de> Visitor<'de> for BoundVisitor {
            type Value = BoundFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a date such as `2026-01-01` or `today - 18y`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BoundFile, E> {
                Ok(BoundFile::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v))
            }
        }
        d.deserialize_any(BoundVisitor)
    }
}

impl JsonSchema for BoundFile {
    fn schema_name() -> Cow<'static, str> {
        "Bound".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A number for `number` and `money` fields; for `date` fields a date (`2026-01-01`, `01/01/2026`), `today` or `year_start` (1 January of this year) with an optional offset (`today - 18y`, `today + 3m`, `today - 30d`), or another date answer (`answers.date_debut + 1d`).",
            "type": ["number", "string"]
        })
    }
}

/// One choice.
#[derive(Clone, Debug, JsonSchema)]
#[schemars(untagged)]
pub(crate) enum OptionFile {
    /// The value, also used as its label.
    Value(String),
    /// A value with its own label and hint.
    Labelled(LabelledOption),
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelledOption {
    /// What is stored and compared in expressions.
    pub value: String,
    /// What the person reads (a template).
    pub label: String,
    /// Help under the choice (a template).
    #[serde(default)]
    pub hint: Option<String>,
}

impl<'de> Deserialize<'de> for OptionFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OptionVisitor;
        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = OptionFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or { value, label }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OptionFile, E> {
                Ok(OptionFile::Value(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OptionFile, E> {
                Ok(OptionFile::Value(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OptionFile, E> {
                Ok(OptionFile::Value(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<OptionFile, A::Error> {
                LabelledOption::deserialize(de::value::MapAccessDeserializer::new(map)).map(OptionFile::Labelled)
            }
        }
        d.deserialize_any(OptionVisitor)
    }
}

/// A message sent to the rehearsal's simulated inbox or phone.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageFile {
    /// A condition (an expression), read after the step's answers are kept
    /// and its values computed: the message is sent only when it holds.
    #[serde(default, rename = "if")]
    pub when: Option<Located<String>>,
    /// `email` lands in the inbox, `sms` on the phone.
    pub channel: Located<Channel>,
    /// The sender shown, such as "Impôts — simulation".
    pub from: Located<String>,
    /// The subject of an e-mail (a template).
    #[serde(default)]
    pub subject: Option<Located<String>>,
    /// The message (a template). May use `{{ code }}` and `{{ link }}`.
    pub body: Located<String>,
    /// A code generated for this message: `{ digits: 6 }` or `{ fixed: "123456" }`.
    #[serde(default)]
    pub code: Option<Located<CodeFile>>,
    /// A link in the message that moves the rehearsal on when followed.
    #[serde(default)]
    pub link: Option<Located<LinkFile>>,
    /// How long the code or link stays valid, in minutes.
    #[serde(default)]
    pub valid_minutes: Option<Located<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum CodeFile {
    /// So many random digits.
    Digits(u8),
    /// Always this code, easy to rehearse with.
    Fixed(String),
}

/// A link in a message.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkFile {
    /// The link's text, such as "Activer mon espace".
    pub label: Located<String>,
    /// The step the link leads to.
    pub goto: Located<String>,
    /// The step it leads to once expired (default: it goes nowhere).
    #[serde(default)]
    pub expired_goto: Option<Located<String>>,
}

/// Whether an action is the FranceConnect button, and which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum FranceConnectFile {
    #[default]
    No,
    /// FranceConnect: any identity provider.
    Yes,
    /// FranceConnect+: the providers of a stronger identity check.
    Plus,
}

impl<'de> Deserialize<'de> for FranceConnectFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FcVisitor;
        impl Visitor<'_> for FcVisitor {
            type Value = FranceConnectFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false` or `plus`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FranceConnectFile, E> {
                Ok(if v { FranceConnectFile::Yes } else { FranceConnectFile::No })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FranceConnectFile, E> {
                match v {
                    "plus" => Ok(FranceConnectFile::Plus),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_any(FcVisitor)
    }
}

impl JsonSchema for FranceConnectFile {
    fn schema_name() -> Cow<'static, str> {
        "FranceConnect".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "`true` for the FranceConnect button, `plus` for the FranceConnect+ one.",
            "anyOf": [ { "type": "boolean" }, { "const": "plus" } ]
        })
    }
}

/// A printable document offered on a page.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentFile {
    /// The document template, in the theme's `documents/` folder (without `.html`).
    pub template: Located<String>,
    /// The document's title, such as "Accusé de réception".
    pub title: Located<String>,
}

/// Where a step group enters a scenario.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncludeFile {
    /// The group as `<operator>/<name>`, from `scenarios/<operator>/<name>.group.yaml`.
    pub group: Located<String>,
    /// The step the group's `$return` leads to.
    pub then: Located<String>,
}

/// A walkthrough: answers given step by step, and where the rehearsal
/// must end.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestFile {
    /// What the walkthrough shows, e.g. "chemin nominal, célibataire".
    pub name: Located<String>,
    /// The persona's seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Persona traits to impose, whatever the seed.
    #[serde(default)]
    pub persona: PersonaPinFile,
    /// For each step id, the values to submit (templates), or a list of
    /// attempts submitted in turn. The key `_link: follow` follows the
    /// last link of the inbox; `_wait_minutes: 540` lets time pass first.
    #[serde(default)]
    pub answers: Pairs<Located<AttemptsFile>>,
    /// The step the walkthrough must end on.
    pub ends_at: Located<String>,
    /// Expressions and the value they must give at the end, such as
    /// `computed.impot: "1111"`. The value is a template, as answers are:
    /// `computed.total: "{{ persona.salaires + 1000 }}"`.
    #[serde(default)]
    pub expect: Pairs<Located<String>>,
}

/// Persona traits a walkthrough imposes.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonaPinFile {
    #[serde(default)]
    pub situation_familiale: Option<Situation>,
    #[serde(default)]
    pub sexe: Option<Sexe>,
    /// Within 0..12, as `enfants` of the spec.
    #[serde(default)]
    #[schemars(range(max = 12))]
    pub enfants: Option<Located<u8>>,
    /// Within 16..110, as `age` of the spec.
    #[serde(default)]
    #[schemars(range(min = 16, max = 110))]
    pub age: Option<Located<u8>>,
    /// Retired, at work, on sick leave or looking for work, whatever the age.
    #[serde(default)]
    pub statut: Option<crate::persona::activity::Statut>,
}

/// One attempt (field to value), or a list of attempts.
#[derive(Clone, Debug)]
pub(crate) enum AttemptsFile {
    One(Pairs<Located<AnswerFile>>),
    Many(Vec<Located<Pairs<Located<AnswerFile>>>>),
}

/// A value to submit: text (a template), or a list for checkbox groups.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AnswerFile {
    Text(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for AttemptsFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttemptsVisitor;
        impl<'de> Visitor<'de> for AttemptsVisitor {
            type Value = AttemptsFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of field to value, or a list of them")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<AttemptsFile, A::Error> {
                Pairs::deserialize(de::value::MapAccessDeserializer::new(map)).map(AttemptsFile::One)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<AttemptsFile, A::Error> {
                let mut attempts = Vec::new();
                while let Some(a) = seq.next_element()? {
                    attempts.push(a);
                }
                Ok(AttemptsFile::Many(attempts))
            }
        }
        d.deserialize_any(AttemptsVisitor)
    }
}

impl JsonSchema for AttemptsFile {
    fn schema_name() -> Cow<'static, str> {
        "Attempts".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let one = g.subschema_for::<Pairs<AnswerFile>>();
        schemars::json_schema!({
            "description": "Field to value, or a list of such attempts submitted in turn.",
            "anyOf": [ one, { "type": "array", "items": one } ]
        })
    }
}

impl<'de> Deserialize<'de> for AnswerFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AnswerVisitor;
        impl<'de> Visitor<'de> for AnswerVisitor {
            type Value = AnswerFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, or a list of values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnswerFile, E> {
                Ok(AnswerFile::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnswerFile, E> {
                Ok(AnswerFile::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnswerFile, E> {
                Ok(AnswerFile::Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnswerFile, E> {
                Ok(AnswerFile::Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnswerFile, E> {
                Ok(AnswerFile::Text(if v { "on".to_owned() } else { String::new() }))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerFile, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(AnswerFile::List(items))
            }
        }
        d.deserialize_any(AnswerVisitor)
    }
}

impl JsonSchema for AnswerFile {
    fn schema_name() -> Cow<'static, str> {
        "Answer".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A value (a template), or a list of values for a checkbox group.",
            "anyOf": [
                { "type": ["string", "number", "boolean"] },
                { "type": "array", "items": { "type": ["string", "number"] } }
            ]
        })
    }
}
