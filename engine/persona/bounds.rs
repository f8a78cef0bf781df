//! What a `persona:` section may ask for. A range far out of these bounds
//! once overflowed date arithmetic, or made each persona a million children
//! long; the checker now refuses it where it is written, and generation
//! clamps to the same bounds in case a spec is made some other way.

use super::spec::{Generator, IntRange, PersonaSpecFile};
use crate::diagnostic::Diagnostic;
use crate::yaml::Located;

/// Ages, in years: the person helped is at least of working age.
pub(crate) const AGE: IntRange = IntRange::new(16, 110);
/// Children of the persona.
pub(crate) const CHILDREN: IntRange = IntRange::new(0, 12);
/// The revenu fiscal de référence and `money` generators, in whole euros.
pub(crate) const MONEY: IntRange = IntRange::new(0, 10_000_000);
/// `number` generators: counts, hours, heights...
pub(crate) const NUMBER: IntRange = IntRange::new(-1_000_000_000, 1_000_000_000);
/// `date` generators, in days from `valid_as_of`: 150 years either way.
pub(crate) const DATE_DAYS: IntRange = IntRange::new(-54_787, 54_787);
/// `valid_as_of`, in years: dates and ages are counted from it.
pub(crate) const REFERENCE_YEARS: IntRange = IntRange::new(1900, 2100);
/// `digits` generators: how many digits.
pub(crate) const DIGITS: IntRange = IntRange::new(1, 32);
/// Characters of a `fixed` value or of one `choice`: every persona holds it.
pub(crate) const MAX_TEXT_CHARS: usize = 500;
/// Values of one `choice` generator.
pub(crate) const MAX_CHOICES: usize = 100;
/// Generators under `fields:`: each runs for every persona made.
pub(crate) const MAX_FIELDS: usize = 100;
/// Extra lines of the persona card.
pub(crate) const MAX_CARD: usize = 100;

impl IntRange {
    /// Whether the whole range lies within `outer`.
    pub fn within(self, outer: IntRange) -> bool {
        outer.min <= self.min && self.max <= outer.max
    }

    /// The range cut to `outer` (an empty cut gives the nearest end).
    pub fn clamped(self, outer: IntRange) -> IntRange {
        let min = self.min.clamp(outer.min, outer.max);
        IntRange::new(min, self.max.clamp(min, outer.max))
    }
}

impl std::fmt::Display for IntRange {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}..{}", self.min, self.max)
    }
}

/// Every value of `spec` that goes beyond these bounds, as diagnostics of `file`.
pub(crate) fn check(file: &str, spec: &PersonaSpecFile) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(age) = &spec.age {
        out.extend(range(file, "age", age, AGE, None));
    }
    if let Some(children) = &spec.enfants {
        out.extend(range(file, "enfants", children, CHILDREN, None));
    }
    if let Some(rfr) = &spec.revenu_fiscal_reference {
        out.extend(range(file, "revenu_fiscal_reference", rfr, MONEY, Some("in whole euros")));
    }
    if let Some(extra) = spec.card.get(MAX_CARD) {
        out.push(Diagnostic::error(file, extra.pos, format!("too many card lines ({}; at most {MAX_CARD})", spec.card.len())));
    }
    if let Some((extra, _)) = spec.fields.0.get(MAX_FIELDS) {
        out.push(Diagnostic::error(file, extra.pos, format!("too many persona fields ({}; at most {MAX_FIELDS})", spec.fields.0.len())));
    }
    for (name, generator) in spec.fields.iter() {
        let name = &name.value;
        let problem = match &generator.value {
            Generator::Money(r) => range(file, name, r, MONEY, Some("a `money` range is in whole euros")),
            Generator::Number(r) => range(file, name, r, NUMBER, None),
            Generator::Date(r) => {
                range(file, name, r, DATE_DAYS, Some("a `date` range counts days from `valid_as_of`: at most 150 years either way"))
            }
            Generator::Digits(n) if !(DIGITS.min..=DIGITS.max).contains(&i64::from(n.value)) => {
                Some(located(file, n, format!("`{name}` must have {} to {} digits; got {}", DIGITS.min, DIGITS.max, n.value)))
            }
            Generator::Fixed(value) => text(file, &format!("`{name}`"), value, value),
            Generator::Choice(options) if options.len() > MAX_CHOICES => {
                Some(located(file, generator, format!("`{name}` has too many choices ({}; at most {MAX_CHOICES})", options.len())))
            }
            Generator::Choice(options) => options.iter().find_map(|o| text(file, &format!("a choice of `{name}`"), o, generator)),
            _ => None,
        };
        out.extend(problem);
    }
    out
}

/// `at` beyond `bound`.
fn range(file: &str, what: &str, at: &Located<IntRange>, bound: IntRange, hint: Option<&str>) -> Option<Diagnostic> {
    if at.value.within(bound) {
        return None;
    }
    let mut d = located(file, at, format!("`{what}` must lie within {bound}; got {}", at.value));
    d.hint = hint.map(str::to_owned);
    Some(d)
}

/// A text every persona carries: not a page long.
fn text<T>(file: &str, what: &str, value: &str, at: &Located<T>) -> Option<Diagnostic> {
    let chars = value.chars().count();
    (chars > MAX_TEXT_CHARS).then(|| located(file, at, format!("{what} is too long ({chars} characters; at most {MAX_TEXT_CHARS})")))
}

fn located<T>(file: &str, at: &Located<T>, message: String) -> Diagnostic {
    Diagnostic::error(file, at.pos, message).with_width(at.len as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_and_nest() {
        assert!(IntRange::new(20, 60).within(AGE));
        assert!(!IntRange::new(0, 5000).within(AGE));
        assert_eq!(IntRange::new(0, 5000).clamped(AGE), AGE);
        assert_eq!(IntRange::new(500, 5000).clamped(AGE), IntRange::new(110, 110));
        assert_eq!(IntRange::new(i64::MIN, i64::MIN).clamped(CHILDREN), IntRange::new(0, 0));
        assert_eq!(IntRange::new(-90, -1).to_string(), "-90..-1");
    }
}
