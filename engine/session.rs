//! Visitors' sessions: the rehearsals of one browser, behind a cookie that
//! holds a random id. Sessions live in a [`SessionStore`]; the in-memory
//! one is bounded and forgets idle sessions, and the trait's futures let a
//! networked store (Redis) take its place without touching the handlers.

use crate::rehearsal::Rehearsal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use uuid::Uuid;

/// The cookie's value: a random (v4) id, unguessable.
pub type SessionId = Uuid;

/// One browser's rehearsals and settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Rehearsals by scenario id: one visitor can run several scenarios.
    #[serde(default)]
    pub rehearsals: BTreeMap<String, Rehearsal>,
    /// The aidant hints are hidden.
    #[serde(default)]
    pub hints_hidden: bool,
    /// A message for the next page shown, then forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The workshop this visitor joined as a learner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workshop: Option<Seat>,
}

/// A learner's place in a workshop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub code: String,
    pub learner: u32,
}

/// A visitor keeps at most this many rehearsals; the oldest goes first.
pub const MAX_REHEARSALS: usize = 30;

impl Session {
    /// Keeps `rehearsal`, dropping the oldest one when there are too many.
    pub fn put(&mut self, rehearsal: Rehearsal) {
        self.rehearsals.insert(rehearsal.scenario.clone(), rehearsal);
        while self.rehearsals.len() > MAX_REHEARSALS {
            let oldest = self.rehearsals.iter().min_by_key(|(_, r)| r.started).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.rehearsals.remove(&k),
                None => break,
            };
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where sessions live.
pub trait SessionStore: Send + Sync + 'static {
    fn load(&self, id: SessionId) -> StoreFuture<'_, Option<Session>>;
    fn save(&self, id: SessionId, session: Session) -> StoreFuture<'_, ()>;
    fn remove(&self, id: SessionId) -> StoreFuture<'_, ()>;
    /// Sessions held, for health and metrics.
    fn count(&self) -> u64;
}

/// Sessions in memory: at most `capacity`, each forgotten after `idle`
/// without use. Nothing is written to disk.
pub struct MemoryStore {
    cache: moka::sync::Cache<SessionId, Session>,
}

impl MemoryStore {
    pub fn new(capacity: u64, idle: Duration) -> MemoryStore {
        MemoryStore { cache: moka::sync::Cache::builder().max_capacity(capacity).time_to_idle(idle).build() }
    }
}

impl Default for MemoryStore {
    /// 100 000 sessions, forgotten after 8 hours without use.
    fn default() -> Self {
        MemoryStore::new(100_000, Duration::from_secs(8 * 3600))
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: SessionId) -> StoreFuture<'_, Option<Session>> {
        let found = self.cache.get(&id);
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, id: SessionId, session: Session) -> StoreFuture<'_, ()> {
        self.cache.insert(id, session);
        Box::pin(async { Ok(()) })
    }

    fn remove(&self, id: SessionId) -> StoreFuture<'_, ()> {
        self.cache.invalidate(&id);
        Box::pin(async { Ok(()) })
    }

    fn count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip_and_expiry() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let store = MemoryStore::new(10, Duration::from_millis(200));
            let id = Uuid::new_v4();
            let session = Session { hints_hidden: true, ..Session::default() };
            store.save(id, session.clone()).await.unwrap();
            assert_eq!(store.load(id).await.unwrap(), Some(session));
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(store.load(id).await.unwrap(), None);
        });
    }
}
