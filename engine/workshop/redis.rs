//! Workshops in Redis, for several instances behind one address: a room
//! opened on one instance is joined on another, and a learner on instance
//! A shows live on a dashboard served by B.
//!
//! Every instance keeps every live workshop in memory, as without Redis, so
//! that reading one (a dashboard, a learner's report) costs no round trip.
//! Each change made here is written to Redis in order by one task, and
//! published on one channel, `miroir:workshops`; every instance applies
//! the others' changes to its own copy, which wakes its live dashboards.
//! Redis holds the truth for an instance that starts, or that lost the
//! channel for a while: it reads every room again.
//!
//! In Redis: `miroir:workshop:<code>`, the room (name, token, scenarios,
//! persona), and `miroir:workshop:<code>:learners`, a hash of learners by
//! id (pseudonym, session, progress, refused submits), both expiring after
//! the workshops' idle time, refreshed by each change. A learner's record
//! carries the time of its change: a late message never overwrites a newer
//! state. Trainer actions change learners' sessions, which are in Redis too
//! (`--redis`): they reach learners whatever instance serves them.

use super::{Learner, PersonaMode, Progress, Registry, Replica, Room, Workshop};
use crate::session::SessionId;
use ::redis::aio::ConnectionManager;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

const CHANNEL: &str = "miroir:workshops";
/// Room keys, and only them: codes are six characters.
const ROOM_PATTERN: &str = "miroir:workshop:??????";
/// Each write to Redis, and each step of reading the rooms, at most.
const COMMAND_DEADLINE: Duration = Duration::from_secs(2);
/// How long an instance that starts waits to have read the rooms.
const FIRST_READ_DEADLINE: Duration = Duration::from_secs(3);
/// A room missing from Redis is forgotten here only when older than this:
/// a room just opened may not be written yet.
const GRACE_SECS: u64 = 60;

fn room_key(code: &str) -> String {
    format!("miroir:workshop:{code}")
}

