//! A rehearsal's answers: field name to canonical value, in name order.
//!
//! Kept as a sorted vector of exactly the pairs held, because this is most
//! of what a live rehearsal weighs: a B-tree allocates a node with room for
//! eleven pairs at the first answer (640 bytes for ten), and a vector grown
//! by pushes keeps room for more. Names and values up to 24 bytes (most of
//! them) live inline, without an allocation each.

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers(Vec<Pair>);

impl Answers {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets the answer to `name`, in place of the one it had.
    pub fn insert(&mut self, name: &str, value: &str) {
        match self.find(name) {
            Ok(i) => self.0[i].1 = value.into(),
            Err(i) => {
                self.0.reserve_exact(1);
                self.0.insert(i, (name.into(), value.into()));
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<CompactString> {
        let i = self.find(name).ok()?;
        let (_, value) = self.0.remove(i);
        self.0.shrink_to_fit();
        Some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.into_iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The heap bytes held, for the session store's weigher.
    pub(crate) fn approx_bytes(&self) -> usize {
        use crate::memory::{compact, vec_of};
        vec_of::<Pair>(self.0.capacity()) + self.0.iter().map(|(n, v)| compact(n) + compact(v)).sum::<usize>()
    }
}

impl std::ops::Index<&str> for Answers {
    type Output = str;
    fn index(&self, name: &str) -> &str {
        self.get(name).unwrap_or_else(|| panic!("no answer to {name}"))
    }
}

type Pair = (CompactString, CompactString);

impl<'a> IntoIterator for &'a Answers {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Pair>, fn(&'a Pair) -> (&'a str, &'a str)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// As a map of names to values, the form sessions were kept in before.
impl Serialize for Answers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Answers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Answers, D::Error> {
        let map = BTreeMap::<CompactString, CompactString>::deserialize(deserializer)?;
        let mut pairs: Vec<_> = map.into_iter().collect();
        pairs.shrink_to_fit();
        Ok(Answers(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_stay_sorted_and_exactly_sized() {
        let mut a = Answers::default();
        for (n, v) in [("situation", "marie"), ("code", "1234"), ("nom", "Durand"), ("code", "9999")] {
            a.insert(n, v);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![("code", "9999"), ("nom", "Durand"), ("situation", "marie")]);
        assert_eq!(a.0.capacity(), 3);
        assert_eq!(a.remove("nom").as_deref(), Some("Durand"));
        assert_eq!(a.get("nom"), None);
        assert_eq!((a.remove("nom"), a.0.capacity()), (None, 2));
        assert!(a.contains_key("code") && !a.contains_key("cod"));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"code":"9999","situation":"marie"}"#);
        let back: Answers = serde_json::from_str(r#"{"situation":"marie","code":"9999"}"#).unwrap();
        assert_eq!(back, a);
    }
}
