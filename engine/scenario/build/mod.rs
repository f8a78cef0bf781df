//! From a parsed scenario file to a [`Scenario`], checking every reference
//! on the way: steps, fields, persona values, computed values, themes,
//! templates, step groups, expressions. Every problem is reported; the
//! scenario is kept only when there is none.
//!
//! One phase a module, run in this order by `Builder::scenario`: `card`
//! (the persona spec), `index` (names, so that later phases may point
//! forward), `steps` and `fields` (each resolving `references` and
//! compiling `expressions` on the way, with the theme's `documents`), then
//! the step graph ([`super::graph`]), the `walkthroughs`, and the card. The
//! phases share one `Builder`: what the index found, and the diagnostics.

use super::file::{self, AnswerFile, AttemptsFile, BoundFile, CodeFile, GroupFile, NextFile, OptionFile, ScenarioFile, StepFile, StepKind};
use super::*;
use crate::date_rule::DateBound;
use crate::diagnostic::{Diagnostic, Pos, did_you_mean};
use crate::expr::names::{DOCUMENT_LOCALS, FIELD_MESSAGE_LOCALS, FUNCTIONS, LIST_MESSAGE_LOCALS, MESSAGE_LOCALS, Root};
use crate::expr::{Expr, Text};
use crate::field::{FieldType, Problem, default_message};
use crate::persona::spec::Sexe;
use crate::persona::{self, PersonaSpec};
use crate::theme::ThemeSet;
use crate::yaml::Located;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

mod card;
mod documents;
mod expressions;
mod fields;
mod index;
mod references;
mod steps;
mod walkthroughs;

/// The goto target that leaves a step group.
pub(crate) const RETURN: &str = "$return";

/// A parsed step group, ready to be included.
#[derive(Debug)]
pub(crate) struct GroupDef {
    pub id: String,
    pub file: String,
    pub fingerprint: u64,
    pub parsed: GroupFile,
}

/// What a scenario may refer to outside its own file.
pub(crate) struct World<'a> {
    pub themes: &'a ThemeSet,
    pub groups: &'a BTreeMap<String, GroupDef>,
    /// File texts by display name, to point inside multi-line values.
    pub sources: &'a BTreeMap<String, String>,
}

/// Test answer keys that are actions, not fields.
pub(crate) const ACTION_KEYS: &[&str] = &["_link", "_wait_minutes", ACTION];
/// The test answer key, and the form name, of a step's action.
pub(crate) const ACTION: &str = "_action";
/// The key and label of the look-alike FranceConnect button.
pub(crate) const FRANCECONNECT: &str = "franceconnect";
pub(crate) const FRANCECONNECT_LABEL: &str = "S'identifier avec FranceConnect";
pub(crate) const FRANCECONNECT_PLUS_LABEL: &str = "S'identifier avec FranceConnect+";
/// Test answer keys of a repeatable group's step: change or remove item N
/// (from 1), or press "Continuer" (to rehearse too few items).
pub(crate) const LIST_ACTION_KEYS: &[&str] = &["_edit", "_remove", "_continue"];

/// A step with the file it was written in.
struct RawStep<'f> {
    step: &'f Located<StepFile>,
    file: String,
    group: Option<String>,
    /// Group steps: where `$return` leads.
    then: Option<&'f Located<String>>,
    /// The group's theme, for its steps without their own.
    group_theme: Option<&'f Located<String>>,
}

/// What the phases share: the world, what the index phase found, and the
/// diagnostics so far.
struct Builder<'a> {
    /// The scenario's file, as shown in diagnostics.
    file: String,
    world: &'a World<'a>,
    out: Vec<Diagnostic>,
    spec: PersonaSpec,
    /// Step ids to their index.
    index: BTreeMap<String, usize>,
    /// Field and list names.
    fields: BTreeSet<String>,
    /// Each field's type, by name.
    field_kinds: BTreeMap<String, FieldType>,
    computed: BTreeSet<String>,
    /// Persona paths read anywhere, in order, for the card.
    persona_reads: Vec<String>,
    /// Repeatable groups: list name to its items' field names.
    groups: BTreeMap<String, Vec<String>>,
    /// A goto or a start named no step: the graph check is then skipped,
    /// since that error already explains the steps it strands.
    unresolved: bool,
}

