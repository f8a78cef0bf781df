//! The fields phase: each field's type, options, bounds, pattern, messages
//! and autofill name.

use super::*;

/// What a date bound may be, for hints.
const DATE_BOUND_HINT: &str = "write a date (`2026-01-01`), `today` or `year_start` with an optional offset (`today - 18y`, `today + 3m`, `today - 30d`), or another date answer (`answers.date_debut`)";

/// The types `max_length` applies to: the others say by their type what is accepted.
const TEXT_KINDS: &[FieldType] = &[FieldType::Text, FieldType::Textarea, FieldType::Password, FieldType::Email];

impl Builder<'_> {
    /// A field, with its bounds, options, pattern and messages.
    pub(super) fn field(&mut self, f: &Located<file::FieldFile>, file: &str, step_kind: StepKind) -> Field {
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
        for (problem, text) in authored {
            let t = match text {
                Some(t) => self.text(t, file, FIELD_MESSAGE_LOCALS),
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

    /// A field's `min` or `max`: a number for numbers and amounts, a date
    /// bound for dates; anything else is a misuse, reported where written.
    pub(super) fn bound(
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
}

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
