//! Typed form fields: how a typed value is cleaned up, checked, shown back,
//! and the wording real sites use when it is wrong.

use crate::date_rule::parse_date;
use crate::persona::ids;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kinds of input a step can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// A number, whole or decimal (decimal comma accepted).
    Number,
    /// An amount in euros: `24000`, `24 000`, `1 250,50 €`.
    Money,
    /// A date written JJ/MM/AAAA.
    Date,
    /// A drop-down list (needs `options`).
    Select,
    /// Radio buttons (needs `options`).
    Radio,
    /// One box to tick, or a group of boxes with `options`.
    Checkbox,
    /// An e-mail address.
    Email,
    /// A French phone number.
    Phone,
    /// A password: never shown back, never autofilled.
    Password,
    /// An IBAN, checked with its key.
    Iban,
    /// A numéro de sécurité sociale: 13 characters, or 15 with the key.
    Nir,
    /// A numéro fiscal: 13 digits with the mod-511 key.
    NumeroFiscal,
    /// A simulated upload: only the file name is kept, never the content.
    File,
}

impl FieldType {
    /// The type's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Textarea => "textarea",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::Date => "date",
            FieldType::Select => "select",
            FieldType::Radio => "radio",
            FieldType::Checkbox => "checkbox",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Password => "password",
            FieldType::Iban => "iban",
            FieldType::Nir => "nir",
            FieldType::NumeroFiscal => "numero_fiscal",
            FieldType::File => "file",
        }
    }

    /// Whether the type takes a list of options.
    pub fn has_options(self) -> bool {
        matches!(self, FieldType::Select | FieldType::Radio)
    }

    /// Identifiers whose valid values could be someone's real data: those
    /// not in a fictitious range nor the persona's are refused.
    pub fn is_identifier(self) -> bool {
        matches!(self, FieldType::Iban | FieldType::Nir | FieldType::NumeroFiscal | FieldType::Phone | FieldType::Email)
    }

    /// The longest value accepted, whatever the scenario says.
    pub fn hard_max_length(self) -> usize {
        match self {
            FieldType::Textarea => 4000,
            _ => 300,
        }
    }

    /// The default `max_length` when the scenario sets none.
    pub fn default_max_length(self) -> usize {
        match self {
            FieldType::Textarea => 2000,
            FieldType::Password => 128,
            _ => 200,
        }
    }

    /// The `autocomplete` token for the input, for WCAG 1.3.5.
    pub fn default_autocomplete(self) -> Option<&'static str> {
        match self {
            FieldType::Email => Some("email"),
            FieldType::Phone => Some("tel"),
            FieldType::Password | FieldType::Nir | FieldType::NumeroFiscal | FieldType::Iban => Some("off"),
            _ => None,
        }
    }
}

/// What was wrong with a value, before the scenario's wording is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Left empty, but required.
    Required,
    /// Not a value of the field's type.
    Invalid,
    /// Longer than allowed.
    TooLong,
    /// Below the minimum.
    Min,
    /// Above the maximum.
    Max,
    /// Does not match the field's pattern.
    Pattern,
    /// Cents in an amount declared in whole euros.
    Cents,
    /// Not the expected value (wrong password, wrong code...).
    Expect,
    /// A valid identifier that is not the persona's: maybe someone's real one.
    RealData,
}

impl Problem {
    /// The problem's name in scenario files.
    pub fn key(self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::Invalid => "invalid",
            Problem::TooLong => "too_long",
            Problem::Min => "min",
            Problem::Max => "max",
            Problem::Pattern => "pattern",
            Problem::Cents => "cents",
            Problem::Expect => "expect",
            Problem::RealData => "real_data",
        }
    }
}

/// The one message for values that look like real data; no scenario may
/// change it.
pub const REAL_DATA_MESSAGE: &str = "N'utilisez pas de vraies données : reprenez celles de la fiche personnage.";

