//! Every bundled scenario loads without a single diagnostic, and every one
//! of its walkthroughs passes.

use miroir::testing::library::Library;
use miroir::testing::walkthrough;

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

/// "de août", "de Orléans", "Salaires de Audrey": a month, a commune or a
/// first name after "de" goes through the `de` filter, which elides.
#[test]
fn bundled_texts_elide_de_before_values() {
    let unelided = regex::Regex::new(r"\bde \{\{ *(mois\(|persona\.[a-z_.]*(prenom|commune|nom)\b)").unwrap();
    let mut found = Vec::new();
    for root in ["scenarios", "themes"] {
        for entry in walkdir::WalkDir::new(root).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            for (i, line) in text.lines().enumerate() {
                if unelided.is_match(line) {
                    found.push(format!("{}:{}: {line}", entry.path().display(), i + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "write `{{{{ value | de }}}}` rather than `de {{{{ value }}}}`:\n{}", found.join("\n"));
}
