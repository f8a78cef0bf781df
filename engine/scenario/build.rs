//! From a parsed scenario file to a [`Scenario`], checking every reference
//! on the way: steps, fields, persona values, computed values, themes,
//! templates, step groups, expressions. Every problem is reported; the
//! scenario is kept only when there is none.

use super::file::{self, AnswerFile, AttemptsFile, BoundFile, CodeFile, GroupFile, NextFile, OptionFile, ScenarioFile, StepFile, StepKind};
use super::*;
use crate::date_rule::DateBound;
use crate::diagnostic::{Diagnostic, Pos, did_you_mean};
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

/// The goto target that leaves a step group.
pub const RETURN: &str = "$return";

/// A parsed step group, ready to be included.
#[derive(Debug)]
pub struct GroupDef {
    pub id: String,
    pub file: String,
    pub fingerprint: u64,
    pub parsed: GroupFile,
}

/// What a scenario may refer to outside its own file.
pub struct World<'a> {
    pub themes: &'a ThemeSet,
    pub groups: &'a BTreeMap<String, GroupDef>,
    /// File texts by display name, to point inside multi-line values.
    pub sources: &'a BTreeMap<String, String>,
}

/// Roots an expression may read, besides those of a particular place.
const ROOTS: &[&str] = &["persona", "answers", "computed", "inbox", "today", "clock", "scenario", "reference"];
/// minijinja's global functions and ours.
const FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug", "mois", "lipsum", "cycler", "joiner", "loop"];
const INBOX_KEYS: &[&str] = &["last", "code", "link", "expired", "count", "unread", "messages"];
const TODAY_KEYS: &[&str] = &["date", "iso", "year", "month", "day"];
const CLOCK_KEYS: &[&str] = &["minutes"];
const SCENARIO_KEYS: &[&str] = &["title", "operator"];
/// Test answer keys that are actions, not fields.
pub const ACTION_KEYS: &[&str] = &["_link", "_wait_minutes", ACTION];
/// The test answer key, and the form name, of a step's action.
pub const ACTION: &str = "_action";
/// The key and label of the look-alike FranceConnect button.
pub const FRANCECONNECT: &str = "franceconnect";
pub const FRANCECONNECT_LABEL: &str = "S'identifier avec FranceConnect";
pub const FRANCECONNECT_PLUS_LABEL: &str = "S'identifier avec FranceConnect+";
/// Test answer keys of a repeatable group's step: change or remove item N
/// (from 1), or press "Continuer" (to rehearse too few items).
pub const LIST_ACTION_KEYS: &[&str] = &["_edit", "_remove", "_continue"];

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

struct Builder<'a> {
    file: String,
    world: &'a World<'a>,
    out: Vec<Diagnostic>,
    spec: PersonaSpec,
    index: BTreeMap<String, usize>,
    fields: BTreeSet<String>,
    /// Each field's type, by name.
    field_kinds: BTreeMap<String, FieldType>,
    computed: BTreeSet<String>,
    /// Persona paths read anywhere, in order, for the card.
    persona_reads: Vec<String>,
    /// Repeatable groups: list name to its items' field names.
    groups: BTreeMap<String, Vec<String>>,
}

/// Builds the scenario `id` from its parsed file.
pub fn build(id: &str, display: &str, source: &str, parsed: &ScenarioFile, world: &World) -> (Option<Scenario>, Vec<Diagnostic>) {
    let mut b = Builder::new(display.to_owned(), world);
    let scenario = b.scenario(id, source, parsed);
    let mut out = b.out;
    out.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    out.dedup();
    if out.iter().any(Diagnostic::is_error) { (None, out) } else { (scenario, out) }
}

/// Checks a group no scenario includes, as if a scenario ended right after it.
pub fn check_unused_group(group: &GroupDef, world: &World) -> Vec<Diagnostic> {
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
        && !b.out.iter().any(|d| d.message.starts_with("no step `"))
    {
        graph::check(&steps, start, &mut b.out);
    }
    let mut out = b.out;
    out.retain(|d| d.file == group.file);
    out.dedup();
    out
}

