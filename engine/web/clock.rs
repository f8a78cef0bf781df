//! The wall clock and new persona seeds, as every page module reads them.

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Today's date, which personas' ages are counted at.
pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(now() as i64).map_or(time::Date::MIN, |t| t.date())
}

/// A new persona seed: six digits, easy to read out in a workshop.
pub(crate) fn new_seed() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % 999_999) as u64 + 1
}
