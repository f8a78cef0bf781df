//! Sessions in Redis, for several instances behind one address: any
//! instance serves any visitor, and a restart loses nothing. A session is
//! one key, `miroir:session:<uuid>`, holding the session in MessagePack
//! (self-describing, as the rehearsal's computed JSON values need), with
//! the memory store's idle expiry as its TTL, refreshed on every load and
//! save. Every command has a deadline: when Redis is away, a request fails
//! fast, and the connection manager reconnects by itself when it is back.

use super::{Session, SessionId, SessionStore, StoreError, StoreFuture};
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The prefix of session keys.
pub(crate) const PREFIX: &str = "miroir:session:";

/// How long connecting may take, and each command.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// The whole of one store operation, reconnection included: beyond it the
/// visitor gets the "service indisponible" page rather than a spinner.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the session count (for `/healthz`) is refreshed.
const COUNT_EVERY: Duration = Duration::from_secs(10);

/// Sessions in Redis, shared by several instances.
pub struct RedisStore {
    client: ::redis::Client,
    conn: ConnectionManager,
    idle_secs: u64,
    status: Arc<Status>,
    counter: tokio::task::JoinHandle<()>,
}

/// What `count` and `available` read without a round trip.
#[derive(Default)]
struct Status {
    sessions: AtomicU64,
    down: AtomicBool,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://HOST:PORT/DB`), sessions
    /// expiring after `idle` unused. Fails on a malformed URL only: a Redis
    /// that does not answer yet is reached when it does, and meanwhile
    /// every operation fails fast. Must run inside a Tokio runtime.
    pub fn open(url: &str, idle: Duration) -> Result<RedisStore, StoreError> {
        use ::redis::IntoConnectionInfo;
        use ::redis::io::tcp::{TcpSettings, socket2::TcpKeepalive};
        // The crate's message is left out: it could quote the URL, password included.
        let info = url.into_connection_info().map_err(|_| StoreError("invalid Redis URL: expected redis://HOST:PORT/DB".into()))?;
        // No Nagle delay on requests of a few hundred bytes (the crate's
        // default leaves it on); keepalive finds a vanished Redis host on an
        // idle connection.
        let tcp = TcpSettings::default().set_nodelay(true).set_keepalive(TcpKeepalive::new().with_time(Duration::from_secs(30)));
        let client = ::redis::Client::open(info.set_tcp_settings(tcp)).map_err(|e| StoreError(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            // Few, short retries: a request waits for none of them beyond
            // OPERATION_TIMEOUT, and the next request starts a new round.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(|e| StoreError(e.to_string()))?;
        let status = Arc::new(Status::default());
        let counter = tokio::spawn(count_sessions(conn.clone(), status.clone()));
        Ok(RedisStore { client, conn, idle_secs: idle.as_secs().max(1), status, counter })
    }

    /// The client, for other connections to the same Redis (pub/sub).
    pub fn client(&self) -> &::redis::Client {
        &self.client
    }

    /// The store's connection, shared (it is multiplexed).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Whether Redis answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.run(async move { ::redis::cmd("PING").query_async::<String>(&mut conn).await.map(drop) }).await
    }

    /// Counts the sessions now (the background does every ten seconds).
    pub async fn refresh_count(&self) -> Result<u64, StoreError> {
        let n = run_within(COUNT_EVERY, &self.status, scan_count(self.conn.clone())).await?;
        self.status.sessions.store(n, Ordering::Relaxed);
        Ok(n)
    }

    async fn run<T>(&self, command: impl Future<Output = ::redis::RedisResult<T>>) -> Result<T, StoreError> {
        run_within(OPERATION_TIMEOUT, &self.status, command).await
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.counter.abort();
    }
}

fn key(id: SessionId) -> String {
    format!("{PREFIX}{id}")
}

/// A session as stored: MessagePack with field names (fields left out when
/// empty must not shift the others).
pub fn encode(session: &Session) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec_named(session).map_err(|e| StoreError(format!("encoding a session: {e}")))
}

/// A session from its stored bytes.
pub fn decode(bytes: &[u8]) -> Result<Session, StoreError> {
    rmp_serde::from_slice(bytes).map_err(|e| StoreError(format!("decoding a session: {e}")))
}

impl SessionStore for RedisStore {
    fn load(&self, id: SessionId) -> StoreFuture<'_, Option<Arc<Session>>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            // GETEX reads and refreshes the idle expiry in one command.
            let bytes: Option<Vec<u8>> = self
                .run(async move { ::redis::cmd("GETEX").arg(key(id)).arg("EX").arg(self.idle_secs).query_async(&mut conn).await })
                .await?;
            Ok(bytes.and_then(|b| match decode(&b) {
                Ok(session) => Some(Arc::new(session)),
                Err(e) => {
                    // A session of an older format: the visitor starts again
                    // (and is told their session expired).
                    tracing::warn!(error = %e, "unreadable session dropped");
                    None
                }
            }))
        })
    }

    fn save(&self, id: SessionId, session: Arc<Session>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let bytes = encode(&session)?;
            let mut conn = self.conn.clone();
            self.run(
                async move { ::redis::cmd("SET").arg(key(id)).arg(bytes).arg("EX").arg(self.idle_secs).query_async::<()>(&mut conn).await },
            )
            .await
        })
    }

    fn remove(&self, id: SessionId) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            self.run(async move { ::redis::cmd("DEL").arg(key(id)).query_async::<()>(&mut conn).await }).await
        })
    }

    /// The sessions counted by the last scan of the key prefix (every ten
    /// seconds, in the background): an approximation, never a round trip.
    fn count(&self) -> u64 {
        self.status.sessions.load(Ordering::Relaxed)
    }

    fn available(&self) -> bool {
        !self.status.down.load(Ordering::Relaxed)
    }
}

/// Counts the session keys with `SCAN` (a thousand keys per round trip,
/// never blocking Redis as `KEYS` would; a key may be counted twice while
/// Redis rehashes: an approximation).
async fn scan_count(mut conn: ConnectionManager) -> ::redis::RedisResult<u64> {
    let pattern = format!("{PREFIX}*");
    let mut cursor: u64 = 0;
    let mut total: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<::redis::Value>) =
            ::redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).query_async(&mut conn).await?;
        total += keys.len() as u64;
        if next == 0 {
            return Ok(total);
        }
        cursor = next;
    }
}

/// Refreshes the count every [`COUNT_EVERY`], for as long as the store lives.
async fn count_sessions(conn: ConnectionManager, status: Arc<Status>) {
    loop {
        let _ = run_within(COUNT_EVERY, &status, scan_count(conn.clone())).await.map(|n| status.sessions.store(n, Ordering::Relaxed));
        tokio::time::sleep(COUNT_EVERY).await;
    }
}

/// Runs one command under a deadline, noting whether Redis answered.
async fn run_within<T>(
    deadline: Duration,
    status: &Status,
    command: impl Future<Output = ::redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    let result = match tokio::time::timeout(deadline, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError(format!("Redis: {e}"))),
        Err(_) => Err(StoreError("Redis: no answer in time".into())),
    };
    status.down.store(result.is_err(), Ordering::Relaxed);
    result
}