/// The real sites' style of wording, used when the scenario gives none.
/// May use `{{ label }}`, `{{ min }}`, `{{ max }}`, `{{ max_length }}`.
pub(crate) fn default_message(kind: FieldType, problem: Problem, grouped: bool) -> &'static str {
    use FieldType as F;
    match problem {
        Problem::Required => match kind {
            F::Checkbox if !grouped => "Veuillez cocher cette case.",
            F::Checkbox | F::Select | F::Radio => "Veuillez faire un choix.",
            F::File => "Veuillez joindre un fichier.",
            _ => "Veuillez renseigner ce champ.",
        },
        Problem::Invalid => match kind {
            F::Number => "Veuillez saisir un nombre.",
            F::Money => "Veuillez saisir un montant en euros, en chiffres (exemple : 1 250).",
            F::Date => "La date doit être au format JJ/MM/AAAA (exemple : 05/03/1961).",
            F::Email => "L'adresse électronique n'est pas valide (exemple : prenom.nom@example.org).",
            F::Phone => "Le numéro de téléphone doit comporter 10 chiffres (exemple : 06 39 98 12 34).",
            F::Iban => "L'IBAN saisi n'est pas valide. Vérifiez chaque caractère.",
            F::Nir => "Le numéro de sécurité sociale doit comporter 13 chiffres, ou 15 avec la clé.",
            F::NumeroFiscal => "Le numéro fiscal doit comporter 13 chiffres.",
            F::Select | F::Radio | F::Checkbox => "Veuillez choisir une des valeurs proposées.",
            F::File => "Ce format de fichier n'est pas accepté.",
            _ => "La valeur saisie n'est pas valide.",
        },
        Problem::TooLong => "Ce champ ne doit pas dépasser {{ max_length }} caractères.",
        // Dates print as JJ/MM/AAAA: "au 01/01/2026".
        Problem::Min if kind == F::Date => "La date doit être postérieure ou égale au {{ min }}.",
        Problem::Max if kind == F::Date => "La date doit être antérieure ou égale au {{ max }}.",
        Problem::Min => "La valeur doit être supérieure ou égale à {{ min }}.",
        Problem::Max => "La valeur doit être inférieure ou égale à {{ max }}.",
        // impots.gouv's wording for a revenue box given with cents (as
        // reported by authors; no public copy of the page could be found to
        // check it word for word).
        Problem::Cents => "Le montant doit être un nombre entier.",
        Problem::Pattern => "Le format saisi n'est pas valide.",
        Problem::Expect => match kind {
            F::Password => "Le mot de passe est incorrect.",
            F::NumeroFiscal => "Le numéro fiscal saisi est incorrect.",
            F::Nir => "Le numéro de sécurité sociale saisi est incorrect.",
            F::Iban => "L'IBAN saisi ne correspond pas à votre compte.",
            _ => "La valeur saisie est incorrecte.",
        },
        Problem::RealData => REAL_DATA_MESSAGE,
    }
}

/// A date field's `max` of `today` says so in the real sites' words.
pub(crate) const NOT_IN_FUTURE: &str = "La date ne peut pas être postérieure à la date du jour.";

/// The rules of one field, as the engine checks them.
#[derive(Clone, Debug)]
pub struct Rules<'a> {
    pub kind: FieldType,
    pub required: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Bounds of a date, resolved for this submit (today, other answers).
    pub min_date: Option<time::Date>,
    pub max_date: Option<time::Date>,
    /// Whether an amount may have cents (default true).
    pub cents: bool,
    pub max_length: usize,
    pub pattern: Option<&'a regex::Regex>,
    /// Allowed values for select, radio and checkbox groups.
    pub options: &'a [String],
    /// Accepted file extensions, lower case, without the dot.
    pub accept: &'a [String],
}

