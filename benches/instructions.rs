//! Renders the income step of the tax return `ITER` times through the
//! router, for an instruction counter: the same figure on any host, where
//! timings move with the machine. `benches/instructions.sh` runs it under
//! callgrind.

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
    let renders: usize = std::env::var("ITER").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let lib = Library::embedded();
    let s = lib.get(SCENARIO).unwrap().clone();
    let at_income = miroir::testing::walkthrough::replay_to(&s, &s.tests[0], "revenus").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    // No page cache: each GET is a render.
    let config = web::Config { page_cache_bytes: 0, ..web::Config::default() };
    let state = AppState::new(lib.clone(), Arc::new(MemoryStore::default()), config);
    let sid = uuid::Uuid::new_v4();
    let mut session = Session::default();
    session.put(at_income);
    runtime.block_on(state.store.save(sid, session.into())).unwrap();
    let router = web::router(state);
    let (url, cookie) = (format!("/scenarios/{SCENARIO}/etape/revenus"), format!("miroir={sid}"));
    let mut bytes = 0;
    for _ in 0..renders {
        let request = Request::get(&url).header("cookie", &cookie).body(Body::empty()).unwrap();
        let response = runtime.block_on(router.clone().oneshot(request)).unwrap();
        assert_eq!(response.status(), 200);
        bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap().len();
    }
    println!("{renders} renders of the income step, {bytes} bytes each");
}
