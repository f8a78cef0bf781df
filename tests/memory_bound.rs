//! The session store is bounded by bytes, not only by count: a flood of
//! fat sessions (thirty answered rehearsals each) stays under the bound,
//! and the estimates the bounds count (sessions, personas) are checked
//! against resident memory, with the server's allocator. One test, so that
//! no other test allocates in this process while it measures.

use miroir::testing::library::Library;
use miroir::testing::session::{MemoryStore, Session, SessionStore};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident memory of this process, in bytes (Linux).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap() * 4096
}

/// A session as fat as a visitor can make one: thirty rehearsals, each a
/// bundled walkthrough played to its end (answers, computed values, inbox).
fn fat_session(lib: &Library, n: usize) -> Session {
    let played: Vec<_> =
        lib.scenarios.values().flat_map(|s| s.tests.iter().map(move |t| miroir::testing::walkthrough::run(s, t).unwrap())).collect();
    let mut session = Session::default();
    for i in 0..miroir::testing::session::MAX_REHEARSALS {
        let mut r = played[(n + i) % played.len()].clone();
        r.scenario = format!("{}#{i}", r.scenario);
        r.started = i as u64;
        session.put(r);
    }
    session
}

const MIB: f64 = 1048576.0;

#[test]
fn a_flood_of_fat_sessions_stays_under_the_bound() {
    let lib = Library::embedded();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let templates: Vec<Session> = (0..50).map(|n| fat_session(&lib, n)).collect();

    // A flood of 9 000 (about ten times the bound) under a 32 MiB bound.
    let bound = 32u64 << 20;
    let store = MemoryStore::new(bound, Duration::from_secs(3600));
    let before = resident();
    runtime.block_on(async {
        for i in 0..9000 {
            store.save(uuid::Uuid::new_v4(), templates[i % templates.len()].clone().into()).await.unwrap();
        }
    });
    let held = store.weighted_bytes();
    let grown = resident().saturating_sub(before);
    println!(
        "9000 fat sessions under a {} MiB bound: {} kept, {:.1} MiB counted, {:.1} MiB resident added",
        bound >> 20,
        store.count(),
        held as f64 / MIB,
        grown as f64 / MIB
    );
    assert!(held <= bound, "{held} bytes held over a bound of {bound}");
    assert!(store.count() < 9000);
    assert!(grown < bound * 3 / 2, "resident memory grew by {grown} bytes under a bound of {bound}");

    // The estimate against resident memory: 1 000 fat sessions, all kept.
    let roomy = MemoryStore::new(1 << 30, Duration::from_secs(3600));
    let before = resident();
    runtime.block_on(async {
        for i in 0..1000 {
            roomy.save(uuid::Uuid::new_v4(), templates[i % templates.len()].clone().into()).await.unwrap();
        }
    });
    let (grown, counted) = (resident().saturating_sub(before) as f64, roomy.weighted_bytes() as f64);
    println!(
        "1000 fat sessions: {:.1} MiB resident, {:.1} MiB counted, {:.0} bytes per session",
        grown / MIB,
        counted / MIB,
        counted / 1000.0
    );
    assert_eq!(roomy.count(), 1000);
    assert!((0.7..=1.5).contains(&(counted / grown)), "the estimate is off: {counted} bytes counted for {grown} resident");

    // Each measure adds to what the ones before still hold: memory freed
    // would be reused and hide what is measured.
    the_persona_estimate_matches_resident_memory(&lib);

    // The newest session is there: a flood evicts the least used, and a
    // visitor who just came is kept.
    let id = uuid::Uuid::new_v4();
    runtime.block_on(async {
        store.save(id, templates[0].clone().into()).await.unwrap();
        assert!(store.load(id).await.unwrap().is_some());
    });
}

/// The persona cache is bounded by bytes too: its estimate against
/// resident memory, for personas used by templates (their values, and
/// their copy as templates read them).
fn the_persona_estimate_matches_resident_memory(lib: &Library) {
    let scenario = lib.get("impots/declaration-revenus").unwrap();
    let before = resident();
    let personas: Vec<_> = (0..2000u64)
        .map(|seed| {
            let p = miroir::testing::persona::generate(&scenario.persona, seed);
            let _ = p.template_value();
            p
        })
        .collect();
    let grown = resident().saturating_sub(before) as f64;
    let counted = personas.iter().map(|p| p.approx_bytes()).sum::<usize>() as f64;
    println!("2000 personas: {:.1} MiB resident, {:.1} MiB counted", grown / MIB, counted / MIB);
    assert!((0.7..=1.5).contains(&(counted / grown)), "the estimate is off: {counted} bytes counted for {grown} resident");
}
