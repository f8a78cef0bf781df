//! Memory per live rehearsal, in two states, each measured in a process of
//! its own (resident memory never shrinks back, so states must not share
//! one):
//! - started: 100 000 visitors who each started a scenario of the bundled
//!   library and answered nothing;
//! - halfway: 100 000 visitors halfway through the tax return
//!   (`impots/declaration-revenus`), on its income step with the five
//!   steps before answered, each with a persona of their own seed, made
//!   and kept as the server does when it shows and checks their pages.
//!
//! Prints the resident memory added per rehearsal, the part of it the
//! shared persona cache holds, and what the session store's weigher
//! counts for the same sessions. Run with `cargo bench --bench memory`.

use miroir::testing::library::Library;
use miroir::testing::rehearsal::Rehearsal;
use miroir::testing::session::{MemoryStore, Session, SessionStore};
use std::process::Command;

// The allocator of the `miroir` binary, so that figures match the server's
// (with its huge pages off, see `main`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COUNT: usize = 100_000;
const TAX_RETURN: &str = "impots/declaration-revenus";
/// Halfway: the income step, sixth of the ten on the tax return's path.
const HALFWAY: &str = "revenus";

/// Resident memory of this process, in bytes (Linux).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Distinct persona seeds, as visitors get them.
fn seed(i: usize) -> u64 {
    (i % 999_999) as u64 + 1
}

fn measure(state: &str) {
    let lib = Library::embedded();
    let store = MemoryStore::new(1 << 30, std::time::Duration::from_secs(3600));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let ids: Vec<String> = lib.scenarios.keys().cloned().collect();
    let tax = lib.get(TAX_RETURN).unwrap().clone();
    let before = resident();
    let cache_before = miroir::testing::scenario::persona_cache_bytes();
    runtime.block_on(async {
        for i in 0..COUNT {
            let r = match state {
                "started" => Rehearsal::start(lib.get(&ids[i % ids.len()]).unwrap(), seed(i), 1_775_030_400),
                _ => {
                    let r = miroir::testing::walkthrough::reach(&tax, seed(i), HALFWAY).expect("a walkthrough reaches the income step");
                    assert_eq!(r.current(&tax).id, HALFWAY);
                    r
                }
            };
            let mut session = Session::default();
            session.put(r);
            store.save(uuid::Uuid::new_v4(), session.into()).await.unwrap();
        }
    });
    let count = store.count() as usize;
    assert_eq!(count, COUNT);
    let added = resident().saturating_sub(before);
    let weighed = store.weighted_bytes();
    // The persona cache, counted apart: it is bounded
    // (`PERSONA_CACHE_BYTES`) and shared by every rehearsal.
    let cache = miroir::testing::scenario::persona_cache_bytes().saturating_sub(cache_before);
    let what = match state {
        "started" => "started, unanswered (every bundled scenario)",
        _ => "halfway through the tax return (at `revenus`, 5 steps answered)",
    };
    println!(
        "memory: {what}: {count} live rehearsals, {:.1} MiB resident added, {:.0} bytes per rehearsal \
         (of which the persona cache, {:.1} MiB added, bounded at {} MiB: {:.0}; the rest: {:.0}); the session store's weigher counts {:.0} bytes per rehearsal",
        added as f64 / 1048576.0,
        added as f64 / COUNT as f64,
        cache as f64 / 1048576.0,
        miroir::testing::scenario::PERSONA_CACHE_BYTES >> 20,
        cache as f64 / COUNT as f64,
        added.saturating_sub(cache) as f64 / COUNT as f64,
        weighed as f64 / COUNT as f64,
    );
}

fn main() {
    // As the binary does: no transparent huge pages.
    miroir::without_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!("memory: bench");
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--state") {
        measure(&args[i + 1]);
        return;
    }
    // Each state in a fresh process.
    let me = std::env::current_exe().unwrap();
    for state in ["started", "halfway"] {
        let status = Command::new(&me).args(["--state", state]).status().unwrap();
        assert!(status.success(), "the {state} measurement failed");
    }
}
