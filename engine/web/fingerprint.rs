//! 128-bit keys for what the server keeps by content (rendered pages, the
//! markup of a field or of a kept template): SipHash-1-3 with its 128-bit
//! output, keyed afresh at each start, so that two different inputs share
//! a key with odds of 2^-128, and nobody outside can make them collide on
//! purpose.

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use siphasher::sip128::{Hasher128, SipHasher13};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub(crate) struct Fingerprints(u64, u64);

impl Fingerprints {
    pub(crate) fn new() -> Fingerprints {
        // A v4 id is 122 random bits from the system's generator.
        let (k0, k1) = uuid::Uuid::new_v4().as_u64_pair();
        Fingerprints(k0, k1)
    }

    /// The key of `value`.
    pub(crate) fn of(&self, value: &impl Hash) -> u128 {
        let mut hash = self.hasher();
        value.hash(&mut hash);
        hash.finish128().as_u128()
    }

    /// A hasher to feed by hand, then `key` it.
    pub(crate) fn hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.0, self.1)
    }
}

/// The key a fed hasher gives.
pub(crate) fn key(hash: &SipHasher13) -> u128 {
    hash.finish128().as_u128()
}

/// Feeds a template value to `hash` so that two values share what they
/// feed only if a template prints them alike: unlike minijinja's own hash,
/// an escaped string differs from a plain one, and 1.0 from 1. Lists and
/// maps are fed item by item. Fails on what cannot be read as data (a
/// function, a one-shot iterator...).
pub(crate) fn feed(value: &Value, hash: &mut impl Hasher) -> Result<(), ()> {
    if let Some(k) = value.downcast_object_ref::<Keyed>() {
        hash.write_u8(11);
        hash.write_u128(k.key);
        return Ok(());
    }
    match value.kind() {
        ValueKind::Undefined => hash.write_u8(0),
        ValueKind::None => hash.write_u8(1),
        ValueKind::Bool => hash.write_u8(2 + u8::from(value.is_true())),
        ValueKind::Number if value.is_integer() => {
            hash.write_u8(4);
            i128::try_from(value.clone()).map_err(|_| ())?.hash(hash);
        }
        ValueKind::Number => {
            hash.write_u8(5);
            f64::try_from(value.clone()).map_err(|_| ())?.to_bits().hash(hash);
        }
        ValueKind::String => {
            hash.write_u8(6 + u8::from(value.is_safe()));
            value.as_str().unwrap_or_default().hash(hash);
        }
        ValueKind::Bytes => {
            hash.write_u8(8);
            value.as_bytes().unwrap_or_default().hash(hash);
        }
        ValueKind::Seq | ValueKind::Map => {
            let object = value.as_object().ok_or(())?;
            let map = matches!(object.repr(), ObjectRepr::Map);
            hash.write_u8(if map { 10 } else { 9 });
            let mut count = 0usize;
            for (k, v) in object.try_iter_pairs().ok_or(())? {
                if map {
                    feed(&k, hash)?;
                }
                feed(&v, hash)?;
                count += 1;
            }
            hash.write_usize(count);
        }
        _ => return Err(()),
    }
    Ok(())
}

/// A list or map whose key is known before any template reads it, for
/// templates: fed by that key instead of item by item (a scenario's card,
/// sources and all, cost more to feed than the footer that reads it costs
/// to render).
#[derive(Debug)]
pub(crate) struct Keyed {
    key: u128,
    value: Value,
}

/// A list or map made once and never changed (a scenario's card, the
/// links of its pages): its key is an id drawn when it is made.
pub(crate) fn constant(value: Value) -> Value {
    Value::from_object(Keyed { key: uuid::Uuid::new_v4().as_u128(), value })
}

/// `value`, a list or map made from `data` alone (a step train from its
/// items): its key is `data`'s fingerprint.
pub(crate) fn keyed_by(value: Value, data: &impl Hash) -> Value {
    static KEYS: std::sync::OnceLock<Fingerprints> = std::sync::OnceLock::new();
    Value::from_object(Keyed { key: KEYS.get_or_init(Fingerprints::new).of(data), value })
}

impl Object for Keyed {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        self.value.as_object().map_or(ObjectRepr::Map, |o| o.repr())
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.value.as_object()?.get_value(key)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.value.as_object()?.get_value_by_str(key)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match (self.value.as_object().map(|o| o.repr()), self.value.len()) {
            (Some(ObjectRepr::Seq), Some(len)) => Enumerator::Seq(len),
            _ => self.value.try_iter().map_or(Enumerator::Empty, |keys| Enumerator::Values(keys.collect())),
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.value.len()
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

    #[test]
    fn values_feed_alike_only_when_printed_alike() {
        let keys = Fingerprints::new();
        let of = |v: &Value| {
            let mut hash = keys.hasher();
            feed(v, &mut hash).map(|()| key(&hash))
        };
        let map = |pairs: &[(&str, Value)]| Value::from_pairs(pairs.iter().cloned());
        let same = [
            (Value::from("<b>"), Value::from("<b>")),
            (Value::from(vec![1, 2]), Value::from(vec![1i64, 2])),
            (map(&[("a", Value::from("x"))]), map(&[("a", Value::from("x"))])),
        ];
        for (a, b) in &same {
            assert_eq!(of(a), of(b), "{a:?} and {b:?}");
        }
        let different = [
            (Value::from("<b>"), Value::from_safe_string("<b>".into())),
            (Value::from(1), Value::from(1.0)),
            (Value::from(1), Value::from("1")),
            (Value::from(()), Value::UNDEFINED),
            (Value::from(false), Value::from(0)),
            (Value::from(vec!["ab", "c"]), Value::from(vec!["a", "bc"])),
            (Value::from(vec!["a"]), Value::from(vec!["a", ""])),
            (map(&[("a", Value::from("x"))]), map(&[("b", Value::from("x"))])),
            (map(&[("a", Value::from("x"))]), Value::from(vec!["a", "x"])),
        ];
        for (a, b) in &different {
            assert_ne!(of(a).unwrap(), of(b).unwrap(), "{a:?} and {b:?}");
        }
        let card = map(&[("a", Value::from("x"))]);
        let (once, again) = (constant(card.clone()), constant(card.clone()));
        assert_eq!(of(&once), of(&once.clone()), "a constant is fed by its id");
        assert_ne!(of(&once), of(&again), "each made has its own");
        assert_eq!(once.get_attr("a").unwrap().as_str(), Some("x"));
        assert_eq!(once.len(), Some(1));
        assert_eq!(once.try_iter().unwrap().collect::<Vec<_>>(), [Value::from("a")]);
        let items = vec!["a".to_owned(), "b".to_owned()];
        let (list, same) = (keyed_by(Value::from(items.clone()), &items), keyed_by(Value::from(items.clone()), &items));
        assert_eq!(of(&list), of(&same), "keyed by the same data");
        assert_ne!(of(&list), of(&keyed_by(Value::from(vec!["a"]), &["a"])));
        assert_eq!(list.len(), Some(2));
        assert_eq!(list.get_item(&Value::from(1)).unwrap().as_str(), Some("b"));
        assert_eq!(list.try_iter().unwrap().collect::<Vec<_>>(), [Value::from("a"), Value::from("b")]);
        let function = Value::from_function(|| "x");
        assert_eq!(of(&function), Err(()), "a function is not data");
        assert_eq!(of(&Value::from(vec![function])), Err(()));
    }
}
