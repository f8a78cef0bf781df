//! One scenario file through the loader, as `miroir check FILE` loads it;
//! then, for each scenario that loads clean, what a visitor's first pages
//! need: the personas of a few seeds and of each walkthrough, the persona
//! card, the first step of each walkthrough. Shared by the bounded mutation
//! run (`tests/fuzz_loader.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/loader.rs`).

#![allow(dead_code)]

use miroir::testing::files::FileSet;
use miroir::testing::library::{self, INTERNAL_ERROR, Library};
use miroir::testing::rehearsal::{Rehearsal, Stage, view};
use miroir::testing::walkthrough;
use std::sync::LazyLock;

static THEMES: LazyLock<FileSet> = LazyLock::new(library::embedded_themes);

/// What one file gave.
#[derive(Debug, Default)]
pub struct Exercised {
    /// Scenarios that loaded clean.
    pub scenarios: usize,
    /// Errors reported by the checker.
    pub errors: usize,
    /// Pages of clean scenarios that would show the scenario-error page.
    pub scenario_errors: usize,
    /// Panics the loader caught and turned into diagnostics: bugs.
    pub internal: Vec<String>,
}

/// Seeds tried besides the walkthroughs' own.
const SEEDS: [u64; 4] = [0, 1, 42, u64::MAX];

/// Loads `bytes` as the file `path` (`<operator>/<name>.yaml`, or a step
/// group `<operator>/<name>.group.yaml`) and plays the first pages.
pub fn exercise(path: &str, bytes: Vec<u8>) -> Exercised {
    let set = if path.ends_with(library::GROUP_SUFFIX) { group_set(path, bytes) } else { library::with_bundled_groups(path, path, bytes) };
    let lib = Library::load(&set, &THEMES);
    let mut out = Exercised {
        scenarios: lib.scenarios.len(),
        errors: lib.error_count(),
        internal: lib.diagnostics.iter().filter(|d| d.message.starts_with(INTERNAL_ERROR)).map(|d| d.headline()).collect(),
        ..Exercised::default()
    };
    for s in lib.scenarios.values() {
        let now = walkthrough::clock(s);
        let mut rehearsals: Vec<Rehearsal> = SEEDS.iter().map(|&seed| Rehearsal::start(s, seed, now)).collect();
        rehearsals.extend((0..s.tests.len()).map(|i| walkthrough::start(s, i, now)));
        for r in rehearsals {
            let persona = r.persona(s, now);
            view::card(s, &persona);
            let stage = Stage { scenario: s, persona: &persona };
            out.scenario_errors += usize::from(r.view(stage, now, None).is_err()) + usize::from(r.inbox_view(stage, now).is_err());
        }
    }
    out
}

/// A step group, with the bundled groups and the first bundled scenario
/// that includes it.
fn group_set(path: &str, bytes: Vec<u8>) -> FileSet {
    let id = path.trim_end_matches(library::GROUP_SUFFIX);
    let mut set = library::embedded_scenarios();
    let includer = set
        .files
        .iter()
        .find(|f| !f.path.ends_with(library::GROUP_SUFFIX) && f.text().is_ok_and(|t| t.contains(&format!("group: {id}"))))
        .map(|f| f.path.clone());
    set.files.retain(|f| (f.path.ends_with(library::GROUP_SUFFIX) && f.path != path) || Some(&f.path) == includer.as_ref());
    set.files.push(miroir::testing::files::SourceFile { path: path.to_owned(), display: path.to_owned(), bytes: bytes.into() });
    set
}