fn learners_key(code: &str) -> String {
    format!("miroir:workshop:{code}:learners")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RoomRecord {
    code: String,
    token: String,
    name: String,
    scenarios: Vec<String>,
    persona: PersonaMode,
    created: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LearnerRecord {
    id: u32,
    pseudonym: String,
    session: SessionId,
    joined: u64,
    progress: Progress,
    /// Refused submits: (scenario, step, count).
    errors: Vec<(String, String, u32)>,
    /// When the change was made, in milliseconds.
    stamp: u64,
}

impl LearnerRecord {
    fn of(l: &Learner, stamp: u64) -> LearnerRecord {
        LearnerRecord {
            id: l.id,
            pseudonym: l.pseudonym.clone(),
            session: l.session,
            joined: l.joined,
            progress: l.progress.clone(),
            errors: l.errors.iter().map(|((s, step), n)| (s.clone(), step.clone(), *n)).collect(),
            stamp,
        }
    }

    fn learner(&self) -> Learner {
        Learner {
            id: self.id,
            pseudonym: self.pseudonym.clone(),
            session: self.session,
            joined: self.joined,
            progress: self.progress.clone(),
            errors: self.errors.iter().map(|(s, step, n)| ((s.clone(), step.clone()), *n)).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum Op {
    Opened(RoomRecord),
    Learner { code: String, learner: LearnerRecord },
    Left { code: String, id: u32 },
    Ended { code: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct Message {
    /// The instance that made the change: it does not apply it twice.
    origin: u128,
    op: Op,
}

/// The link of one registry to Redis.
pub(crate) struct RedisWorkshops {
    origin: u128,
    outbox: mpsc::UnboundedSender<Op>,
    /// The stamp of each learner's state held here, by (code, id);
    /// forgotten as idle workshops are.
    stamps: moka::sync::Cache<(String, u32), u64>,
    /// Reading and setting a stamp is one step.
    stamping: Mutex<()>,
}

impl RedisWorkshops {
    /// Links `registry` to the Redis of `client` (writes through `conn`):
    /// from now on its changes go to Redis and the other instances', and
    /// theirs come here. Returns once the rooms already in Redis are read
    /// (or after a few seconds, when Redis does not answer: they are read
    /// when it does). Must run inside a Tokio runtime; a registry is linked
    /// once.
    pub(crate) async fn link(registry: &Arc<Registry>, client: ::redis::Client, conn: ConnectionManager, idle: Duration) {
        let (outbox, inbox) = mpsc::unbounded_channel();
        let link = Arc::new(RedisWorkshops {
            origin: uuid::Uuid::new_v4().as_u128(),
            outbox,
            stamps: moka::sync::Cache::builder().time_to_idle(idle).build(),
            stamping: Mutex::new(()),
        });
        if registry.replica.set(link.clone()).is_err() {
            return;
        }
        tokio::spawn(write(conn.clone(), inbox, link.origin, idle.as_secs().max(1)));
        let (ready, mut first_read) = watch::channel(false);
        tokio::spawn(listen(client, conn, Arc::downgrade(registry), link, ready));
        let _ = tokio::time::timeout(FIRST_READ_DEADLINE, first_read.wait_for(|done| *done)).await;
    }

    fn send(&self, op: Op) {
        // The writer lives as long as the runtime.
        let _ = self.outbox.send(op);
    }

    /// Whether a learner's state stamped `stamp` is newer than the one held
    /// here; if so, it becomes the one held.
    fn newer(&self, code: &str, id: u32, stamp: u64) -> bool {
        let _one_step = self.stamping.lock().unwrap_or_else(|p| p.into_inner());
        let key = (code.to_owned(), id);
        if self.stamps.get(&key).is_some_and(|held| held >= stamp) {
            return false;
        }
        self.stamps.insert(key, stamp);
        true
    }

    /// A stamp for a change made here: the time, strictly after the one held.
    fn stamp(&self, code: &str, id: u32) -> u64 {
        let _one_step = self.stamping.lock().unwrap_or_else(|p| p.into_inner());
        let key = (code.to_owned(), id);
        let stamp = now_ms().max(self.stamps.get(&key).map_or(0, |held| held + 1));
        self.stamps.insert(key, stamp);
        stamp
    }
}

impl Replica for RedisWorkshops {
    fn opened(&self, w: &Workshop) {
        self.send(Op::Opened(RoomRecord {
            code: w.code.clone(),
            token: w.token.clone(),
            name: w.name.clone(),
            scenarios: w.scenarios.clone(),
            persona: w.persona,
            created: w.created,
        }));
    }

    fn learner(&self, code: &str, learner: &Learner) {
        let stamp = self.stamp(code, learner.id);
        self.send(Op::Learner { code: code.to_owned(), learner: LearnerRecord::of(learner, stamp) });
    }

    fn left(&self, code: &str, learner: u32) {
        self.send(Op::Left { code: code.to_owned(), id: learner });
    }

    fn ended(&self, code: &str) {
        self.send(Op::Ended { code: code.to_owned() });
    }
}

/// Writes this instance's changes to Redis, in order, and publishes them.
/// A change that cannot be written (Redis away) is logged and dropped:
/// this instance keeps it, the others catch up with the learner's next one.
async fn write(mut conn: ConnectionManager, mut inbox: mpsc::UnboundedReceiver<Op>, origin: u128, idle: u64) {
    while let Some(op) = inbox.recv().await {
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        match &op {
            Op::Opened(room) => {
                pipe.set_ex(room_key(&room.code), encoded(room), idle).ignore().del(learners_key(&room.code)).ignore();
            }
            Op::Learner { code, learner } => {
                pipe.hset(learners_key(code), learner.id, encoded(learner))
                    .ignore()
                    .expire(learners_key(code), idle as i64)
                    .ignore()
                    .expire(room_key(code), idle as i64)
                    .ignore();
            }
            Op::Left { code, id } => {
                pipe.hdel(learners_key(code), *id).ignore();
            }
            Op::Ended { code } => {
                pipe.del(room_key(code)).ignore().del(learners_key(code)).ignore();
            }
        }
        let message = Message { origin, op };
        pipe.publish(CHANNEL, encoded(&message)).ignore();
        match tokio::time::timeout(COMMAND_DEADLINE, pipe.query_async::<()>(&mut conn)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "workshop change not written to Redis"),
            Err(_) => tracing::warn!("workshop change not written to Redis: no answer in time"),
        }
    }
}

/// MessagePack with field names, as sessions are.
fn encoded<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(value).unwrap_or_default()
}

/// Follows the channel for as long as the registry lives; after each
/// (re)connection, reads every room again from Redis, so that nothing
/// published while away is missed.
async fn listen(
    client: ::redis::Client,
    mut conn: ConnectionManager,
    registry: Weak<Registry>,
    link: Arc<RedisWorkshops>,
    ready: watch::Sender<bool>,
) {
    loop {
        if registry.strong_count() == 0 {
            return;
        }
        if let Ok(Ok(mut pubsub)) = tokio::time::timeout(COMMAND_DEADLINE, client.get_async_pubsub()).await
            && let Ok(Ok(())) = tokio::time::timeout(COMMAND_DEADLINE, pubsub.subscribe(CHANNEL)).await
        {
            match read_all(&mut conn, &registry, &link).await {
                Ok(()) => {
                    ready.send_replace(true);
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Some(registry) = registry.upgrade() else { return };
                        match rmp_serde::from_slice::<Message>(message.get_payload_bytes()) {
                            Ok(m) if m.origin != link.origin => apply(&registry, &link, m.op),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "unreadable workshop message"),
                        }
                    }
                    tracing::warn!("workshop channel lost; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "workshops not read from Redis"),
            }
        }
        // Starting without Redis: serve what this instance has.
        ready.send_replace(true);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads every room from Redis into the registry; rooms gone from Redis
/// (ended or expired elsewhere) are forgotten here.
async fn read_all(conn: &mut ConnectionManager, registry: &Weak<Registry>, link: &RedisWorkshops) -> Result<(), String> {
    let deadline = |e: tokio::time::error::Elapsed| e.to_string();
    let mut codes = HashSet::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = tokio::time::timeout(
            COMMAND_DEADLINE,
            ::redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(ROOM_PATTERN).arg("COUNT").arg(1000).query_async(conn),
        )
        .await
        .map_err(deadline)?
        .map_err(|e| e.to_string())?;
        for key in keys {
            let code = key.trim_start_matches("miroir:workshop:").to_owned();
            let (room, learners): (Option<Vec<u8>>, HashMap<u32, Vec<u8>>) =
                tokio::time::timeout(COMMAND_DEADLINE, ::redis::pipe().get(room_key(&code)).hgetall(learners_key(&code)).query_async(conn))
                    .await
                    .map_err(deadline)?
                    .map_err(|e| e.to_string())?;
            let Some(room) = room.and_then(|b| rmp_serde::from_slice::<RoomRecord>(&b).ok()) else { continue };
            let Some(registry) = registry.upgrade() else { return Ok(()) };
            apply(&registry, link, Op::Opened(room));
            let mut held: HashSet<u32> = HashSet::new();
            for bytes in learners.values() {
                if let Ok(learner) = rmp_serde::from_slice::<LearnerRecord>(bytes) {
                    held.insert(learner.id);
                    apply(&registry, link, Op::Learner { code: code.clone(), learner });
                }
            }
            // Learners who left while this instance was away.
            if let Some(room) = registry.by_code.get(&code) {
                let gone: Vec<u32> = room.read(|w| w.learners.iter().map(|l| l.id).filter(|id| !held.contains(id)).collect());
                for id in gone {
                    apply(&registry, link, Op::Left { code: code.clone(), id });
                }
            }
            codes.insert(code);
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let Some(registry) = registry.upgrade() else { return Ok(()) };
    let now = now_ms() / 1000;
    let gone: Vec<String> = registry
        .by_code
        .iter()
        .filter(|(code, room)| !codes.contains(code.as_str()) && room.read(|w| w.created + GRACE_SECS < now))
        .map(|(code, _)| (*code).clone())
        .collect();
    for code in gone {
        apply(&registry, link, Op::Ended { code });
    }
    Ok(())
}

/// Applies another instance's change to this one's copy, waking its
/// dashboards; never sent back to Redis.
fn apply(registry: &Registry, link: &RedisWorkshops, op: Op) {
    match op {
        Op::Opened(room) => {
            if registry.by_code.contains_key(&room.code) {
                return;
            }
            let workshop = Workshop {
                code: room.code.clone(),
                token: room.token.clone(),
                name: room.name,
                scenarios: room.scenarios,
                persona: room.persona,
                created: room.created,
                learners: Vec::new(),
                next_id: 0,
                version: 1,
            };
            let (updates, _) = watch::channel(1);
            let replica = registry.replica.get().cloned();
            registry.by_code.insert(room.code.clone(), Arc::new(Room { state: Mutex::new(workshop), updates, replica }));
            registry.by_token.insert(room.token, room.code);
        }
        Op::Learner { code, learner } => {
            let Some(room) = registry.by_code.get(&code) else { return };
            if !link.newer(&code, learner.id, learner.stamp) {
                return;
            }
            let learner = learner.learner();
            room.change(|w| match w.learners.iter_mut().find(|l| l.id == learner.id) {
                Some(held) => *held = learner,
                None => w.learners.push(learner),
            });
        }
        Op::Left { code, id } => {
            if let Some(room) = registry.by_code.get(&code) {
                room.change(|w| w.learners.retain(|l| l.id != id));
            }
        }
        Op::Ended { code } => {
            let Some(room) = registry.by_code.get(&code) else { return };
            let token = room.read(|w| w.token.clone());
            registry.by_code.invalidate(&code);
            registry.by_token.invalidate(&token);
            let ids: Vec<u32> = room.change(|w| w.learners.drain(..).map(|l| l.id).collect());
            for id in ids {
                link.stamps.invalidate(&(code.clone(), id));
            }
        }
    }
}
