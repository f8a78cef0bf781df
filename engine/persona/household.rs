//! A household that holds together: a parent's age allows their children,
//! a spouse is near the person's age, and a spouse's values exist only
//! with a spouse.

use super::spec::IntRange;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A parent's age when a child is born: 18 to 45.
pub(crate) const AGE_AT_BIRTH: IntRange = IntRange::new(18, 45);
/// Children are dependants: at most 24 (a young adult still attached to
/// the household), minors whenever the parents' ages allow.
pub(crate) const OLDEST_CHILD: i64 = 24;
const OLDEST_MINOR: i64 = 17;
/// How far a spouse's age is from the person's, in years.
pub(crate) const SPOUSE_GAP: i64 = 6;

/// The ages a person with `children` may have, within `wanted`: a parent
/// of dependants is 18 to 69. When `wanted` allows none of them, it wins.
pub(crate) fn parent_ages(wanted: IntRange, children: i64) -> IntRange {
    if children == 0 {
        return wanted;
    }
    let plausible = IntRange::new(AGE_AT_BIRTH.min, AGE_AT_BIRTH.max + OLDEST_CHILD);
    let (min, max) = (wanted.min.max(plausible.min), wanted.max.min(plausible.max));
    if min <= max { IntRange::new(min, max) } else { wanted }
}

/// A spouse's age: within [`SPOUSE_GAP`] years of `age`, an adult, and,
/// with children, a possible parent of them too.
pub(crate) fn spouse_age(rng: &mut ChaCha8Rng, age: i64, children: i64) -> i64 {
    let near = IntRange::new((age - SPOUSE_GAP).max(18), (age + SPOUSE_GAP).max(18));
    let range = if children == 0 {
        near
    } else {
        let own = child_ages(age, None);
        // The spouse, too, was 18 to 45 when the children were born.
        let (min, max) = (near.min.max(own.min + AGE_AT_BIRTH.min), near.max.min(own.max + AGE_AT_BIRTH.max));
        if min <= max { IntRange::new(min, max) } else { near }
    };
    rng.random_range(range.min..=range.max)
}

/// The ages the children of a person of `age` (and of a spouse of
/// `spouse` years) may have: both parents 18 to 45 at the birth, minors
/// when possible.
pub(crate) fn child_ages(age: i64, spouse: Option<i64>) -> IntRange {
    let parents = [Some(age), spouse];
    let mut min = 0;
    let mut max = OLDEST_CHILD;
    for parent in parents.into_iter().flatten() {
        min = min.max(parent - AGE_AT_BIRTH.max);
        max = max.min(parent - AGE_AT_BIRTH.min);
    }
    if min <= OLDEST_MINOR {
        max = max.min(OLDEST_MINOR);
    }
    if min <= max {
        IntRange::new(min, max)
    } else {
        // Ages the spec forces (a parent of 16, of 90): the nearest possible.
        let at = max.clamp(0, OLDEST_CHILD);
        IntRange::new(at, at)
    }
}

/// Whether a scenario's value is about the spouse (`salaires_conjoint`,
/// `conjoint_employeur`): made only when there is one.
pub(crate) fn about_the_spouse(name: &str) -> bool {
    name.ends_with("_conjoint") || name.starts_with("conjoint_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parent_ages(IntRange::new(25, 75), 2), IntRange::new(25, 69));
        assert_eq!(parent_ages(IntRange::new(25, 75), 0), IntRange::new(25, 75));
        assert_eq!(parent_ages(IntRange::new(80, 90), 1), IntRange::new(80, 90));
        assert_eq!(child_ages(40, None), IntRange::new(0, 17));
        assert_eq!(child_ages(65, None), IntRange::new(20, 24));
        assert_eq!(child_ages(30, Some(24)), IntRange::new(0, 6));
        assert_eq!(child_ages(16, None), IntRange::new(0, 0));
        assert!(about_the_spouse("salaires_conjoint") && !about_the_spouse("salaires"));
    }
}
