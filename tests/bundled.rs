//! Every bundled scenario loads without a single diagnostic, and every one
//! of its walkthroughs passes.

use miroir::library::Library;
use miroir::walkthrough;

#[test]
fn bundled_library_is_clean() {
    let lib = Library::embedded();
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    assert!(!lib.scenarios.is_empty());
    assert_eq!(lib.walkthroughs_run, lib.walkthroughs_passed);
}

#[test]
fn every_walkthrough_passes_and_every_scenario_has_an_error_path() {
    let lib = Library::embedded();
    for scenario in lib.scenarios.values() {
        assert!(scenario.tests.len() >= 2, "{} needs a happy path and an error or incident path", scenario.id);
        for test in &scenario.tests {
            let r = walkthrough::run(scenario, test).unwrap_or_else(|f| panic!("{}: {}", scenario.id, f.message));
            assert_eq!(r.current(scenario).id, test.ends_at);
        }
    }
}
