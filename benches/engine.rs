//! Engine benchmarks: loading and validating the bundled library,
//! generating a persona, rendering a step page, submitting a step.
//! Run with `cargo bench --bench engine`.

use criterion::{criterion_group, criterion_main, Criterion};
use miroir::library::{self, Library};
use miroir::rehearsal::{Rehearsal, Stage};
use miroir::web::Loaded;
use std::hint::black_box;

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
            black_box(s.persona_of(seed, None))
        });
    });

    // A rehearsal on the income step, as a visitor would have it.
    let test = &s.tests[0];
    let at_income = miroir::walkthrough::replay_to(&s, test, "revenus").unwrap();
    let loaded = Loaded::new(lib.clone(), "");
    c.bench_function("render a step page", |b| {
        b.iter(|| {
            let persona = at_income.persona(&s);
            let view = at_income.view(Stage { scenario: &s, persona: &persona }, NOW, None).unwrap();
            let ctx = minijinja::context! { view => miroir::expr::to_value(&view), urls => minijinja::context! { step => "/x" } };
            black_box(loaded.renderer.render(&view.theme, &view.template, ctx).unwrap())
        });
    });

    c.bench_function("submit a step", |b| {
        let persona = at_income.persona(&s);
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
