//! Rate limits: how many times a key (a visitor, an address) did something
//! within a fixed window, kept in a bounded cache that forgets quiet keys,
//! and, with Redis, counted in Redis for every instance at once.

use moka::sync::Cache;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wrong join codes allowed per visitor (session) in a window.
pub(crate) const JOIN_FAILURES_PER_VISITOR: u32 = 5;
/// Wrong join codes allowed per address in a window: a room of tablets
/// behind one box shares an address.
pub(crate) const JOIN_FAILURES_PER_ADDRESS: u32 = 30;
/// Workshops one address may open in a window.
pub(crate) const OPENINGS_PER_ADDRESS: u32 = 10;
/// The window of every limit.
pub(crate) const WINDOW: Duration = Duration::from_secs(600);

/// Counts per key over a fixed window: the first count of a key starts its
/// window, and the window's end resets it.
pub(crate) struct Limiter {
    /// Key to (count, start of its window).
    counts: Cache<String, (u32, Instant)>,
    window: Duration,
    /// Once set, the counts every instance shares: in Redis, as
    /// `miroir:limit:<name>:<key>`, each expiring at the end of its window.
    shared: std::sync::OnceLock<(redis::aio::ConnectionManager, String)>,
}

/// A shared count's read or write, at most: beyond, the local count decides.
const SHARED_DEADLINE: Duration = Duration::from_secs(1);

impl Limiter {
    pub(crate) fn new(window: Duration) -> Limiter {
        // A key untouched for a window has nothing left to count.
        Limiter { counts: Cache::builder().max_capacity(100_000).time_to_live(window).build(), window, shared: std::sync::OnceLock::new() }
    }

    /// Counts in Redis from now on, under `name`, for every instance.
    pub(crate) fn share(&self, conn: redis::aio::ConnectionManager, name: &str) {
        let _ = self.shared.set((conn, name.to_owned()));
    }

    /// Whether `key` reached `limit` in its window, counting every
    /// instance's when shared (this instance's own while Redis is away).
    pub(crate) async fn reached_shared(&self, key: &str, limit: u32) -> bool {
        if let Some((conn, name)) = self.shared.get() {
            let mut conn = conn.clone();
            let mut get = redis::cmd("GET");
            get.arg(format!("miroir:limit:{name}:{key}"));
            if let Ok(Ok(n)) = tokio::time::timeout(SHARED_DEADLINE, get.query_async::<Option<u32>>(&mut conn)).await {
                return n.is_some_and(|n| n >= limit);
            }
        }
        self.reached(key, limit)
    }

    /// Counts one more for `key`, here and, when shared, in Redis: the
    /// first count of a window sets its expiry.
    pub(crate) async fn count_shared(&self, key: &str) {
        self.count(key);
        if let Some((conn, name)) = self.shared.get() {
            let mut conn = conn.clone();
            let k = format!("miroir:limit:{name}:{key}");
            let mut pipe = redis::pipe();
            pipe.atomic().cmd("SET").arg(&k).arg(0).arg("EX").arg(self.window.as_secs().max(1)).arg("NX").ignore().incr(&k, 1).ignore();
            if !matches!(tokio::time::timeout(SHARED_DEADLINE, pipe.query_async::<()>(&mut conn)).await, Ok(Ok(()))) {
                tracing::warn!("a limit not counted in Redis");
            }
        }
    }

    /// Whether `key` reached `limit` in its current window.
    pub(crate) fn reached(&self, key: &str, limit: u32) -> bool {
        self.counts.get(key).is_some_and(|(n, since)| since.elapsed() < self.window && n >= limit)
    }

    /// Counts one more for `key`.
    pub(crate) fn count(&self, key: &str) {
        let window = self.window;
        self.counts.entry_by_ref(key).and_upsert_with(|old| match old.map(|e| e.into_value()) {
            Some((n, since)) if since.elapsed() < window => (n.saturating_add(1), since),
            _ => (1, Instant::now()),
        });
    }
}

/// The key of an address for the limits: an IPv4 address, or the /64
/// network of an IPv6 one (one subscriber usually holds a whole /64).
pub(crate) fn address_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let net = ipnet::Ipv6Net::new(v6, 64).map(|n| n.trunc()).unwrap_or_default();
            format!("address:{net}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_the_window_then_forgets() {
        let limiter = Limiter::new(Duration::from_millis(200));
        for _ in 0..3 {
            assert!(!limiter.reached("k", 3));
            limiter.count("k");
        }
        assert!(limiter.reached("k", 3));
        assert!(!limiter.reached("autre", 3));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!limiter.reached("k", 3));
        limiter.count("k");
        assert!(!limiter.reached("k", 2));
    }

    #[test]
    fn ipv6_addresses_count_by_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("::ffff:192.0.2.1".parse().unwrap()), "address:192.0.2.1");
    }
}