/// Drops the control characters of a typed value (NUL, escape, DEL...).
/// They cannot be seen, come only from a paste or a forged request, and
/// would be kept and written back as they are. Dropped rather than refused:
/// a refusal would point at something nobody can see on the screen, a dead
/// end for the people helped. A multi-line text keeps its line breaks (the
/// `\r\n` browsers send becomes `\n`) and tabs; in a one-line value they
/// become spaces.
pub(crate) fn strip_controls(raw: &str, multiline: bool) -> String {
    let raw = if multiline && raw.contains('\r') { raw.replace("\r\n", "\n").replace('\r', "\n") } else { raw.to_owned() };
    if !raw.chars().any(char::is_control) {
        return raw;
    }
    raw.chars()
        .filter_map(|c| match c {
            '\n' | '\t' if multiline => Some(c),
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Cleans up and checks what was typed. Returns the canonical value to
/// keep, or what is wrong. Checkbox groups arrive joined by `\n`.
pub(crate) fn normalize(rules: &Rules, raw: &str) -> Result<String, Problem> {
    use FieldType as F;
    let kind = rules.kind;
    let raw = if kind == F::Password || kind == F::Textarea { raw.to_owned() } else { raw.trim().to_owned() };
    if raw.chars().count() > rules.max_length.min(kind.hard_max_length()) {
        return Err(Problem::TooLong);
    }
    if raw.trim().is_empty() {
        return if rules.required { Err(Problem::Required) } else { Ok(String::new()) };
    }
    let value = match kind {
        F::Text | F::Textarea | F::Password => raw,
        F::Number | F::Money => {
            let n = parse_number(&raw, kind == F::Money).ok_or(Problem::Invalid)?;
            if kind == F::Money && !rules.cents && n.fract() != 0.0 {
                return Err(Problem::Cents);
            }
            if rules.min.is_some_and(|min| n < min) {
                return Err(Problem::Min);
            }
            if rules.max.is_some_and(|max| n > max) {
                return Err(Problem::Max);
            }
            format_number(n)
        }
        F::Date => {
            let value = parse_date(&raw).ok_or(Problem::Invalid)?;
            let date = crate::date_rule::to_date(&value).ok_or(Problem::Invalid)?;
            if rules.min_date.is_some_and(|min| date < min) {
                return Err(Problem::Min);
            }
            if rules.max_date.is_some_and(|max| date > max) {
                return Err(Problem::Max);
            }
            value
        }
        F::Email => {
            if !ids::email_valid(&raw) {
                return Err(Problem::Invalid);
            }
            raw.to_lowercase()
        }
        F::Phone => ids::normalize_phone(&raw).ok_or(Problem::Invalid)?,
        F::Iban => {
            let v = ids::compact(&raw).to_ascii_uppercase();
            if !ids::iban_valid(&v) {
                return Err(Problem::Invalid);
            }
            v
        }
        F::Nir => {
            let v = ids::compact(&raw).to_ascii_uppercase();
            if v.len() == 15 && !ids::nir_valid(&v) {
                return Err(Problem::Expect);
            }
            if v.len() != 15 && !ids::nir_short_plausible(&v) {
                return Err(Problem::Invalid);
            }
            v
        }
        F::NumeroFiscal => {
            let v = ids::compact(&raw);
            if v.len() != 13 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Problem::Invalid);
            }
            if !ids::numero_fiscal_valid(&v) {
                return Err(Problem::Expect);
            }
            v
        }
        F::Select | F::Radio => {
            if !rules.options.contains(&raw) {
                return Err(Problem::Invalid);
            }
            raw
        }
        F::Checkbox if rules.options.is_empty() => "on".to_owned(),
        F::Checkbox => {
            let chosen: Vec<&str> = raw.split('\n').map(str::trim).filter(|s| !s.is_empty()).collect();
            if chosen.iter().any(|c| !rules.options.iter().any(|o| o == c)) {
                return Err(Problem::Invalid);
            }
            // Keep the options' order, whatever order the browser sent.
            rules.options.iter().filter(|o| chosen.contains(&o.as_str())).cloned().collect::<Vec<_>>().join("\n")
        }
        F::File => {
            // Browsers send only the file name for urlencoded forms; keep
            // its last path segment.
            let name = raw.rsplit(['/', '\\']).next().unwrap_or(&raw).to_owned();
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default();
            if !rules.accept.is_empty() && !rules.accept.contains(&ext) {
                return Err(Problem::Invalid);
            }
            name
        }
    };
    if let Some(pattern) = rules.pattern
        && !pattern.is_match(&value)
    {
        return Err(Problem::Pattern);
    }
    Ok(value)
}

/// Whether two values of a field are the same answer: identifiers compare
/// without spaces and case, texts trimmed.
pub(crate) fn same(kind: FieldType, a: &str, b: &str) -> bool {
    use FieldType as F;
    match kind {
        F::Password => a == b,
        F::Iban | F::Nir | F::NumeroFiscal | F::Phone | F::Email => ids::compact(a).eq_ignore_ascii_case(&ids::compact(b)),
        F::Number | F::Money => match (parse_number(a, true), parse_number(b, true)) {
            (Some(x), Some(y)) => (x - y).abs() < 0.005,
            _ => a.trim() == b.trim(),
        },
        F::Date => parse_date(a).is_some() && parse_date(a) == parse_date(b),
        _ => a.trim() == b.trim(),
    }
}

/// Reads `24 000`, `24000,50`, `24.000,50 €`, `-3`. With `money`, a dot
/// followed by three digits groups thousands.
pub(crate) fn parse_number(s: &str, money: bool) -> Option<f64> {
    let mut t: String = s
        .trim()
        .trim_end_matches('€')
        .trim_end_matches("EUR")
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    // Dots are thousands separators in money: "1.234,50" or "12.000".
    let thousands =
        (t.contains('.') && t.contains(',')) || (t.matches('.').count() == 1 && t.rsplit('.').next().is_some_and(|d| d.len() == 3));
    if money && thousands {
        t = t.replace('.', "");
    }
    let t = t.replace(',', ".");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
        return None;
    }
    let n: f64 = t.parse().ok()?;
    if money && (n * 100.0).fract().abs() > 1e-6 {
        return None; // no fractions of a cent
    }
    n.is_finite().then_some(n)
}