/// Builds the scenario `id` from its parsed file.
pub(crate) fn build(id: &str, display: &str, source: &str, parsed: &ScenarioFile, world: &World) -> (Option<Scenario>, Vec<Diagnostic>) {
    let mut b = Builder::new(display.to_owned(), world);
    let scenario = b.scenario(id, source, parsed);
    let mut out = b.out;
    out.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    out.dedup();
    if out.iter().any(Diagnostic::is_error) { (None, out) } else { (scenario, out) }
}

/// Checks a group no scenario includes, as if a scenario ended right after it.
pub(crate) fn check_unused_group(group: &GroupDef, world: &World) -> Vec<Diagnostic> {
    let end = Located::new(
        StepFile {
            id: Located::new("$fin".into(), Pos::UNKNOWN),
            kind: Located::new(StepKind::Receipt, Pos::UNKNOWN),
            title: Located::new("Fin".into(), Pos::UNKNOWN),
            section: None,
            text: None,
            hint: None,
            fields: vec![],
            next: None,
            on_failure: None,
            send: vec![],
            compute: Default::default(),
            button: None,
            back: None,
            template: None,
            theme: None,
            document: None,
            wait_for_link: false,
            actions: vec![],
            recap: None,
            repeat: None,
        },
        Pos::UNKNOWN,
    );
    let then = Located::new("$fin".to_owned(), Pos::UNKNOWN);
    let mut b = Builder::new(group.file.clone(), world);
    let mut raw: Vec<RawStep> = group
        .parsed
        .steps
        .iter()
        .map(|s| RawStep {
            step: s,
            file: group.file.clone(),
            group: Some(group.id.clone()),
            then: Some(&then),
            group_theme: group.parsed.theme.as_ref(),
        })
        .collect();
    raw.push(RawStep { step: &end, file: group.file.clone(), group: None, then: None, group_theme: None });
    if let Some(theme) = &group.parsed.theme {
        b.check_theme(theme, &group.file);
    }
    let steps = b.steps(&raw, "base");
    let entry = &group.parsed.entry;
    if let Some(start) = b.resolve(entry, &group.file)
        && !b.unresolved
    {
        graph::check(&steps, start, &mut b.out);
    }
    let mut out = b.out;
    out.retain(|d| d.file == group.file);
    out.dedup();
    out
}

