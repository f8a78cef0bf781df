//! Rendered step pages, and the catalogue ([`PageCache::key_of`]), kept
//! for a reload. A step page is a pure function of the rehearsal, a few
//! session settings and the clock's minute, so the same inputs give the
//! same bytes: a reload, a "Précédent" of the browser or a second tab costs
//! a lookup instead of a render.
//!
//! The key is a 128-bit hash of every input ([`Fingerprints`]), and holds
//! the session id: a page only ever goes back to the session it was made
//! for. The rehearsal enters it by what names it and its revision, which
//! the session moves on at every change kept (`Session::put`): hashing its
//! whole state cost a fifth of a reload. Pages are bounded in bytes and
//! forgotten after a quarter of an hour unread. One cache per loaded
//! library: a reload starts an empty one.

use super::fingerprint::Fingerprints;
use crate::rehearsal::Rehearsal;
use crate::session::SessionId;
use axum::body::Bytes;
use std::time::Duration;

pub(crate) struct PageCache {
    pages: Option<moka::sync::Cache<u128, Bytes>>,
    keys: Fingerprints,
}

/// What a step page depends on besides the rehearsal.
#[derive(Hash)]
pub(crate) struct Inputs {
    pub(crate) session: SessionId,
    /// The minute of the clock, and the rehearsal's own minutes (which
    /// count from its start): a message arrives, a code expires.
    pub(crate) minute: u64,
    pub(crate) minutes: u32,
    pub(crate) hints_shown: bool,
    pub(crate) in_workshop: bool,
}

impl PageCache {
    /// At most `max_bytes` of pages; none at all when 0.
    pub(crate) fn new(max_bytes: u64) -> PageCache {
        let pages = (max_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, page: &Bytes| u32::try_from(page.len()).unwrap_or(u32::MAX))
                .time_to_idle(Duration::from_secs(15 * 60))
                .build()
        });
        PageCache { pages, keys: Fingerprints::new() }
    }

    /// The key of a page, or `None` when pages are not kept.
    pub(crate) fn key(&self, rehearsal: &Rehearsal, inputs: &Inputs) -> Option<u128> {
        self.pages.as_ref()?;
        // What names this rehearsal, and how far it has changed: a rehearsal
        // started again (same seed, same second) is the same page anyway.
        let r = rehearsal;
        Some(self.keys.of(&(inputs, (&r.scenario, r.version, r.seed, r.started, r.pinned, r.step, r.revision))))
    }

    /// The key of a page made of `inputs` alone (the catalogue, the same
    /// for every visitor with the same inputs), or `None` when pages are not
    /// kept.
    pub(crate) fn key_of(&self, inputs: &impl std::hash::Hash) -> Option<u128> {
        self.pages.as_ref()?;
        Some(self.keys.of(inputs))
    }

    pub(crate) fn get(&self, key: u128) -> Option<Bytes> {
        self.pages.as_ref()?.get(&key)
    }

    pub(crate) fn put(&self, key: u128, page: Bytes) {
        if let Some(pages) = &self.pages {
            pages.insert(key, page);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rehearsal() -> Rehearsal {
        serde_json::from_str(r#"{"scenario":"demo/x","version":1,"seed":7,"step":0,"started":60}"#).unwrap()
    }

    fn inputs(session: SessionId) -> Inputs {
        Inputs { session, minute: 1, minutes: 0, hints_shown: true, in_workshop: false }
    }

    #[test]
    fn every_input_changes_the_key() {
        let cache = PageCache::new(1 << 20);
        let r = rehearsal();
        let s = uuid::Uuid::new_v4();
        let k = cache.key(&r, &inputs(s)).unwrap();
        assert_eq!(cache.key(&r, &inputs(s)), Some(k));
        assert_ne!(cache.key(&r, &inputs(uuid::Uuid::new_v4())), Some(k), "another session");
        assert_ne!(cache.key(&r, &Inputs { minute: 2, ..inputs(s) }), Some(k));
        assert_ne!(cache.key(&r, &Inputs { minutes: 1, ..inputs(s) }), Some(k));
        assert_ne!(cache.key(&r, &Inputs { hints_shown: false, ..inputs(s) }), Some(k));
        assert_ne!(cache.key(&r, &Inputs { in_workshop: true, ..inputs(s) }), Some(k));
        // A change kept in the session is a new page; the same rehearsal
        // kept again is not.
        let mut session = crate::session::Session::default();
        session.put(r.clone());
        let kept = |session: &crate::session::Session| session.rehearsals["demo/x"].clone();
        assert_eq!(cache.key(&kept(&session), &inputs(s)), Some(k));
        session.put(kept(&session));
        assert_eq!(cache.key(&kept(&session), &inputs(s)), Some(k), "nothing changed");
        let mut answered = kept(&session);
        answered.answers.insert("nom", "Durand");
        session.put(answered);
        let k1 = cache.key(&kept(&session), &inputs(s)).unwrap();
        assert_ne!(k1, k);
        let mut failed = kept(&session);
        failed.failures.insert(0, 1);
        session.put(failed);
        let k2 = cache.key(&kept(&session), &inputs(s)).unwrap();
        assert!(k2 != k1 && k2 != k);
        // Changed in place (a trainer moves a learner): a new page too.
        session.rehearsals.get_mut("demo/x").unwrap().step = 0;
        assert!(![k, k1, k2].contains(&cache.key(&kept(&session), &inputs(s)).unwrap()));
        // Another server start, other keys.
        assert_ne!(PageCache::new(1 << 20).key(&r, &inputs(s)), Some(k));
    }

    #[test]
    fn pages_are_kept_within_their_budget() {
        let cache = PageCache::new(10_000);
        cache.put(1, Bytes::from(vec![b'x'; 4_000]));
        assert_eq!(cache.get(1).map(|p| p.len()), Some(4_000));
        let none = PageCache::new(0);
        assert_eq!(none.key(&rehearsal(), &inputs(uuid::Uuid::new_v4())), None);
        none.put(1, Bytes::from_static(b"x"));
        assert_eq!(none.get(1), None);
    }
}
