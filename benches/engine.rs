//! Engine benchmarks: loading and validating the bundled library,
//! generating a persona, rendering a step page, submitting a step.
//! Run with `cargo bench --bench engine`.

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use miroir::testing::library::{self, Library};
use miroir::testing::rehearsal::{Rehearsal, Stage};
use miroir::testing::session::{MemoryStore, Session};
use miroir::testing::web::{self, AppState};
use std::hint::black_box;
use std::sync::Arc;
use tower::ServiceExt;

// The allocator of the `miroir` binary, so that figures match the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIO: &str = "impots/declaration-revenus";
const NOW: u64 = 1_775_030_400;

fn benches(c: &mut Criterion) {
    let scenarios = library::embedded_scenarios();
    let themes = library::embedded_themes();
    c.bench_function("load and validate the bundled library", |b| {
        b.iter(|| black_box(Library::load(&scenarios, &themes)));
    });

    let lib = Library::embedded();
    let s = lib.get(SCENARIO).unwrap().clone();
    c.bench_function("generate a persona", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            black_box(miroir::testing::persona::generate(&s.persona, seed))
        });
    });

    // A rehearsal on the income step, as a visitor would have it, served
    // through the router: session, persona, view, theme template, banner.
    let test = &s.tests[0];
    let at_income = miroir::testing::walkthrough::replay_to(&s, test, "revenus").unwrap();
    // Rendered each time (no page cache), then reloaded from the cache.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let url = format!("/scenarios/{SCENARIO}/etape/revenus");
    for (name, cache) in [("render a step page", 0), ("reload a step page (page cache)", 1 << 20)] {
        let config = web::Config { page_cache_bytes: cache, ..web::Config::default() };
        let state = AppState::new(lib.clone(), Arc::new(MemoryStore::default()), config);
        let sid = uuid::Uuid::new_v4();
        let mut session = Session::default();
        session.put(at_income.clone());
        runtime.block_on(state.store.save(sid, session.into())).unwrap();
        let router = web::router(state.clone());
        let cookie = format!("miroir={sid}");
        c.bench_function(name, |b| {
            b.iter(|| {
                let request = Request::get(&url).header("cookie", &cookie).body(Body::empty()).unwrap();
                let response = runtime.block_on(router.clone().oneshot(request)).unwrap();
                assert_eq!(response.status(), 200);
                black_box(runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap())
            });
        });
    }
    let router = web::router(AppState::in_memory(lib.clone()));

    // What the router alone costs: the same layers, a file from memory.
    c.bench_function("serve the engine style sheet (router floor)", |b| {
        b.iter(|| {
            let request = Request::get("/_miroir/miroir.css").body(Body::empty()).unwrap();
            let response = runtime.block_on(router.clone().oneshot(request)).unwrap();
            black_box(runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap())
        });
    });

    c.bench_function("build the view of a step (no template)", |b| {
        let persona = at_income.persona(&s, NOW);
        b.iter(|| black_box(at_income.view(Stage { scenario: &s, persona: &persona }, NOW, None).unwrap()));
    });

    c.bench_function("submit a step", |b| {
        let persona = at_income.persona(&s, NOW);
        let form = vec![("1AJ".to_owned(), "24000".to_owned())];
        b.iter(|| {
            let mut r: Rehearsal = at_income.clone();
            black_box(r.submit(Stage { scenario: &s, persona: &persona }, &form, NOW).unwrap())
        });
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(engine);
