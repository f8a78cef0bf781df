//! Sessions in Redis against sessions in memory, in the same run: the
//! POST-redirect-GET cycle of a step through the router (one visitor at a
//! time, then 64 at once), and the bytes an answered rehearsal takes in
//! Redis (`MEMORY USAGE`). Starts its own `redis-server` (Debian's package,
//! as the tests do). Run with `cargo bench --bench redis`.

#[path = "support/boucle.rs"]
mod boucle;
#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use miroir::testing::library::Library;
use miroir::testing::session::{MemoryStore, RedisStore, Session, SessionStore};
use miroir::testing::web::{self, AppState};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mean microseconds per cycle, one visitor, `n` cycles.
async fn sequential(router: &axum::Router, n: u64) -> f64 {
    let cookie = boucle::visitor(router).await;
    let start = Instant::now();
    for i in 0..n {
        boucle::cycle(router, &cookie, i).await;
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// Cycles per second with `visitors` at once for `time`.
async fn concurrent(router: &axum::Router, visitors: usize, time: Duration) -> f64 {
    let deadline = Instant::now() + time;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..visitors {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let cookie = boucle::visitor(&router).await;
            let mut done = 0u64;
            while Instant::now() < deadline {
                boucle::cycle(&router, &cookie, done).await;
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("redis: bench");
        return;
    }
    let lib = boucle::library();

    // The append-only file as production runs it: fsync once a second.
    let redis = redis_server::RedisServer::start_with(&["--appendfsync", "everysec"]);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = runtime.enter();
    let redis_store = Arc::new(RedisStore::open(&redis.url(), miroir::testing::session::IDLE).unwrap());
    let stores: [(&str, Arc<dyn SessionStore>); 2] = [("memory", Arc::new(MemoryStore::default())), ("redis", redis_store.clone())];
    let routers: Vec<(&str, axum::Router)> = stores
        .iter()
        .map(|(name, store)| (*name, web::router(AppState::new(lib.clone(), store.clone(), web::Config::default()))))
        .collect();

    // Warm up, then memory, Redis, memory, Redis: a machine whose speed
    // drifts during the run weighs on both sides.
    runtime.block_on(async {
        for (_, router) in &routers {
            sequential(router, 300).await;
        }
    });
    let mut one = [0.0f64; 2];
    let mut many = [0.0f64; 2];
    for _ in 0..2 {
        for (i, (_, router)) in routers.iter().enumerate() {
            one[i] += runtime.block_on(sequential(router, 3000)) / 2.0;
            many[i] += runtime.block_on(concurrent(router, 64, Duration::from_secs(3))) / 2.0;
        }
    }
    println!("POST-redirect-GET cycle of a step, through the router, in process");
    println!("| store | one visitor: µs per cycle | 64 visitors: cycles/s |");
    println!("| --- | --- | --- |");
    for (i, (name, _)) in routers.iter().enumerate() {
        println!("| {name} | {:.0} | {:.0} |", one[i], many[i]);
    }
    println!("| Redis / memory | {:.2} (time) | {:.2} (throughput) |", one[1] / one[0], many[1] / many[0]);

    // Bytes per answered rehearsal: every walkthrough of every bundled
    // scenario played to its end, one session each.
    let bundled = Library::embedded();
    let mut inside = redis.connection().unwrap();
    let (mut count, mut usage, mut packed, mut json) = (0u64, 0u64, 0u64, 0u64);
    for s in bundled.scenarios.values() {
        for test in &s.tests {
            let Ok(r) = miroir::testing::walkthrough::run(s, test) else { continue };
            let mut session = Session::default();
            session.put(r);
            let id = uuid::Uuid::new_v4();
            json += serde_json::to_vec(&session).unwrap().len() as u64;
            runtime.block_on(redis_store.save(id, session.into())).unwrap();
            let key = format!("miroir:session:{id}");
            usage += redis::cmd("MEMORY").arg("USAGE").arg(&key).arg("SAMPLES").arg(0).query::<u64>(&mut inside).unwrap();
            packed += redis::cmd("STRLEN").arg(&key).query::<u64>(&mut inside).unwrap();
            count += 1;
        }
    }
    println!();
    println!("{count} rehearsals played to their end (every walkthrough of the bundled scenarios), one session each:");
    println!(
        "MEMORY USAGE {:.0} bytes per session in Redis; the value {:.0} bytes in MessagePack ({:.0} in JSON)",
        usage as f64 / count as f64,
        packed as f64 / count as f64,
        json as f64 / count as f64
    );
}