impl<'a> Builder<'a> {
    /// An empty context for `file`.
    fn new(file: String, world: &'a World<'a>) -> Builder<'a> {
        Builder {
            file,
            world,
            out: Vec::new(),
            spec: PersonaSpec::default_at(time::macros::date!(2026 - 01 - 01)),
            index: BTreeMap::new(),
            fields: BTreeSet::new(),
            field_kinds: BTreeMap::new(),
            computed: BTreeSet::new(),
            persona_reads: Vec::new(),
            groups: BTreeMap::new(),
            unresolved: false,
        }
    }

    /// Records an error at `pos`, `len` characters wide.
    fn error(&mut self, file: &str, pos: Pos, len: u32, message: String, hint: Option<String>) {
        let mut d = Diagnostic::error(file, pos, message).with_width(len as usize);
        d.hint = hint;
        self.out.push(d);
    }

    /// The scenario's own values (date, persona, theme, included groups), then
    /// each phase in turn.
    fn scenario(&mut self, id: &str, source: &str, f: &ScenarioFile) -> Option<Scenario> {
        let file = self.file.clone();
        let years = persona::bounds::REFERENCE_YEARS;
        let reference_date = match parse_month(&f.valid_as_of) {
            Some(d) if (years.min..=years.max).contains(&i64::from(d.year())) => d,
            Some(_) => {
                self.error(
                    &file,
                    f.valid_as_of.pos,
                    f.valid_as_of.len,
                    format!("`valid_as_of` must lie within the years {years}; got {}", f.valid_as_of.value),
                    Some("personas' ages and dates are counted from it".into()),
                );
                time::macros::date!(2026 - 01 - 01)
            }
            None => {
                self.error(
                    &file,
                    f.valid_as_of.pos,
                    f.valid_as_of.len,
                    format!("`{}` is not a date", f.valid_as_of.value),
                    Some("write it as `2026-04` or `2026-04-15`".into()),
                );
                time::macros::date!(2026 - 01 - 01)
            }
        };
        self.spec = PersonaSpec::from_file(&f.persona, reference_date);
        self.check_persona_spec(f);

        let theme = match &f.theme {
            Some(t) => {
                self.check_theme(t, &file);
                t.value.clone()
            }
            None if self.world.themes.has(&f.operator) => f.operator.value.clone(),
            None => crate::theme::BASE.to_owned(),
        };

        // The scenario's own steps, then those of its groups.
        let mut raw: Vec<RawStep> =
            f.steps.iter().map(|s| RawStep { step: s, file: file.clone(), group: None, then: None, group_theme: None }).collect();
        let mut fingerprint = std::hash::DefaultHasher::new();
        source.hash(&mut fingerprint);
        for include in &f.includes {
            match self.world.groups.get(&include.group.value) {
                Some(group) => {
                    group.fingerprint.hash(&mut fingerprint);
                    if let Some(t) = &group.parsed.theme {
                        self.check_theme(t, &group.file);
                    }
                    raw.extend(group.parsed.steps.iter().map(|s| RawStep {
                        step: s,
                        file: group.file.clone(),
                        group: Some(group.id.clone()),
                        then: Some(&include.then),
                        group_theme: group.parsed.theme.as_ref(),
                    }));
                }
                None => {
                    let known: Vec<&str> = self.world.groups.keys().map(String::as_str).collect();
                    let hint = match did_you_mean(&include.group, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if known.is_empty() => "no step group is loaded".to_owned(),
                        None => format!("known groups: {}", known.join(", ")),
                    };
                    self.error(&file, include.group.pos, include.group.len, format!("no step group `{}`", include.group.value), Some(hint));
                }
            }
        }
        if raw.is_empty() {
            self.error(&file, Pos::new(1, 1), 1, "the scenario has no steps".into(), Some("add a `steps:` list".into()));
            return None;
        }
        if raw.len() > MAX_STEPS {
            self.error(
                &file,
                f.steps.get(MAX_STEPS).map_or(Pos::new(1, 1), |s| s.pos),
                1,
                format!("too many steps ({}; at most {MAX_STEPS})", raw.len()),
                Some("split the procedure into several scenarios".into()),
            );
            return None;
        }

        let steps = self.steps(&raw, &theme);
        let start = match &f.start {
            Some(s) => self.resolve(s, &file).unwrap_or(0),
            None => 0,
        };
        for include in &f.includes {
            self.resolve(&include.then, &file);
        }
        // A goto that names no step already explains the steps it strands.
        if !self.unresolved {
            graph::check(&steps, start, &mut self.out);
        }
        let tests = self.tests(f, &steps);

        let card = self.card(f);

        Some(Scenario {
            id: id.to_owned(),
            file: file.clone(),
            title: f.title.value.clone(),
            operator: f.operator.value.clone(),
            summary: f.summary.value.clone(),
            level: f.level.value,
            duration_minutes: f.duration_minutes.value,
            valid_as_of: f.valid_as_of.value.clone(),
            reference_date,
            sources: f.sources.iter().map(|s| s.value.clone()).collect(),
            real_site: f.real_site.as_ref().map(|s| s.value.clone()),
            theme,
            persona: self.spec.clone(),
            card,
            start,
            steps,
            tests,
            fingerprint: fingerprint.finish(),
        })
    }
}

/// More steps than this is a mistake, or an attack on the checker.
pub(crate) const MAX_STEPS: usize = 500;
/// Walkthroughs of one scenario: each is replayed at every check, and the
/// author pages replay them to start a rehearsal at a step.
pub(crate) const MAX_TESTS: usize = 50;
/// Fields of one step: each is rendered on every page and every submit.
pub(crate) const MAX_FIELDS: usize = 100;
/// Options of one field.
pub(crate) const MAX_OPTIONS: usize = 300;
/// Messages one step sends: each submit adds them to the inbox.
pub(crate) const MAX_MESSAGES: usize = 10;
/// Values one step computes: each submit evaluates them.
pub(crate) const MAX_COMPUTED: usize = 100;

/// `2026-04` (the first of the month) or `2026-04-15`.
fn parse_month(s: &str) -> Option<time::Date> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m] => (y, m, "1"),
        [y, m, d] => (y, m, *d),
        _ => return None,
    };
    if y.len() != 4 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}
