//! 128-bit keys for what the server keeps by content (rendered pages, the
//! markup of a field): SipHash-1-3 with its 128-bit output, keyed afresh at
//! each start, so that two different inputs share a key with odds of
//! 2^-128, and nobody outside can make them collide on purpose.

use siphasher::sip128::{Hasher128, SipHasher13};
use std::hash::Hash;

pub(crate) struct Fingerprints(u64, u64);

impl Fingerprints {
    pub(crate) fn new() -> Fingerprints {
        // A v4 id is 122 random bits from the system's generator.
        let (k0, k1) = uuid::Uuid::new_v4().as_u64_pair();
        Fingerprints(k0, k1)
    }

    /// The key of `value`.
    pub(crate) fn of(&self, value: &impl Hash) -> u128 {
        let mut hash = SipHasher13::new_with_keys(self.0, self.1);
        value.hash(&mut hash);
        hash.finish128().as_u128()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_inputs_share_a_key_and_others_do_not() {
        let keys = Fingerprints::new();
        assert_eq!(keys.of(&("a", 1)), keys.of(&("a", 1)));
        assert_ne!(keys.of(&("a", 1)), keys.of(&("a", 2)));
        assert_ne!(keys.of(&("ab", "c")), keys.of(&("a", "bc")));
        assert_ne!(Fingerprints::new().of(&("a", 1)), keys.of(&("a", 1)), "another start, other keys");
    }
}
