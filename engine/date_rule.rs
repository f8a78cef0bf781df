//! The `min` and `max` of a `date` field: a fixed date, a date relative to
//! the rehearsal's simulated today, or another date answer (an end date not
//! before its start date), each with an optional offset:
//! `2026-01-01`, `01/01/2026`, `today`, `today - 18y`, `today + 3m`,
//! `year_start` (1 January of today's year), `answers.date_debut`,
//! `answers.date_debut + 1d`.

use time::{Date, Duration, Month};

/// What a date bound counts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// The simulated today of the rehearsal (the scenario's date in walkthroughs).
    Today,
    /// 1 January of the simulated today's year: "a date of this year".
    YearStart,
    /// A date written in the file.
    Fixed(Date),
    /// The answer to another `date` field, on the same step or an earlier one.
    Answer(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Days,
    Months,
    Years,
}

/// A bound as written: a base and an offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateBound {
    pub base: Base,
    pub offset: i32,
    pub unit: Unit,
}

/// The widest offset accepted: 200 years either way, in any unit.
const MAX_OFFSET_DAYS: i64 = 200 * 366;

impl DateBound {
    /// Reads a bound; the error says what is accepted.
    pub fn parse(text: &str) -> Result<DateBound, String> {
        let text = text.trim();
        // The offset is the last `+` or `-` followed by a number and a unit;
        // dashes inside `2026-01-01` are not offsets.
        let (base, offset) = match text.rfind(['+', '-']) {
            Some(at) if is_offset(&text[at + 1..]) => (text[..at].trim(), Some((&text[at..at + 1], text[at + 1..].trim()))),
            _ => (text, None),
        };
        let base = if base == "today" {
            Base::Today
        } else if base == "year_start" {
            Base::YearStart
        } else if let Some(name) = base.strip_prefix("answers.") {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(format!("`{base}` is not a field's answer"));
            }
            Base::Answer(name.to_owned())
        } else if let Some(date) = parse_date(base).and_then(|d| to_date(&d)) {
            Base::Fixed(date)
        } else {
            return Err(format!("`{text}` is not a date bound"));
        };
        let (offset, unit) = match offset {
            None => (0, Unit::Days),
            Some((sign, amount)) => {
                let unit = match amount.chars().last() {
                    Some('d') => Unit::Days,
                    Some('m') => Unit::Months,
                    Some('y') => Unit::Years,
                    _ => return Err(format!("`{text}` is not a date bound")),
                };
                let n: i64 = amount[..amount.len() - 1].trim().parse().map_err(|_| format!("`{text}` is not a date bound"))?;
                let days = match unit {
                    Unit::Days => n,
                    Unit::Months => n.saturating_mul(31),
                    Unit::Years => n.saturating_mul(366),
                };
                if days > MAX_OFFSET_DAYS {
                    return Err(format!("the offset of `{text}` is more than 200 years"));
                }
                (if sign == "-" { -(n as i32) } else { n as i32 }, unit)
            }
        };
        Ok(DateBound { base, offset, unit })
    }

    /// The other field this bound reads, if any.
    pub fn answer(&self) -> Option<&str> {
        match &self.base {
            Base::Answer(name) => Some(name),
            _ => None,
        }
    }

    /// Whether the bound is the simulated today itself.
    pub fn is_today(&self) -> bool {
        self.base == Base::Today && self.offset == 0
    }

    /// The date this bound stands for, today being `today` and other
    /// answers read through `answer`; none when the answer it counts from
    /// is not given (an optional field left empty).
    pub fn resolve(&self, today: Date, answer: impl Fn(&str) -> Option<Date>) -> Option<Date> {
        let base = match &self.base {
            Base::Today => today,
            Base::YearStart => Date::from_calendar_date(today.year(), Month::January, 1).ok()?,
            Base::Fixed(d) => *d,
            Base::Answer(name) => answer(name)?,
        };
        shift(base, self.offset, self.unit)
    }
}

fn is_offset(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 2 && s.ends_with(['d', 'm', 'y']) && s[..s.len() - 1].trim().chars().all(|c| c.is_ascii_digit())
}

/// Reads `05/03/1961`, `5/3/1961`, `05-03-1961` or `1961-03-05` into
/// `05/03/1961`, checking the day exists.
pub(crate) fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['/', '-', '.', ' ']).filter(|p| !p.is_empty()).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (d, m, y) = if a.len() == 4 { (c, b, a) } else { (a, b, c) };
    let (d, m, y): (u8, u8, i32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
    if y.to_string().len() != 4 {
        return None;
    }
    let month = time::Month::try_from(m).ok()?;
    time::Date::from_calendar_date(y, month, d).ok()?;
    Some(format!("{d:02}/{m:02}/{y}"))
}

/// `05/03/1961` as a date.
pub(crate) fn to_date(text: &str) -> Option<Date> {
    let canonical = parse_date(text)?;
    let mut parts = canonical.split('/').map(|p| p.parse::<i32>().ok());
    let (d, m, y) = (parts.next()??, parts.next()??, parts.next()??);
    Date::from_calendar_date(y, Month::try_from(m as u8).ok()?, d as u8).ok()
}

/// `date` moved by `n` days, months or years. A month or year later than
/// the 31st of January is the last day of February: the real sites count
/// so, and a date that does not exist is never the answer.
pub(crate) fn shift(date: Date, n: i32, unit: Unit) -> Option<Date> {
    match unit {
        Unit::Days => date.checked_add(Duration::days(i64::from(n))),
        Unit::Months | Unit::Years => {
            let months = if unit == Unit::Years { i64::from(n) * 12 } else { i64::from(n) };
            let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
            let year = i32::try_from(index.div_euclid(12)).ok()?;
            let month = Month::try_from((index.rem_euclid(12) + 1) as u8).ok()?;
            let day = date.day().min(time::util::days_in_month(month, year));
            Date::from_calendar_date(year, month, day).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn bounds_read_and_resolve() {
        let today = date!(2026 - 12 - 04);
        let none = |_: &str| None;
        let at = |s: &str| DateBound::parse(s).unwrap().resolve(today, none);
        assert_eq!(at("today"), Some(today));
        assert_eq!(at("today - 18y"), Some(date!(2008 - 12 - 04)));
        assert_eq!(at("today+3m"), Some(date!(2027 - 03 - 04)));
        assert_eq!(at("today - 30d"), Some(date!(2026 - 11 - 04)));
        assert_eq!(at("year_start"), Some(date!(2026 - 01 - 01)));
        assert_eq!(at("2026-01-01"), Some(date!(2026 - 01 - 01)));
        assert_eq!(at("01/01/2026"), Some(date!(2026 - 01 - 01)));
        assert_eq!(at("2026-01-31 + 1m"), Some(date!(2026 - 02 - 28)));
        let b = DateBound::parse("answers.arret_debut + 1d").unwrap();
        assert_eq!(b.answer(), Some("arret_debut"));
        assert_eq!(b.resolve(today, |_| Some(date!(2026 - 11 - 20))), Some(date!(2026 - 11 - 21)));
        assert_eq!(b.resolve(today, none), None);
        assert_eq!(DateBound::parse("0").unwrap_err(), "`0` is not a date bound");
        assert_eq!(DateBound::parse("demain").unwrap_err(), "`demain` is not a date bound");
        assert_eq!(DateBound::parse("today - 18 ans").unwrap_err(), "`today - 18 ans` is not a date bound");
        assert!(DateBound::parse("today - 500y").is_err());
    }
}
