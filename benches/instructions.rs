//! For an instruction counter, `ITER` times through the router: with
//! `WHAT=render` (the default), a render of the income step of the tax
//! return (session, view, templates, marks; no page cache); with
//! `WHAT=cycle`, the POST-redirect-GET cycle of `benches/boucle.yaml` that
//! `benches/load.sh` measures, each submit with a new amount; with
//! `WHAT=kept`, a reload of the income step answered from the page cache
//! (session, key, lookup: the kept row of `benches/load.sh`). The same
//! figures on any host, where timings move with the machine.
//! `benches/instructions.sh` runs it under callgrind.

#[path = "support/boucle.rs"]
mod boucle;

use axum::body::Body;
use axum::http::Request;
use miroir::testing::library::Library;
use miroir::testing::session::{MemoryStore, Session};
use miroir::testing::web::{self, AppState};
use std::sync::Arc;
use tower::ServiceExt;

// The allocator of the `miroir` binary, so that figures match the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIO: &str = "impots/declaration-revenus";

fn main() {
    let times: u64 = std::env::var("ITER").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let what = std::env::var("WHAT").unwrap_or_default();
    // No page cache, each GET a render; but for the reload.
    let config = match what.as_str() {
        "kept" => web::Config::default(),
        _ => web::Config { page_cache_bytes: 0, ..web::Config::default() },
    };
    if what == "cycle" {
        let router = web::router(AppState::new(boucle::library(), Arc::new(MemoryStore::default()), config));
        let cookie = runtime.block_on(boucle::visitor(&router));
        for n in 0..times {
            runtime.block_on(boucle::cycle(&router, &cookie, n));
        }
        println!("{times} POST-redirect-GET cycles");
        return;
    }
    let lib = Library::embedded();
    let s = lib.get(SCENARIO).unwrap().clone();
    let at_income = miroir::testing::walkthrough::replay_to(&s, &s.tests[0], "revenus").unwrap();
    let state = AppState::new(lib.clone(), Arc::new(MemoryStore::default()), config);
    let sid = uuid::Uuid::new_v4();
    let mut session = Session::default();
    session.put(at_income);
    runtime.block_on(state.store.save(sid, session.into())).unwrap();
    let router = web::router(state);
    let (url, cookie) = (format!("/scenarios/{SCENARIO}/etape/revenus"), format!("miroir={sid}"));
    let mut bytes = 0;
    for _ in 0..times {
        let request = Request::get(&url).header("cookie", &cookie).body(Body::empty()).unwrap();
        let response = runtime.block_on(router.clone().oneshot(request)).unwrap();
        assert_eq!(response.status(), 200);
        bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap().len();
    }
    let done = if what == "kept" { "reloads" } else { "renders" };
    println!("{times} {done} of the income step, {bytes} bytes each");
}