/// `24000`, `1250.5` as canonical text.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(kind: FieldType) -> Rules<'static> {
        Rules {
            kind,
            required: true,
            min: None,
            max: None,
            min_date: None,
            max_date: None,
            cents: true,
            max_length: kind.default_max_length(),
            pattern: None,
            options: &[],
            accept: &[],
        }
    }

    #[test]
    fn money_forms() {
        let r = rules(FieldType::Money);
        assert_eq!(normalize(&r, "24 000"), Ok("24000".into()));
        assert_eq!(normalize(&r, "24.000"), Ok("24000".into()));
        assert_eq!(normalize(&r, "1 250,50 €"), Ok("1250.5".into()));
        assert_eq!(normalize(&r, "beaucoup"), Err(Problem::Invalid));
        assert_eq!(normalize(&r, "   "), Err(Problem::Required));
        let r = Rules { min: Some(0.0), ..rules(FieldType::Money) };
        assert_eq!(normalize(&r, "-5"), Err(Problem::Min));
        let whole = Rules { cents: false, ..rules(FieldType::Money) };
        assert_eq!(normalize(&whole, "37 945,50"), Err(Problem::Cents));
        assert_eq!(normalize(&whole, "37 945,00"), Ok("37945".into()));
        assert_eq!(normalize(&whole, "37.945"), Ok("37945".into()));
    }

    #[test]
    fn date_bounds() {
        let r = Rules {
            min_date: Some(time::macros::date!(2026 - 01 - 01)),
            max_date: Some(time::macros::date!(2026 - 12 - 04)),
            ..rules(FieldType::Date)
        };
        assert_eq!(normalize(&r, "31/12/2025"), Err(Problem::Min));
        assert_eq!(normalize(&r, "1/1/2026"), Ok("01/01/2026".into()));
        assert_eq!(normalize(&r, "04/12/2026"), Ok("04/12/2026".into()));
        assert_eq!(normalize(&r, "05/12/2026"), Err(Problem::Max));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("5/3/1961").as_deref(), Some("05/03/1961"));
        assert_eq!(parse_date("1961-03-05").as_deref(), Some("05/03/1961"));
        assert_eq!(parse_date("31/02/2020"), None);
        assert_eq!(parse_date("05/03/61"), None);
    }

    #[test]
    fn identifiers() {
        let nf = rules(FieldType::NumeroFiscal);
        assert_eq!(normalize(&nf, "39 99 999 950 282"), Ok("3999999950282".into()));
        assert_eq!(normalize(&nf, "3999999950283"), Err(Problem::Expect));
        assert_eq!(normalize(&nf, "12345"), Err(Problem::Invalid));
        let nir = rules(FieldType::Nir);
        assert_eq!(normalize(&nir, "2 55 08 14 168 025 38"), Ok("255081416802538".into()));
        assert_eq!(normalize(&nir, "2550814168025"), Ok("2550814168025".into()));
        assert_eq!(normalize(&nir, "25508141680"), Err(Problem::Invalid));
        let iban = rules(FieldType::Iban);
        assert_eq!(normalize(&iban, "fr14 2004 1010 0505 0001 3m02 606"), Ok("FR1420041010050500013M02606".into()));
        assert_eq!(normalize(&iban, "FR14 2004"), Err(Problem::Invalid));
    }

    #[test]
    fn choices_and_files() {
        let options = vec!["oui".to_owned(), "non".to_owned()];
        let r = Rules { options: &options, ..rules(FieldType::Radio) };
        assert_eq!(normalize(&r, "oui"), Ok("oui".into()));
        assert_eq!(normalize(&r, "peut-être"), Err(Problem::Invalid));
        let r = Rules { options: &options, ..rules(FieldType::Checkbox) };
        assert_eq!(normalize(&r, "non\noui"), Ok("oui\nnon".into()));
        let accept = vec!["pdf".to_owned()];
        let r = Rules { accept: &accept, ..rules(FieldType::File) };
        assert_eq!(normalize(&r, "C:\\fakepath\\bulletin.PDF"), Ok("bulletin.PDF".into()));
        assert_eq!(normalize(&r, "photo.exe"), Err(Problem::Invalid));
    }

    #[test]
    fn lengths_are_limited() {
        let r = rules(FieldType::Text);
        assert_eq!(normalize(&r, &"x".repeat(201)), Err(Problem::TooLong));
        let r = Rules { max_length: 100_000, ..rules(FieldType::Text) };
        assert_eq!(normalize(&r, &"x".repeat(301)), Err(Problem::TooLong));
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(strip_controls("bon\u{0}jour\u{1b}[1m\u{7f}\u{9b}\tici", false), "bonjour[1m ici");
        assert_eq!(strip_controls("a\r\nb\rc\n\td\u{0}", true), "a\nb\nc\n\td");
        assert_eq!(strip_controls("Zoé — 24 000 €", false), "Zoé — 24 000 €");
    }

    #[test]
    fn comparisons() {
        assert!(same(FieldType::NumeroFiscal, "39 99 999 950 282", "3999999950282"));
        assert!(same(FieldType::Money, "24000", "24 000"));
        assert!(!same(FieldType::Password, "Abc", "abc"));
    }
}
