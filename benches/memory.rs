//! Memory: creates 100 000 live rehearsals, as 100 000 visitors who each
//! started a scenario would, and reports the resident memory added per
//! rehearsal. Run with `cargo bench --bench memory`.

use miroir::library::Library;
use miroir::rehearsal::Rehearsal;
use miroir::session::{MemoryStore, Session, SessionStore};

const COUNT: usize = 100_000;

/// Resident memory of this process, in bytes (Linux).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("memory: bench");
        return;
    }
    let lib = Library::embedded();
    let ids: Vec<String> = lib.scenarios.keys().cloned().collect();
    let store = MemoryStore::new(1 << 30, std::time::Duration::from_secs(3600));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let before = resident();
    runtime.block_on(async {
        for i in 0..COUNT {
            let s = lib.get(&ids[i % ids.len()]).unwrap();
            let mut session = Session::default();
            session.put(Rehearsal::start(s, (i % 999_999) as u64 + 1, 1_775_030_400));
            store.save(uuid::Uuid::new_v4(), session).await.unwrap();
        }
    });
    let count = store.count();
    let after = resident();
    let per = (after.saturating_sub(before)) as f64 / COUNT as f64;
    println!("memory: {count} live rehearsals, {:.1} MiB added, {per:.0} bytes per idle rehearsal", (after - before) as f64 / 1048576.0);
}
