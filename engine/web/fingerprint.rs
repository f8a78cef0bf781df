//! 128-bit keys for what the server keeps by content (rendered pages, the
//! markup of a field): two hashers keyed afresh at each start, so that two
//! different inputs share a key with odds of 2^-128, and nobody outside
//! can make them collide on purpose.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};

pub(crate) struct Fingerprints(RandomState, RandomState);

impl Fingerprints {
    pub(crate) fn new() -> Fingerprints {
        Fingerprints(RandomState::new(), RandomState::new())
    }

    /// The key of `value`.
    pub(crate) fn of(&self, value: &impl Hash) -> u128 {
        let mut hash = Both(self.0.build_hasher(), self.1.build_hasher());
        value.hash(&mut hash);
        u128::from(hash.0.finish()) << 64 | u128::from(hash.1.finish())
    }
}

/// Two independent hashers fed the same bytes.
struct Both<H>(H, H);

impl<H: Hasher> Hasher for Both<H> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
        self.1.write(bytes);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
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
