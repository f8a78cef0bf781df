//! Visitors' sessions: the rehearsals of one browser, behind a cookie that
//! holds a random id. Sessions live in a [`SessionStore`]; the in-memory
//! one is bounded and forgets idle sessions, and the trait's futures let a
//! networked store (Redis) take its place without touching the handlers.

pub(crate) mod redis;

pub use self::redis::RedisStore;
use crate::rehearsal::Rehearsal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The cookie's value: a random (v4) id, unguessable.
pub(crate) type SessionId = Uuid;

/// A visitor's rehearsals, one per scenario. A small vector: a visitor
/// rarely runs more than a few, and a map would allocate room for eleven.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rehearsals(Vec<Rehearsal>);

impl Rehearsals {
    pub fn get(&self, scenario: &str) -> Option<&Rehearsal> {
        self.0.iter().find(|r| r.scenario == scenario)
    }

    /// The rehearsal, to change in place: counted as a change (see
    /// [`Session::put`]).
    pub fn get_mut(&mut self, scenario: &str) -> Option<&mut Rehearsal> {
        let r = self.0.iter_mut().find(|r| r.scenario == scenario)?;
        r.revision = r.revision.wrapping_add(1);
        Some(r)
    }

    pub fn contains_key(&self, scenario: &str) -> bool {
        self.get(scenario).is_some()
    }

    pub fn remove(&mut self, scenario: &str) -> Option<Rehearsal> {
        let i = self.0.iter().position(|r| r.scenario == scenario)?;
        Some(self.0.remove(i))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rehearsal> {
        self.0.iter()
    }
}

impl std::ops::Index<&str> for Rehearsals {
    type Output = Rehearsal;
    fn index(&self, scenario: &str) -> &Rehearsal {
        self.get(scenario).unwrap_or_else(|| panic!("no rehearsal of {scenario}"))
    }
}

impl std::ops::Index<&String> for Rehearsals {
    type Output = Rehearsal;
    fn index(&self, scenario: &String) -> &Rehearsal {
        &self[scenario.as_str()]
    }
}

/// One browser's rehearsals and settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Rehearsals, one per scenario: one visitor can run several scenarios.
    #[serde(default)]
    pub rehearsals: Rehearsals,
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
    /// Keeps `rehearsal`, in place of the one of the same scenario, and
    /// drops the oldest one when there are too many. A rehearsal that
    /// differs from the one it replaces gets the next revision: whatever
    /// changed, a page made from it is a new page.
    pub fn put(&mut self, mut rehearsal: Rehearsal) {
        match self.rehearsals.0.iter_mut().find(|r| r.scenario == rehearsal.scenario) {
            Some(same) => {
                rehearsal.revision = same.revision;
                if *same != rehearsal {
                    rehearsal.revision = same.revision.wrapping_add(1);
                    *same = rehearsal;
                }
            }
            None => {
                // Room for this one only: a rehearsal is a few hundred bytes,
                // and a vector grown by a push keeps room for three more.
                self.rehearsals.0.reserve_exact(1);
                self.rehearsals.0.push(rehearsal);
            }
        }
        while self.rehearsals.len() > MAX_REHEARSALS {
            let oldest = self.rehearsals.0.iter().enumerate().min_by_key(|(_, r)| r.started).map(|(i, _)| i);
            match oldest {
                Some(i) => self.rehearsals.0.remove(i),
                None => break,
            };
        }
    }
}

impl Session {
    /// About how many bytes this session holds, itself included: what the
    /// memory store is bounded by.
    pub fn approx_bytes(&self) -> usize {
        use crate::memory::{text, vec_of};
        std::mem::size_of::<Session>()
            + vec_of::<Rehearsal>(self.rehearsals.len())
            + self.rehearsals.iter().map(|r| r.approx_bytes() - std::mem::size_of::<Rehearsal>()).sum::<usize>()
            + self.notice.as_deref().map_or(0, text)
            + self.workshop.as_ref().map_or(0, |seat| text(&seat.code))
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

pub(crate) type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where sessions live.
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if any.
    fn load(&self, id: SessionId) -> StoreFuture<'_, Option<Arc<Session>>>;
    /// Stores `session` under `id`.
    fn save(&self, id: SessionId, session: Arc<Session>) -> StoreFuture<'_, ()>;
    /// Forgets the session with this id.
    fn remove(&self, id: SessionId) -> StoreFuture<'_, ()>;
    /// Sessions held, for health and metrics.
    fn count(&self) -> u64;
    /// Whether the store answered its last request (a networked store may
    /// be away for a while).
    fn available(&self) -> bool {
        true
    }
}

/// Sessions in memory: at most `max_bytes` of them (as
/// [`Session::approx_bytes`] counts), each forgotten after `idle` without
/// use; beyond the bound the least used go first. Nothing is written to
/// disk.
pub struct MemoryStore {
    // Shared, not copied: a page that only reads the session (a reload)
    // takes it without cloning its rehearsals.
    cache: moka::sync::Cache<SessionId, Arc<Session>>,
}

/// What the store keeps for each session beyond the session itself: the
/// key, the `Arc` it is shared by, moka's entry and its bookkeeping.
const ENTRY_OVERHEAD: usize = 176;

/// A session is forgotten after this long unused.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// The memory store's bound by default.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 256 << 20;

impl MemoryStore {
    /// A store holding at most about `max_bytes`, forgetting sessions idle for `idle`.
    pub fn new(max_bytes: u64, idle: Duration) -> MemoryStore {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &SessionId, s: &Arc<Session>| u32::try_from(ENTRY_OVERHEAD + s.approx_bytes()).unwrap_or(u32::MAX))
            .time_to_idle(idle)
            .build();
        MemoryStore { cache }
    }

    /// The bytes held now, as the bound counts them.
    pub fn weighted_bytes(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.weighted_size()
    }
}

impl Default for MemoryStore {
    /// 256 MiB of sessions, each forgotten after 8 hours without use.
    fn default() -> Self {
        MemoryStore::new(DEFAULT_MAX_BYTES, IDLE)
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: SessionId) -> StoreFuture<'_, Option<Arc<Session>>> {
        let found = self.cache.get(&id);
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, id: SessionId, session: Arc<Session>) -> StoreFuture<'_, ()> {
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
            let store = MemoryStore::new(1 << 20, Duration::from_millis(200));
            let id = Uuid::new_v4();
            let session = Session { hints_hidden: true, ..Session::default() };
            store.save(id, Arc::new(session.clone())).await.unwrap();
            assert_eq!(store.load(id).await.unwrap(), Some(Arc::new(session)));
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(store.load(id).await.unwrap(), None);
        });
    }
}