impl<'a> Builder<'a> {
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
        }
    }

    fn error(&mut self, file: &str, pos: Pos, len: u32, message: String, hint: Option<String>) {
        let mut d = Diagnostic::error(file, pos, message).with_width(len as usize);
        d.hint = hint;
        self.out.push(d);
    }

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
        if !self.out.iter().any(|d| d.message.starts_with("no step `")) {
            graph::check(&steps, start, &mut self.out);
        }
        let tests = self.tests(f, &steps);

        let conditions = self.card_conditions(f);
        let mut card: Vec<CardItem> = Vec::new();
        for path in &self.persona_reads {
            let head = path.split('.').next().unwrap_or(path);
            if CARD_SKIP.contains(&head) || card.iter().any(|c| c.path == head) {
                continue;
            }
            // A `card:` entry's label and condition name the value, wherever it shows.
            let at = self.spec.card.iter().position(|(p, _)| p == head);
            let label = at.map_or_else(|| persona::label_of(head), |i| self.spec.card[i].1.clone());
            card.push(CardItem { path: head.to_owned(), label, when: at.and_then(|i| conditions[i].clone()) });
        }
        for (i, (path, label)) in self.spec.card.iter().enumerate() {
            if !card.iter().any(|c| &c.path == path) {
                card.push(CardItem { path: path.clone(), label: label.clone(), when: conditions[i].clone() });
            }
        }

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

    fn check_persona_spec(&mut self, f: &ScenarioFile) {
        let file = self.file.clone();
        self.out.extend(persona::bounds::check(&file, &f.persona));
        for entry in &f.persona.card {
            let path = entry.field().to_owned();
            let (pos, len) = match &entry.value {
                persona::spec::CardEntry::Labelled(l) => (l.field.pos, l.field.len),
                persona::spec::CardEntry::Field(_) => (entry.pos, entry.len),
            };
            if !self.spec.has_path(&path) {
                self.unknown_persona(&file, pos, len, &path, "");
            }
        }
        if let Some(sexes) = &f.persona.sexe {
            let mut seen = BTreeSet::new();
            for s in sexes {
                if !seen.insert(s.value == Sexe::F) {
                    self.error(&file, s.pos, s.len, "this value is listed twice".into(), None);
                }
            }
        }
        for (name, generator) in f.persona.fields.iter() {
            if let persona::spec::Generator::Choice(options) = &generator.value
                && options.is_empty()
            {
                self.error(
                    &file,
                    generator.pos,
                    generator.len,
                    format!("`{}` has no choices", name.value),
                    Some("list at least one value".into()),
                );
            }
        }
    }

    /// The `if:` of each `card:` entry, compiled: a condition on the
    /// persona alone, since the card shows before any answer.
    fn card_conditions(&mut self, f: &ScenarioFile) -> Vec<Option<Expr>> {
        let file = self.file.clone();
        let mut out = Vec::new();
        for entry in &f.persona.card {
            let when = match &entry.value {
                persona::spec::CardEntry::Labelled(l) => l.when.as_ref(),
                persona::spec::CardEntry::Field(_) => None,
            };
            let Some(when) = when else {
                out.push(None);
                continue;
            };
            let compiled = self.expr(when, &file, &[]);
            if let Some(e) = &compiled {
                for var in e.variables() {
                    if !var.starts_with("persona.") && var != "persona" {
                        let (pos, len) = self.locate(&file, when, &var);
                        self.error(
                            &file,
                            pos,
                            len,
                            format!("a card line's condition reads only the persona, not `{var}`"),
                            Some("the card shows before any answer: test a persona value, such as `persona.conjoint`".into()),
                        );
                    }
                }
            }
            out.push(compiled);
        }
        out
    }

    /// `prefix` is how the path is written where it failed: `persona.` in
    /// expressions, nothing on the card.
    fn unknown_persona(&mut self, file: &str, pos: Pos, len: u32, path: &str, prefix: &str) {
        let names = self.spec.field_names();
        let head = path.split('.').next().unwrap_or(path);
        let hint = if names.contains(&head) {
            "this persona value has no such part".to_owned()
        } else {
            match did_you_mean(head, names.iter().copied()) {
                Some(s) => format!("did you mean `{prefix}{s}`?"),
                None => "add it under `persona: fields:`, or see the persona reference".to_owned(),
            }
        };
        self.error(file, pos, len, format!("unknown persona field `{path}`"), Some(hint));
    }

    /// A persona trait a walkthrough imposes, within the bounds of the spec's own.
    fn pin(&mut self, pin: &Option<Located<u8>>, what: &str, bound: persona::spec::IntRange, file: &str) -> Option<u8> {
        let pin = pin.as_ref()?;
        if !(bound.min..=bound.max).contains(&i64::from(pin.value)) {
            self.error(file, pin.pos, pin.len, format!("`{what}` must lie within {bound}; got {}", pin.value), None);
        }
        Some(pin.value)
    }

    fn check_theme(&mut self, theme: &Located<String>, file: &str) {
        if !self.world.themes.has(&theme.value) {
            let names: Vec<&str> = self.world.themes.names().collect();
            let hint = match did_you_mean(&theme.value, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known themes: {}", names.join(", ")),
            };
            self.error(file, theme.pos, theme.len, format!("no theme `{}`", theme.value), Some(hint));
        }
    }

    /// A step id to its index, or an error that says which ids exist.
    fn resolve(&mut self, target: &Located<String>, file: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(&target.value) {
            return Some(i);
        }
        let known: Vec<&str> = self.index.keys().map(String::as_str).filter(|k| !k.starts_with('$')).collect();
        let hint = match did_you_mean(&target.value, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("steps are: {}", known.join(", ")),
        };
        self.error(file, target.pos, target.len, format!("no step `{}`", target.value), Some(hint));
        None
    }

    /// Resolves a goto written in a step, where `$return` leaves a group.
    fn goto(&mut self, target: &Located<String>, raw: &RawStep) -> Option<usize> {
        if target.value == RETURN {
            return match raw.then {
                Some(then) => self.index.get(&then.value).copied(),
                None => {
                    self.error(
                        &raw.file,
                        target.pos,
                        target.len,
                        "`$return` is only allowed in a step group".into(),
                        Some("name the step to go to".into()),
                    );
                    None
                }
            };
        }
        if raw.then.is_some() && !self.index.contains_key(&target.value) {
            // In a group, suggest `$return` too.
            let mut known: Vec<&str> = self.index.keys().map(String::as_str).filter(|k| !k.starts_with('$')).collect();
            known.push(RETURN);
            let hint = match did_you_mean(&target.value, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("steps are: {}", known.join(", ")),
            };
            self.error(&raw.file, target.pos, target.len, format!("no step `{}`", target.value), Some(hint));
            return None;
        }
        self.resolve(target, &raw.file)
    }

    fn steps(&mut self, raw: &[RawStep], scenario_theme: &str) -> Vec<Step> {
        // Ids first, so that gotos can point forward.
        let mut first_seen: BTreeMap<String, Pos> = BTreeMap::new();
        for (i, r) in raw.iter().enumerate() {
            let id = &r.step.id;
            if let Some(first) = first_seen.get(&id.value) {
                let message = format!("duplicate step id `{}` (first used at line {})", id.value, first.line);
                self.error(&r.file, id.pos, id.len, message, Some("give each step its own id".into()));
                continue;
            }
            if id.value.is_empty() || (id.value.starts_with('$') && id.value != "$fin") {
                self.error(
                    &r.file,
                    id.pos,
                    id.len,
                    format!("`{}` is not a valid step id", id.value),
                    Some("use letters, digits and dashes".into()),
                );
            }
            first_seen.insert(id.value.clone(), id.pos);
            self.index.insert(id.value.clone(), i);
        }
        // Field and computed names next, so that expressions can read any.
        let mut field_seen: BTreeMap<String, Pos> = BTreeMap::new();
        for r in raw {
            if let Some(repeat) = &r.step.repeat {
                // An item's fields are read through the list, as
                // `answers.<list>[0].<field>`: their names are the list's own.
                let mut own: BTreeMap<&str, Pos> = BTreeMap::new();
                for f in &r.step.fields {
                    let name = &f.name;
                    if let Some(first) = own.get(name.value.as_str()) {
                        let message = format!("duplicate field name `{}` (first used at line {})", name.value, first.line);
                        self.error(&r.file, name.pos, name.len, message, Some("each field of an item needs its own name".into()));
                    } else if !valid_name(&name.value) {
                        self.error(
                            &r.file,
                            name.pos,
                            name.len,
                            format!("`{}` is not a valid field name", name.value),
                            Some("use letters, digits, `_` and `-`, not starting with `_`".into()),
                        );
                    }
                    own.insert(&name.value, name.pos);
                }
                let name = &repeat.name;
                if let Some(first) = field_seen.get(&name.value) {
                    let message = format!("duplicate field name `{}` (first used at line {})", name.value, first.line);
                    self.error(&r.file, name.pos, name.len, message, Some("a list is read as `answers.<name>`, as a field".into()));
                } else if !valid_name(&name.value) {
                    self.error(
                        &r.file,
                        name.pos,
                        name.len,
                        format!("`{}` is not a valid list name", name.value),
                        Some("use letters, digits, `_` and `-`, not starting with `_`".into()),
                    );
                }
                field_seen.insert(name.value.clone(), name.pos);
                self.fields.insert(name.value.clone());
                self.groups.insert(name.value.clone(), own.keys().map(|k| (*k).to_owned()).collect());
                for (name, _) in r.step.compute.iter() {
                    if !self.computed.insert(name.value.clone()) {
                        self.error(&r.file, name.pos, name.len, format!("duplicate computed value `{}`", name.value), None);
                    }
                }
                continue;
            }
            for f in &r.step.fields {
                let name = &f.name;
                if let Some(first) = field_seen.get(&name.value) {
                    let message = format!("duplicate field name `{}` (first used at line {})", name.value, first.line);
                    self.error(&r.file, name.pos, name.len, message, Some("answers are read by name: give each field its own".into()));
                } else if !valid_name(&name.value) {
                    self.error(
                        &r.file,
                        name.pos,
                        name.len,
                        format!("`{}` is not a valid field name", name.value),
                        Some("use letters, digits, `_` and `-`, not starting with `_`".into()),
                    );
                }
                field_seen.insert(name.value.clone(), name.pos);
                self.fields.insert(name.value.clone());
                self.field_kinds.entry(name.value.clone()).or_insert(f.kind.value);
            }
            // The same name may be computed on several steps: branches that
            // rejoin each set `computed.montant`, and the steps after read it.
            for (name, _) in r.step.compute.iter() {
                self.computed.insert(name.value.clone());
            }
        }
        raw.iter().map(|r| self.step(r, scenario_theme)).collect()
    }

    fn step(&mut self, r: &RawStep, scenario_theme: &str) -> Step {
        let s = &r.step.value;
        let file = r.file.clone();
        let kind = s.kind.value;
        let theme = s.theme.as_ref().or(r.group_theme);
        if let Some(t) = &s.theme {
            self.check_theme(t, &file);
        }
        let effective_theme = theme.map_or(scenario_theme, |t| t.value.as_str()).to_owned();

        let counts = [
            (s.fields.get(MAX_FIELDS).map(|x| x.pos), s.fields.len(), "fields", MAX_FIELDS),
            (s.send.get(MAX_MESSAGES).map(|x| x.pos), s.send.len(), "messages", MAX_MESSAGES),
            (s.compute.0.get(MAX_COMPUTED).map(|x| x.0.pos), s.compute.0.len(), "computed values", MAX_COMPUTED),
        ];
        for (extra, count, what, max) in counts {
            if let Some(pos) = extra {
                self.error(&file, pos, 1, format!("too many {what} in step `{}` ({count}; at most {max})", s.id.value), None);
            }
        }
        let title = self.text(&s.title, &file, &[]);
        let text = s.text.as_ref().map(|t| self.text(t, &file, &[]));
        let hint = s.hint.as_ref().map(|t| self.text(t, &file, &[]));
        let fields: Vec<Field> = s.fields.iter().map(|f| self.field(f, &file, kind)).collect();
        self.check_conditions(s, &file);
        let repeat = s.repeat.as_ref().and_then(|rp| self.repeat(rp, s, &file));
        if let Some(recap) = &s.recap
            && recap.value
            && !matches!(kind, StepKind::Form | StepKind::Choice)
        {
            self.error(
                &file,
                recap.pos,
                recap.len,
                format!("only `form` and `choice` steps are on the récapitulatif; this step is `{}`", kind.name()),
                Some("only `form` and `choice` steps are listed there".into()),
            );
        }

        match kind {
            StepKind::Review | StepKind::Receipt | StepKind::Incident | StepKind::Info if !s.fields.is_empty() => {
                self.error(
                    &file,
                    s.fields[0].pos,
                    1,
                    format!("a `{}` step has no fields", kind.name()),
                    Some("use a `form` step to ask for answers".into()),
                );
            }
            StepKind::Choice => {
                let choosers = s.fields.iter().filter(|f| f.kind.value.has_options()).count();
                if s.fields.len() != 1 || choosers != 1 {
                    self.error(
                        &file,
                        s.kind.pos,
                        s.kind.len,
                        "a `choice` step asks one question: exactly one `radio` or `select` field".into(),
                        Some("use a `form` step for several fields".into()),
                    );
                }
            }
            _ => {}
        }
        if s.wait_for_link && (s.next.is_some() || !s.fields.is_empty()) {
            self.error(
                &file,
                s.id.pos,
                s.id.len,
                format!("step `{}` waits for a link: it has no `next` and no fields", s.id.value),
                Some("the link's `goto` says where the rehearsal goes".into()),
            );
        }

        let next = match &s.next {
            None => Vec::new(),
            Some(n) => match &n.value {
                NextFile::Step(target) => {
                    let target = Located { value: target.value.clone(), pos: n.pos, len: n.len };
                    self.goto(&target, r).map(|goto| vec![Branch { when: None, goto }]).unwrap_or_default()
                }
                NextFile::Branches(branches) => {
                    let mut out = Vec::new();
                    for (i, br) in branches.iter().enumerate() {
                        let when = br.when.as_ref().and_then(|w| self.expr(w, &file, &[]));
                        if br.when.is_none() && i + 1 < branches.len() {
                            self.error(
                                &file,
                                branches[i + 1].pos,
                                1,
                                "this branch can never be taken: the one before has no `if`".into(),
                                Some("put the branch without `if` last".into()),
                            );
                        }
                        if let Some(goto) = self.goto(&br.goto, r) {
                            out.push(Branch { when, goto });
                        }
                    }
                    out
                }
            },
        };
        let on_failure = s.on_failure.as_ref().and_then(|of| {
            if of.after.value == 0 {
                self.error(&file, of.after.pos, of.after.len, "`after` must be at least 1".into(), None);
            }
            let goto = self.goto(&of.goto, r)?;
            Some(OnFailure { after: of.after.value.max(1), goto })
        });
        let send = s.send.iter().filter_map(|m| self.message(m, r)).collect();
        let compute = s.compute.iter().filter_map(|(name, e)| self.expr(e, &file, &[]).map(|e| (name.value.clone(), e))).collect();
        let theme_known = self.world.themes.has(&effective_theme);
        if let Some(t) = s.template.as_ref().filter(|_| theme_known) {
            let name = template_name(&t.value);
            if self.world.themes.template(&effective_theme, &name).is_none() {
                self.error(
                    &file,
                    t.pos,
                    t.len,
                    format!("theme `{effective_theme}` has no template `{name}`"),
                    Some(format!("add themes/{effective_theme}/templates/{name}, or remove `template:`")),
                );
            }
        }
        let document = s.document.as_ref().map(|d| {
            let path = format!("documents/{}", template_name(&d.template.value));
            if theme_known && self.world.themes.template(&effective_theme, &path).is_none() {
                self.error(
                    &file,
                    d.template.pos,
                    d.template.len,
                    format!("theme `{effective_theme}` has no document template `{}`", d.template.value),
                    Some(format!("add themes/{effective_theme}/templates/{path}")),
                );
            }
            if theme_known {
                self.check_document(&effective_theme, &path, &s.id.value);
            }
            Document { template: path, title: d.title.value.clone() }
        });

        Step {
            id: s.id.value.clone(),
            kind,
            title,
            section: s.section.as_ref().map(|x| x.value.clone()),
            text,
            hint,
            fields,
            next,
            on_failure,
            send,
            compute,
            button: s.button.as_ref().map(|b| b.value.clone()),
            back: s.back.unwrap_or(true),
            template: s.template.as_ref().map(|t| template_name(&t.value)),
            theme: theme.map(|t| t.value.clone()),
            document,
            wait_for_link: s.wait_for_link,
            actions: self.actions(r),
            recap: s.recap.as_ref().is_none_or(|r| r.value),
            repeat,
            origin: Origin { file, pos: s.id.pos, group: r.group.clone() },
        }
    }

    /// A step's actions: each with a label or `franceconnect: true`, each
    /// key once, on a page that has a form to skip.
    fn actions(&mut self, r: &RawStep) -> Vec<Action> {
        let s = &r.step.value;
        let file = r.file.clone();
        if let Some(first) = s.actions.first()
            && matches!(s.kind.value, StepKind::Review | StepKind::Receipt | StepKind::Incident)
        {
            let message = format!("a `{}` step has no `actions`", s.kind.value.name());
            self.error(&file, first.pos, 1, message, Some("actions go on `info`, `form`, `login` and `choice` steps".into()));
        }
        let mut out: Vec<Action> = Vec::new();
        for a in &s.actions {
            let fc = a.franceconnect != file::FranceConnectFile::No;
            let plus = a.franceconnect == file::FranceConnectFile::Plus;
            let label = match (fc, &a.label) {
                (true, None) if plus => FRANCECONNECT_PLUS_LABEL.to_owned(),
                (true, None) => FRANCECONNECT_LABEL.to_owned(),
                (false, Some(l)) => l.value.clone(),
                (true, Some(l)) => {
                    let hint = Some("the FranceConnect button has its own wording: remove `label:`".into());
                    self.error(&file, l.pos, l.len, "an action is either `franceconnect: true` or has a `label`".into(), hint);
                    continue;
                }
                (false, None) => {
                    let hint = Some("add `label: \"Mot de passe oublié ?\"`, or `franceconnect: true`".into());
                    self.error(&file, a.pos, 1, "this action has no `label`".into(), hint);
                    continue;
                }
            };
            let Some(goto) = self.goto(&a.goto, r) else { continue };
            let key = if fc { FRANCECONNECT.to_owned() } else { a.goto.value.clone() };
            if out.iter().any(|o| o.key == key) {
                let message =
                    if fc { "the FranceConnect button is listed twice".to_owned() } else { format!("two actions lead to `{key}`") };
                self.error(&file, a.pos, 1, message, Some("walkthroughs name an action by its `goto`: keep one".into()));
                continue;
            }
            out.push(Action { key, label, franceconnect: fc, plus, goto });
        }
        out
    }

    /// A field's `if:` is read before the page is shown, so it cannot read
    /// an answer of its own page: that answer is not known yet.
    fn check_conditions(&mut self, s: &StepFile, file: &str) {
        let own: Vec<&str> = s.fields.iter().map(|f| f.name.value.as_str()).collect();
        for f in &s.fields {
            let Some(when) = &f.when else { continue };
            let Ok(e) = Expr::compile(&when.value) else { continue };
            for var in e.variables() {
                let Some(read) = var.strip_prefix("answers.") else { continue };
                let read = read.split('.').next().unwrap_or(read);
                if own.contains(&read) && s.repeat.is_none() {
                    let (pos, len) = self.locate(file, when, &var);
                    self.error(
                        file,
                        pos,
                        len,
                        format!("the condition of field `{}` reads `answers.{read}`, a field of the same step", f.name.value),
                        Some(format!(
                            "conditions are evaluated before the page is shown, on the persona and earlier answers: ask `{read}` on an earlier step"
                        )),
                    );
                } else if s.repeat.is_some() && own.contains(&read) {
                    let (pos, len) = self.locate(file, when, &var);
                    self.error(
                        file,
                        pos,
                        len,
                        format!(
                            "the condition of field `{}` reads `answers.{read}`, but `{read}` is a field of the list's items",
                            f.name.value
                        ),
                        Some("an item field's condition reads the persona and earlier answers".into()),
                    );
                }
            }
        }
    }

    /// The `repeat:` of a step: its bounds, its wording, its prefill.
    fn repeat(&mut self, rp: &Located<file::RepeatFile>, s: &StepFile, file: &str) -> Option<Repeat> {
        if s.kind.value != StepKind::Form {
            self.error(
                file,
                rp.pos,
                rp.len,
                format!("`repeat` applies to `form` steps; this step is `{}`", s.kind.value.name()),
                Some("write the item's fields in a `form` step".into()),
            );
        }
        if s.fields.is_empty() {
            self.error(
                file,
                rp.pos,
                rp.len,
                format!("the list `{}` has no fields for its items", rp.name.value),
                Some("list each item's fields under the step's `fields:`".into()),
            );
        }
        for f in &s.fields {
            if let Some(p) = &f.prefill {
                self.error(
                    file,
                    p.pos,
                    p.len,
                    format!("a field of the list `{}` takes no `prefill`", rp.name.value),
                    Some("a new item starts empty; use `repeat: prefill:` to start the list with items".into()),
                );
            }
        }
        let min = rp.min.as_ref().map_or(0, |m| m.value);
        let max = rp.max.as_ref().map_or(10.max(min), |m| m.value);
        if let Some(m) = &rp.max
            && (m.value == 0 || m.value > MAX_ITEMS)
        {
            self.error(file, m.pos, m.len, format!("`max` must lie within 1..{MAX_ITEMS}; got {}", m.value), None);
        }
        if let (Some(lo), Some(hi)) = (&rp.min, &rp.max)
            && lo.value > hi.value
        {
            self.error(file, hi.pos, hi.len, format!("`max` ({}) is below `min` ({})", hi.value, lo.value), None);
        } else if let Some(lo) = rp.min.as_ref().filter(|m| m.value > MAX_ITEMS) {
            self.error(file, lo.pos, lo.len, format!("`min` must lie within 0..{MAX_ITEMS}; got {}", lo.value), None);
        }
        let prefill = rp.prefill.as_ref().and_then(|p| self.expr(p, file, &[]));
        let local = ["min", "max"];
        let too_few = match &rp.errors.min {
            Some(t) => self.text(t, file, &local),
            None => Text::compile(TOO_FEW).expect("built-in message"),
        };
        let too_many = match &rp.errors.max {
            Some(t) => self.text(t, file, &local),
            None => Text::compile(TOO_MANY).expect("built-in message"),
        };
        Some(Repeat {
            name: rp.name.value.clone(),
            item: rp.item.value.clone(),
            add: rp.add.value.clone(),
            min,
            max: max.clamp(1, MAX_ITEMS),
            prefill,
            too_few,
            too_many,
        })
    }

    fn field(&mut self, f: &Located<file::FieldFile>, file: &str, step_kind: StepKind) -> Field {
        let kind = f.kind.value;
        let when = f.when.as_ref().and_then(|w| self.expr(w, file, &[]));
        let label = self.text(&f.label, file, &[]);
        let hint = f.hint.as_ref().map(|h| self.text(h, file, &[]));
        let prefill = f.prefill.as_ref().and_then(|p| self.expr(p, file, &[]));
        let expect = f.expect.as_ref().and_then(|e| self.expr(e, file, &[]));
        let options: Vec<Choice> = f
            .options
            .iter()
            .map(|o| {
                let at = |text: &str| Located { value: text.to_owned(), pos: o.pos, len: o.len };
                match &o.value {
                    OptionFile::Value(v) => Choice { value: v.clone(), label: self.text(&at(v), file, &[]), hint: None },
                    OptionFile::Labelled(l) => Choice {
                        value: l.value.clone(),
                        label: self.text(&at(&l.label), file, &[]),
                        hint: l.hint.as_ref().map(|h| self.text(&at(h), file, &[])),
                    },
                }
            })
            .collect();
        let name = &f.name.value;
        if let Some(extra) = f.options.get(MAX_OPTIONS) {
            self.error(
                file,
                extra.pos,
                1,
                format!("too many options in field `{name}` ({}; at most {MAX_OPTIONS})", f.options.len()),
                None,
            );
        }
        if kind.has_options() && options.is_empty() {
            self.error(
                file,
                f.kind.pos,
                f.kind.len,
                format!("field `{name}` is a `{}` without `options`", kind.name()),
                Some("list the choices under `options:`".into()),
            );
        }
        if !options.is_empty() && !kind.has_options() && kind != FieldType::Checkbox {
            self.error(
                file,
                f.options[0].pos,
                1,
                format!("a `{}` field has no `options`", kind.name()),
                Some("use `select`, `radio` or `checkbox`".into()),
            );
        }
        let mut values = BTreeSet::new();
        for (o, raw) in options.iter().zip(&f.options) {
            if !values.insert(o.value.clone()) {
                self.error(file, raw.pos, raw.len, format!("option `{}` is listed twice", o.value), None);
            }
        }
        let (min, min_date) = self.bound(f.min.as_ref(), "min", kind, name, file);
        let (max, max_date) = self.bound(f.max.as_ref(), "max", kind, name, file);
        let fixed = |b: &Option<DateBound>| match b.as_ref().map(|b| (&b.base, b.offset)) {
            Some((crate::date_rule::Base::Fixed(d), 0)) => Some(*d),
            _ => None,
        };
        let too_low = match (min, max, fixed(&min_date), fixed(&max_date)) {
            (Some(lo), Some(hi), _, _) => (lo > hi).then(|| (crate::expr::number(&lo.into()), crate::expr::number(&hi.into()))),
            (_, _, Some(lo), Some(hi)) => (lo > hi).then(|| (persona::format_date(lo), persona::format_date(hi))),
            _ => None,
        };
        if let (Some((lo, hi)), Some(at)) = (too_low, &f.max) {
            self.error(file, at.pos, at.len, format!("`max` ({hi}) is below `min` ({lo})"), None);
        }
        if let Some(c) = &f.cents
            && kind != FieldType::Money
        {
            self.error(
                file,
                c.pos,
                c.len,
                "`cents` applies to `money` fields".into(),
                Some("remove it, or make the field `type: money`".into()),
            );
        }
        let pattern =
            f.pattern.as_ref().and_then(|p| match regex::RegexBuilder::new(&format!("^(?:{})$", p.value)).size_limit(1 << 20).build() {
                Ok(re) => Some(re),
                Err(e) => {
                    let detail = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                    self.error(file, p.pos, p.len, format!("`pattern` is not a valid regular expression: {detail}"), None);
                    None
                }
            });
        if !f.accept.is_empty() && kind != FieldType::File {
            self.error(file, f.kind.pos, f.kind.len, "`accept` applies to `file` fields".into(), None);
        }
        if step_kind == StepKind::Login && kind == FieldType::Password && f.expect.is_none() {
            self.error(
                file,
                f.name.pos,
                f.name.len,
                format!("the password `{name}` of a login step has no `expect`"),
                Some("add `expect: persona.mot_de_passe`".into()),
            );
        }
        let mut messages = BTreeMap::new();
        let authored = [
            (Problem::Required, &f.errors.required),
            (Problem::Invalid, &f.errors.invalid),
            (Problem::TooLong, &f.errors.too_long),
            (Problem::Min, &f.errors.min),
            (Problem::Max, &f.errors.max),
            (Problem::Pattern, &f.errors.pattern),
            (Problem::Cents, &f.errors.cents),
            (Problem::Expect, &f.errors.expect),
        ];
        let local = ["label", "min", "max", "max_length", "attempts_left", "value"];
        for (problem, text) in authored {
            let t = match text {
                Some(t) => self.text(t, file, &local),
                None if problem == Problem::Max && max_date.as_ref().is_some_and(DateBound::is_today) => {
                    Text::compile(crate::field::NOT_IN_FUTURE).expect("built-in message")
                }
                None => Text::compile(default_message(kind, problem, !options.is_empty())).expect("built-in message"),
            };
            messages.insert(problem.key(), t);
        }
        messages.insert(Problem::RealData.key(), Text::compile(crate::field::REAL_DATA_MESSAGE).expect("fixed text"));
        if let Some(a) = &f.autocomplete
            && let Err(why) = check_autocomplete(&a.value, kind)
        {
            self.error(
                file,
                a.pos,
                a.len,
                why,
                Some("see the HTML list of autofill field names, such as `given-name`, `address-line1`, `postal-code`, `tel`".into()),
            );
        }
        let max_length = f.max_length.as_ref().map_or(kind.default_max_length(), |m| m.value as usize);
        if let Some(m) = &f.max_length {
            if !TEXT_KINDS.contains(&kind) {
                self.error(
                    file,
                    m.pos,
                    m.len,
                    format!("`max_length` applies to text fields (`text`, `textarea`, `password`, `email`), not to a `{}`", kind.name()),
                    Some("remove it: the type already says what is accepted".into()),
                );
            } else if m.value == 0 || m.value as usize > kind.hard_max_length() {
                self.error(file, m.pos, m.len, format!("`max_length` must be between 1 and {}", kind.hard_max_length()), None);
            }
        }
        Field {
            name: name.clone(),
            when,
            label,
            kind,
            hint,
            prefill,
            required: f.required.unwrap_or(true),
            min,
            max,
            min_date,
            max_date,
            cents: f.cents.as_ref().is_none_or(|c| c.value),
            max_length,
            pattern,
            expect,
            messages,
            option_values: options.iter().map(|o| o.value.clone()).collect(),
            options,
            autocomplete: f.autocomplete.as_ref().map(|a| a.value.clone()),
            accept: f.accept.iter().map(|a| a.trim_start_matches('.').to_lowercase()).collect(),
            unit: f.unit.clone(),
        }
    }

    /// A theme document reads the rehearsal's values: each one must exist
    /// in this scenario, or the printed document would show an empty
    /// " €" where an amount should be. Reported in the document's file, at
    /// the line that reads it, naming the scenario.
    fn check_document(&mut self, theme: &str, path: &str, step: &str) {
        let (Some(source), Some(doc_file)) = (self.world.themes.template(theme, path), self.world.themes.template_file(theme, path)) else {
            return;
        };
        let mut env = minijinja::Environment::new();
        crate::expr::add_filters(&mut env);
        let Ok(template) = env.template_from_str(source) else { return };
        let vars: BTreeSet<String> = template.undeclared_variables(true).into_iter().collect();
        let (source, doc_file) = (source.to_owned(), doc_file.to_owned());
        let used_by = format!("document of step `{step}` in {}", self.file);
        let guards = super::document::guarded(&source);
        for var in &vars {
            let Some((message, hint)) = self.document_problem(var) else { continue };
            // Reads inside `{% if x is defined %}` count only where `x` exists.
            let unguarded = super::document::places(&source, var).into_iter().find(|at| {
                !guards.iter().any(|(range, tested)| range.contains(at) && tested.iter().any(|t| self.document_problem(t).is_some()))
            });
            let Some(at) = unguarded else { continue };
            let pos = super::document::position(&source, at);
            let len = var.chars().count() as u32;
            self.error(&doc_file, pos, len, format!("{message} ({used_by})"), Some(hint));
        }
    }

    /// What is wrong with a value a document reads, if anything.
    fn document_problem(&self, var: &str) -> Option<(String, String)> {
        let mut parts = var.split('.');
        let root = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        match root {
            "persona" => {
                rest.first()?;
                let path = rest.iter().take(2).copied().collect::<Vec<_>>().join(".");
                (!self.spec.has_path(&path)).then(|| (format!("unknown persona field `{path}`"), "see the persona reference".to_owned()))
            }
            "answers" => self.member(rest.first(), &self.fields, "answers", "no field of the scenario is named so"),
            "computed" => self.member(rest.first(), &self.computed, "computed", "no step of the scenario computes it"),
            "inbox" => self.member(rest.first(), &to_set(INBOX_KEYS), "inbox", "the inbox has no such value"),
            "today" => self.member(rest.first(), &to_set(TODAY_KEYS), "today", "`today` has no such value"),
            "clock" => self.member(rest.first(), &to_set(CLOCK_KEYS), "clock", "`clock` has no such value"),
            "scenario" => self.member(rest.first(), &to_set(SCENARIO_KEYS), "scenario", "`scenario` has no such value"),
            other if ROOTS.contains(&other) || DOCUMENT_ROOTS.contains(&other) || FUNCTIONS.contains(&other) => None,
            other => {
                let mut roots: Vec<&str> = ROOTS.to_vec();
                roots.extend(DOCUMENT_ROOTS);
                let hint = match did_you_mean(other, roots.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a document can read: {}", roots.join(", ")),
                };
                Some((format!("unknown variable `{other}`"), hint))
            }
        }
    }

    /// A field's `min` or `max`: a number for numbers and amounts, a date
    /// bound for dates; anything else is a misuse, reported where written.
    fn bound(
        &mut self,
        bound: Option<&Located<BoundFile>>,
        what: &str,
        kind: FieldType,
        name: &str,
        file: &str,
    ) -> (Option<f64>, Option<DateBound>) {
        let Some(b) = bound else { return (None, None) };
        match (kind, &b.value) {
            (FieldType::Number | FieldType::Money, BoundFile::Number(n)) => (Some(*n), None),
            (FieldType::Number | FieldType::Money, BoundFile::Text(t)) => {
                self.error(
                    file,
                    b.pos,
                    b.len,
                    format!("`{what}` of a `{}` field is a number; got `{t}`", kind.name()),
                    Some("date bounds such as `today` apply to `date` fields".into()),
                );
                (None, None)
            }
            (FieldType::Date, BoundFile::Number(n)) => {
                let n = crate::expr::number(&(*n).into()).replace('\u{202f}', "");
                self.error(file, b.pos, b.len, format!("`{what}` of a `date` field is a date; got `{n}`"), Some(DATE_BOUND_HINT.into()));
                (None, None)
            }
            (FieldType::Date, BoundFile::Text(t)) => match DateBound::parse(t) {
                Ok(bound) => {
                    if let Some(other) = bound.answer() {
                        let at = || {
                            let needle = format!("answers.{other}");
                            self.locate(file, &Located { value: t.clone(), pos: b.pos, len: b.len }, &needle)
                        };
                        match self.field_kinds.get(other).copied() {
                            _ if other == name => {
                                let (pos, len) = at();
                                self.error(
                                    file,
                                    pos,
                                    len,
                                    format!("`{what}` of `{name}` reads its own answer"),
                                    Some(DATE_BOUND_HINT.into()),
                                );
                            }
                            Some(FieldType::Date) => {}
                            Some(k) => {
                                let (pos, len) = at();
                                let message = format!("`{what}` of `{name}` reads `answers.{other}`, a `{}` field, not a `date`", k.name());
                                self.error(file, pos, len, message, None);
                            }
                            None => {
                                let (pos, len) = at();
                                let (message, hint) =
                                    self.member(Some(&other), &self.fields.clone(), "answers", "no field is named so").unwrap_or_default();
                                self.error(file, pos, len, message, Some(hint));
                            }
                        }
                    }
                    (None, Some(bound))
                }
                Err(e) => {
                    self.error(file, b.pos, b.len, e, Some(DATE_BOUND_HINT.into()));
                    (None, None)
                }
            },
            (_, _) => {
                self.error(
                    file,
                    b.pos,
                    b.len,
                    format!("`{what}` applies to `number`, `money` and `date` fields, not to a `{}`", kind.name()),
                    Some("use `max_length` or `pattern` for text".into()),
                );
                (None, None)
            }
        }
    }

    fn message(&mut self, m: &Located<file::MessageFile>, r: &RawStep) -> Option<Message> {
        let file = r.file.clone();
        let local = ["code", "link"];
        let subject = m.subject.as_ref().map(|s| self.text(s, &file, &local));
        if m.channel.value == Channel::Sms && m.subject.is_some() {
            self.error(
                &file,
                m.channel.pos,
                m.channel.len,
                "an SMS has no subject".into(),
                Some("remove `subject:` or use `channel: email`".into()),
            );
        }
        let body = self.text(&m.body, &file, &local);
        let when = m.when.as_ref().and_then(|w| self.expr(w, &file, &[]));
        let code = m.code.as_ref().map(|c| match &c.value {
            CodeFile::Digits(n) => {
                if !(4..=12).contains(n) {
                    self.error(&file, c.pos, c.len, "a code has 4 to 12 digits".into(), None);
                }
                Code::Digits(*n)
            }
            CodeFile::Fixed(s) => Code::Fixed(s.clone()),
        });
        let link = match &m.link {
            Some(l) => {
                let goto = self.goto(&l.goto, r);
                let expired_goto = l.expired_goto.as_ref().and_then(|e| self.goto(e, r));
                goto.map(|goto| Link { label: l.label.value.clone(), goto, expired_goto })
            }
            None => None,
        };
        if m.code.is_some() && m.body.value.contains("{{") && !m.body.value.contains("code") {
            self.error(
                &file,
                m.body.pos,
                m.body.len,
                "the message has a code but its body does not show it".into(),
                Some("add `{{ code }}` to the body".into()),
            );
        }
        Some(Message {
            when,
            channel: m.channel.value,
            from: m.from.value.clone(),
            subject,
            body,
            code,
            link,
            valid_minutes: m.valid_minutes.as_ref().map(|v| v.value),
        })
    }

    /// The fields of a list's items that an expression or a text reads:
    /// `answers.enfants[0].prenom`, `{% for e in answers.enfants %}{{ e.prenom }}`,
    /// `answers.enfants | map(attribute="prenom")`. Each must be a field of
    /// the list's step.
    fn check_item_fields(&mut self, file: &str, at: &Located<String>) {
        if self.groups.is_empty() || !at.value.contains("answers.") {
            return;
        }
        static INDEXED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"answers\.(\w+)\s*\[[^\]]*\]\s*\.(\w+)").expect("regex"));
        static LOOP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"for\s+(\w+)\s+in\s+answers\.(\w+)").expect("regex"));
        static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r#"answers\.(\w+)\s*\|\s*(?:map|selectattr|rejectattr|sum|sort|groupby|unique)\(\s*(?:attribute\s*=\s*)?["'](\w+)["']"#,
            )
            .expect("regex")
        });
        let text = at.value.clone();
        let mut reads: Vec<(String, String, String)> = Vec::new();
        for c in INDEXED.captures_iter(&text).chain(ATTRIBUTE.captures_iter(&text)) {
            reads.push((c[1].to_owned(), c[2].to_owned(), c[0].to_owned()));
        }
        for c in LOOP.captures_iter(&text) {
            let (var, list) = (&c[1], &c[2]);
            let Ok(member) = Regex::new(&format!(r"\b{}\.(\w+)", regex::escape(var))) else { continue };
            for m in member.captures_iter(&text) {
                reads.push((list.to_owned(), m[1].to_owned(), m[0].to_owned()));
            }
        }
        for (list, field, written) in reads {
            let Some(fields) = self.groups.get(&list) else { continue };
            if fields.contains(&field) {
                continue;
            }
            let hint = match did_you_mean(&field, fields.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the items of `{list}` have: {}", fields.join(", ")),
            };
            let (pos, len) = self.locate(file, at, &written);
            self.error(file, pos, len, format!("the items of `answers.{list}` have no field `{field}`"), Some(hint));
        }
    }

    fn text(&mut self, t: &Located<String>, file: &str, local: &[&str]) -> Text {
        match Text::compile(&t.value) {
            Ok(text) => {
                let vars = text.variables();
                self.check_vars(&vars, local, file, t);
                self.check_item_fields(file, t);
                text
            }
            Err(e) => {
                self.error(
                    file,
                    t.pos,
                    t.len,
                    format!("this text does not parse: {e}"),
                    Some("check the `{{ }}` and `{% %}` pairs".into()),
                );
                Text::compile("").expect("empty text")
            }
        }
    }

    fn expr(&mut self, e: &Located<String>, file: &str, local: &[&str]) -> Option<Expr> {
        match Expr::compile(&e.value) {
            Ok(expr) => {
                let vars = expr.variables();
                self.check_vars(&vars, local, file, e);
                self.check_item_fields(file, e);
                Some(expr)
            }
            Err(err) => {
                self.error(
                    file,
                    e.pos,
                    e.len,
                    format!("this expression does not parse: {err}"),
                    Some("expressions are minijinja expressions, such as `answers.montant > 0`".into()),
                );
                None
            }
        }
    }

    fn check_vars(&mut self, vars: &BTreeSet<String>, local: &[&str], file: &str, at: &Located<String>) {
        for var in vars {
            let mut parts = var.split('.');
            let root = parts.next().unwrap_or_default();
            let rest: Vec<&str> = parts.collect();
            if local.contains(&root) || FUNCTIONS.contains(&root) {
                continue;
            }
            let problem: Option<(String, String)> = match root {
                "persona" => match rest.first() {
                    None => None,
                    Some(_) => {
                        let path = rest.iter().take(2).copied().collect::<Vec<_>>().join(".");
                        if self.spec.has_path(&path) {
                            self.persona_reads.push(path);
                        } else {
                            let (pos, len) = self.locate(file, at, var);
                            self.unknown_persona(file, pos, len, &path, "persona.");
                        }
                        None
                    }
                },
                "answers" => match (rest.first(), rest.get(1)) {
                    (Some(list), Some(attr)) if self.groups.contains_key(*list) => Some((
                        format!("`answers.{list}` is a list: `answers.{list}.{attr}` names nothing"),
                        format!(
                            "read an item's field as `answers.{list}[0].{attr}`, or in `{{% for x in answers.{list} %}}`; its count is `answers.{list} | length`"
                        ),
                    )),
                    _ => self.member(rest.first(), &self.fields.clone(), "answers", "no field is named so"),
                },
                "computed" => self.member(rest.first(), &self.computed.clone(), "computed", "no step computes it"),
                "inbox" => self.member(rest.first(), &to_set(INBOX_KEYS), "inbox", "the inbox has no such value"),
                "today" => self.member(rest.first(), &to_set(TODAY_KEYS), "today", "`today` has no such value"),
                "clock" => self.member(rest.first(), &to_set(CLOCK_KEYS), "clock", "`clock` has no such value"),
                "scenario" => self.member(rest.first(), &to_set(SCENARIO_KEYS), "scenario", "`scenario` has no such value"),
                "reference" => None,
                other => {
                    let mut roots: Vec<&str> = ROOTS.to_vec();
                    roots.extend(local);
                    let hint = match did_you_mean(other, roots.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("expressions can read: {}", roots.join(", ")),
                    };
                    Some((format!("unknown variable `{other}`"), hint))
                }
            };
            if let Some((message, hint)) = problem {
                let (pos, len) = self.locate(file, at, var);
                self.error(file, pos, len, message, Some(hint));
            }
        }
    }

    /// Where `needle` is written inside the value `at`: the line and column
    /// in the file when the file's text confirms it, else the value's start.
    fn locate(&self, file: &str, at: &Located<String>, needle: &str) -> (Pos, u32) {
        let fallback = (at.pos, at.len);
        let Some(offset) = at.value.find(needle) else { return fallback };
        let Some(source) = self.world.sources.get(file) else { return fallback };
        let before = &at.value[..offset];
        let line_offset = before.matches('\n').count() as u32;
        let col_in_line = before.rsplit('\n').next().unwrap_or("").chars().count() as u32;
        let candidates = if line_offset == 0 {
            // A quoted scalar starts one column before its text.
            vec![Pos::new(at.pos.line, at.pos.col + col_in_line), Pos::new(at.pos.line, at.pos.col + col_in_line + 1)]
        } else {
            vec![Pos::new(at.pos.line + line_offset, at.pos.col + col_in_line)]
        };
        for pos in candidates {
            let line = source.lines().nth(pos.line as usize - 1).unwrap_or("");
            let rest: String = line.chars().skip(pos.col as usize - 1).collect();
            if rest.starts_with(needle) {
                return (pos, needle.chars().count() as u32);
            }
        }
        fallback
    }

    fn member(&self, key: Option<&&str>, known: &BTreeSet<String>, root: &str, why: &str) -> Option<(String, String)> {
        let key = key?;
        if known.contains(*key) {
            return None;
        }
        let hint = match did_you_mean(key, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{root}.{s}`?"),
            None => why.to_owned(),
        };
        Some((format!("unknown variable `{root}.{key}`"), hint))
    }

    /// `_action: <key>` names one of the step's actions, and types nothing.
    fn check_test_action(
        &mut self,
        step: &Step,
        texts: &[String],
        values: &crate::yaml::Pairs<Located<AnswerFile>>,
        at: &Located<AnswerFile>,
        file: &str,
    ) {
        let keys: Vec<&str> = step.actions.iter().map(|a| a.key.as_str()).collect();
        let given = texts.first().map(String::as_str).unwrap_or_default();
        if texts.len() != 1 || !keys.contains(&given) {
            let hint = match did_you_mean(given, keys.iter().copied()) {
                Some(k) => format!("did you mean `{k}`?"),
                None if keys.is_empty() => "add `actions:` to the step".to_owned(),
                None => format!("its actions are: {}", keys.join(", ")),
            };
            self.error(file, at.pos, at.len, format!("step `{}` has no action `{given}`", step.id), Some(hint));
        }
        if let Some((typed, _)) = values.iter().find(|(k, _)| k.value != ACTION && k.value != "_wait_minutes") {
            let hint = Some("an action leaves the page without sending the form: give the answers in another attempt".into());
            self.error(file, typed.pos, typed.len, format!("`{}` is typed along with `_action`", typed.value), hint);
        }
    }

    fn tests(&mut self, f: &ScenarioFile, steps: &[Step]) -> Vec<Walkthrough> {
        let file = self.file.clone();
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        if let Some(extra) = f.tests.get(MAX_TESTS) {
            let message = format!("too many walkthroughs ({}; at most {MAX_TESTS})", f.tests.len());
            self.error(&file, extra.pos, 1, message, Some("each one replays the procedure at every check".into()));
            return out;
        }
        for t in &f.tests {
            let t_pos = t.pos;
            let t = &t.value;
            if !names.insert(t.name.value.clone()) {
                self.error(&file, t.name.pos, t.name.len, format!("duplicate test name `{}`", t.name.value), None);
            }
            let mut answers = Vec::new();
            for (step_id, attempts) in t.answers.iter() {
                let Some(step_index) = self.resolve(step_id, &file) else { continue };
                let step = &steps[step_index];
                let list: Vec<(Pos, &crate::yaml::Pairs<Located<AnswerFile>>)> = match &attempts.value {
                    AttemptsFile::One(one) => vec![(attempts.pos, one)],
                    AttemptsFile::Many(many) => many.iter().map(|a| (a.pos, &a.value)).collect(),
                };
                let mut converted = Vec::new();
                for (pos, values) in list {
                    let mut fields = Vec::new();
                    for (name, value) in values.iter() {
                        let is_list_action = LIST_ACTION_KEYS.contains(&name.value.as_str());
                        if is_list_action && step.repeat.is_none() {
                            self.error(
                                &file,
                                name.pos,
                                name.len,
                                format!("`{}` applies to a step with `repeat`; step `{}` has none", name.value, step.id),
                                None,
                            );
                            continue;
                        }
                        let is_action = is_list_action || ACTION_KEYS.contains(&name.value.as_str());
                        if !is_action && !step.fields.iter().any(|fl| fl.name == name.value) {
                            let names: Vec<&str> = step.fields.iter().map(|fl| fl.name.as_str()).collect();
                            let hint = match did_you_mean(&name.value, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None if names.is_empty() => "this step has no fields".to_owned(),
                                None => format!("its fields are: {}", names.join(", ")),
                            };
                            self.error(&file, name.pos, name.len, format!("step `{}` has no field `{}`", step.id, name.value), Some(hint));
                            continue;
                        }
                        let texts = match &value.value {
                            AnswerFile::Text(s) => vec![s.clone()],
                            AnswerFile::List(items) => items.clone(),
                        };
                        if name.value == ACTION {
                            self.check_test_action(step, &texts, values, value, &file);
                        }
                        let compiled = texts
                            .iter()
                            .map(|s| self.text(&Located { value: s.clone(), pos: value.pos, len: value.len }, &file, &[]))
                            .collect();
                        fields.push((name.value.clone(), compiled, value.pos));
                    }
                    converted.push(Attempt { pos, values: fields });
                }
                answers.push(StepAnswers { step: step_id.value.clone(), pos: step_id.pos, attempts: converted });
            }
            self.resolve(&t.ends_at, &file);
            // The expected value is a template, as answers are: a literal
            // (`"1111"`) or computed from the persona (`"{{ persona.salaires + 1000 }}"`).
            let expect =
                t.expect.iter().filter_map(|(e, v)| self.expr(e, &file, &[]).map(|x| (x, self.text(v, &file, &[]), e.pos))).collect();
            out.push(Walkthrough {
                name: t.name.value.clone(),
                pos: t_pos,
                seed: t.seed.unwrap_or(1),
                pins: Pins {
                    situation: t.persona.situation_familiale,
                    sexe: t.persona.sexe.map(|s| if s == Sexe::F { 'F' } else { 'M' }),
                    enfants: self.pin(&t.persona.enfants, "enfants", persona::bounds::CHILDREN, &file),
                    age: self.pin(&t.persona.age, "age", persona::bounds::AGE, &file),
                    statut: t.persona.statut,
                },
                answers,
                ends_at: t.ends_at.value.clone(),
                ends_at_pos: t.ends_at.pos,
                expect,
            });
        }
        out
    }
}

/// What a document reads besides the rehearsal's values (engine/web/pages.rs).
const DOCUMENT_ROOTS: &[&str] = &[
    "root",
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

/// What a date bound may be, for hints.
const DATE_BOUND_HINT: &str = "write a date (`2026-01-01`), `today` or `year_start` with an optional offset (`today - 18y`, `today + 3m`, `today - 30d`), or another date answer (`answers.date_debut`)";

/// The types `max_length` applies to: the others say by their type what is accepted.
const TEXT_KINDS: &[FieldType] = &[FieldType::Text, FieldType::Textarea, FieldType::Password, FieldType::Email];

/// More steps than this is a mistake, or an attack on the checker.
pub const MAX_STEPS: usize = 500;
/// Walkthroughs of one scenario: each is replayed at every check, and the
/// author pages replay them to start a rehearsal at a step.
pub const MAX_TESTS: usize = 50;
/// Fields of one step: each is rendered on every page and every submit.
pub const MAX_FIELDS: usize = 100;
/// Options of one field.
pub const MAX_OPTIONS: usize = 300;
/// Messages one step sends: each submit adds them to the inbox.
pub const MAX_MESSAGES: usize = 10;
/// Values one step computes: each submit evaluates them.
pub const MAX_COMPUTED: usize = 100;

/// A list with fewer items than its `min`, unless the author words it.
const TOO_FEW: &str = "Ajoutez au moins {{ min }} élément{% if min > 1 %}s{% endif %} à la liste avant de continuer.";
/// A list already at its `max`.
const TOO_MANY: &str = "Vous ne pouvez pas ajouter plus de {{ max }} élément{% if max > 1 %}s{% endif %}.";

/// Persona values that are not identifiers worth a card line.
const CARD_SKIP: &[&str] = &["prenom", "nom", "civilite", "sexe", "age", "adresse", "enfants", "conjoint", "nombre_enfants"];

/// The HTML autofill field names (WCAG 1.3.5 asks for them on inputs
/// about the user).
const AUTOFILL: &[&str] = &[
    "off",
    "on",
    "name",
    "honorific-prefix",
    "given-name",
    "additional-name",
    "family-name",
    "honorific-suffix",
    "nickname",
    "username",
    "new-password",
    "current-password",
    "one-time-code",
    "organization-title",
    "organization",
    "street-address",
    "address-line1",
    "address-line2",
    "address-line3",
    "address-level4",
    "address-level3",
    "address-level2",
    "address-level1",
    "country",
    "country-name",
    "postal-code",
    "cc-name",
    "cc-given-name",
    "cc-additional-name",
    "cc-family-name",
    "cc-number",
    "cc-exp",
    "cc-exp-month",
    "cc-exp-year",
    "cc-csc",
    "cc-type",
    "transaction-currency",
    "transaction-amount",
    "language",
    "bday",
    "bday-day",
    "bday-month",
    "bday-year",
    "sex",
    "url",
    "photo",
    "tel",
    "tel-country-code",
    "tel-national",
    "tel-area-code",
    "tel-local",
    "tel-extension",
    "email",
    "impp",
];

/// An `autocomplete` value the HTML checker accepts for this kind of field.
fn check_autocomplete(value: &str, kind: FieldType) -> Result<(), String> {
    let token = value.split_whitespace().last().unwrap_or_default();
    if !AUTOFILL.contains(&token) {
        return Err(format!("`{value}` is not an autofill field name"));
    }
    if token == "street-address" && kind != FieldType::Textarea {
        return Err("`street-address` is for a textarea; a one-line input takes `address-line1`".into());
    }
    Ok(())
}

fn to_set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn template_name(name: &str) -> String {
    if name.ends_with(".html") { name.to_owned() } else { format!("{name}.html") }
}

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
