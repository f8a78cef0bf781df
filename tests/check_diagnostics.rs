//! `miroir check` on deliberately broken scenarios: every problem is
//! reported with its exact file, line, column and message, and the valid
//! scenario next to the broken ones is still served.

use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};
use std::path::Path;
use std::process::Command;

fn broken() -> Library {
    let files = FileSet::from_dir(Path::new("tests/broken"), "tests/broken").unwrap();
    Library::load(&files, &library::embedded_themes())
}

#[test]
fn every_problem_has_its_exact_position_and_message() {
    let lib = broken();
    let got: Vec<String> = lib.diagnostics.iter().map(|d| d.headline()).collect();
    let expected = vec![
        "tests/broken/demo/alias-bomb.yaml:5:20: error: too many alias expansions (an alias bomb?)",
        "tests/broken/demo/broken.group.yaml:9:11: error: no step `$retour`",
        "tests/broken/demo/deep-nesting.yaml:1:71: error: nesting is deeper than 64 levels",
        "tests/broken/demo/graph.yaml:11:15: error: theme `base` has no template `deux-ecrans.html`",
        "tests/broken/demo/graph.yaml:14:17: error: duplicate field name `code` (first used at line 13)",
        "tests/broken/demo/graph.yaml:16:9: error: step `impasse` has no way forward",
        "tests/broken/demo/graph.yaml:19:9: error: step `oubliee` cannot be reached from the start `debut`",
        "tests/broken/demo/graph.yaml:23:9: error: step `fin` cannot be reached from the start `debut`",
        "tests/broken/demo/graph.yaml:26:9: error: duplicate step id `fin` (first used at line 23)",
        "tests/broken/demo/keys-and-types.yaml:4:8: error: unknown value `facile`",
        "tests/broken/demo/keys-and-types.yaml:5:19: error: expected a whole number, found text `quinze`",
        "tests/broken/demo/keys-and-types.yaml:12:9: error: missing key `label` in field",
        "tests/broken/demo/keys-and-types.yaml:14:5: error: unknown key `nxet` in step",
        "tests/broken/demo/persona-ranges.yaml:6:14: error: `valid_as_of` must lie within the years 1900..2100; got 9999-12",
        "tests/broken/demo/persona-ranges.yaml:8:8: error: `age` must lie within 16..110; got 20000..30000",
        "tests/broken/demo/persona-ranges.yaml:9:12: error: `enfants` must lie within 0..12; got -999999..999999",
        "tests/broken/demo/persona-ranges.yaml:10:28: error: `revenu_fiscal_reference` must lie within 0..10000000; got 0..99999999999",
        "tests/broken/demo/persona-ranges.yaml:12:27: error: `date_contrat` must lie within -54787..54787; got 0..3000000",
        "tests/broken/demo/persona-ranges.yaml:13:23: error: `salaire` must lie within 0..10000000; got -999999999..0",
        "tests/broken/demo/persona-ranges.yaml:14:23: error: `heures` must lie within -1000000000..1000000000; got 0..99999999999",
        "tests/broken/demo/persona-ranges.yaml:15:21: error: `code` must have 1 to 32 digits; got 200",
        "tests/broken/demo/persona-ranges.yaml:22:21: error: `age` must lie within 16..110; got 200",
        "tests/broken/demo/persona-ranges.yaml:22:35: error: `enfants` must lie within 0..12; got 30",
        "tests/broken/demo/persona-values.yaml:6:14: error: `2026-13` is not a date",
        "tests/broken/demo/persona-values.yaml:8:10: error: unknown persona field `numero_fisc`",
        "tests/broken/demo/persona-values.yaml:8:32: error: unknown persona field `adresse.pays`",
        "tests/broken/demo/persona.yaml:11:14: error: unknown value `numero_fiscl`",
        "tests/broken/demo/persona.yaml:12:14: error: unknown key `mony` in generator",
        "tests/broken/demo/range.yaml:8:8: error: `70..35` is not a range: write it as `min..max`, with min <= max",
        "tests/broken/demo/references.yaml:3:8: error: no theme `imots`",
        "tests/broken/demo/references.yaml:9:12: error: no step group `franceconnect/conexion`",
        "tests/broken/demo/references.yaml:16:25: error: unknown persona field `numero_fical`",
        "tests/broken/demo/references.yaml:17:20: error: unknown variable `answers.montnat`",
        "tests/broken/demo/references.yaml:22:18: error: unknown variable `computed.total`",
        "tests/broken/demo/references.yaml:23:23: error: `adress-line1` is not an autofill field name",
        "tests/broken/demo/references.yaml:25:13: error: this expression does not parse: syntax error: unexpected end of input, expected expression",
        "tests/broken/demo/references.yaml:27:15: error: no step `fni`",
        "tests/broken/demo/references.yaml:35:31: error: step `debut` has no field `montnat`",
        "tests/broken/demo/syntax.yaml:7:8: error: unclosed bracket '['",
        "tests/broken/demo/walkthrough.yaml:25:68: error: walkthrough `mauvais mot de passe`: at step `connexion`, field `mot_de_passe`: expected the answer `pas le bon` to be accepted, but the page said «Le mot de passe est incorrect.»",
        "tests/broken/demo/walkthrough.yaml:30:14: error: walkthrough `fin attendue ailleurs`: the rehearsal ended at step `fin`, not at `bloque`",
    ];
    assert_eq!(got, expected);
}

#[test]
fn hints_say_how_to_fix() {
    let lib = broken();
    let hint = |file: &str, line: u32| {
        lib.diagnostics.iter().find(|d| d.file.ends_with(file) && d.pos.line == line).and_then(|d| d.hint.clone()).unwrap_or_default()
    };
    assert_eq!(hint("keys-and-types.yaml", 14), "did you mean `next`?");
    assert_eq!(hint("references.yaml", 27), "did you mean `fin`?");
    assert_eq!(hint("references.yaml", 16), "did you mean `persona.numero_fiscal`?");
    assert_eq!(hint("broken.group.yaml", 9), "did you mean `$return`?");
    assert_eq!(hint("persona.yaml", 12), "did you mean `money`? expected one of: `money`, `number`, `digits`, `date`, `fixed`, `choice`");
    assert_eq!(hint("persona-ranges.yaml", 12), "a `date` range counts days from `valid_as_of`: at most 150 years either way");
}

#[test]
fn the_valid_scenario_is_kept() {
    let lib = broken();
    let ids: Vec<&str> = lib.scenarios.keys().map(String::as_str).collect();
    assert_eq!(ids, vec!["demo/good"]);
    assert_eq!(lib.walkthroughs_run, 3);
    assert_eq!(lib.walkthroughs_passed, 1);
}

#[test]
fn oversized_files_and_absurd_step_counts_are_refused() {
    let huge = format!("title: x\nsummary: \"{}\"\n", "a".repeat(1_100_000));
    let mut many =
        String::from("title: x\noperator: demo\nsummary: x\nlevel: debutant\nduration_minutes: 1\nvalid_as_of: 2026-04\nsteps:\n");
    for i in 0..600 {
        many.push_str(&format!("  - {{ id: s{i}, kind: info, title: T, next: s{} }}\n", i + 1));
    }
    many.push_str("  - { id: s600, kind: receipt, title: Fin }\n");
    let files = FileSet::from_memory("mem", &[("demo/huge.yaml", &huge), ("demo/many.yaml", &many)]);
    let lib = Library::load(&files, &library::embedded_themes());
    let got: Vec<String> = lib.diagnostics.iter().map(|d| d.headline()).collect();
    assert_eq!(
        got,
        vec![
            "mem/demo/huge.yaml: error: file is too large (1100021 bytes, the limit is 1 MiB)",
            "mem/demo/many.yaml:508:5: error: too many steps (601; at most 500)",
        ]
    );
}

/// Counts that multiply the work of every page, submit or persona: each has
/// a bound, reported at the first item beyond it.
#[test]
fn absurd_counts_are_refused() {
    let mut y = String::from("title: x\noperator: demo\nsummary: x\nlevel: debutant\nduration_minutes: 1\nvalid_as_of: 2026-04\n");
    y.push_str(&format!("persona:\n  card: [{}]\n  fields:\n", vec!["nom"; 101].join(", ")));
    y.push_str(&format!("    long: {{ fixed: {} }}\n", "x".repeat(501)));
    y.push_str(&format!("    choix: {{ choice: [{}] }}\n", vec!["a"; 101].join(", ")));
    y.push_str(&format!("    choix_long: {{ choice: [a, {}] }}\n", "y".repeat(501)));
    for i in 0..98 {
        y.push_str(&format!("    f{i}: nom\n"));
    }
    y.push_str("steps:\n  - id: champs\n    kind: form\n    title: T\n    next: options\n    fields:\n");
    for i in 0..101 {
        y.push_str(&format!("      - {{ name: c{i}, label: L, type: text }}\n"));
    }
    let options = (0..301).map(|i| format!("o{i}")).collect::<Vec<_>>().join(", ");
    y.push_str(&format!("  - id: options\n    kind: form\n    title: T\n    next: fin\n    fields:\n      - {{ name: o, label: L, type: select, options: [{options}] }}\n"));
    y.push_str("    send:\n");
    for _ in 0..11 {
        y.push_str("      - { channel: sms, from: X, body: B }\n");
    }
    y.push_str("    compute:\n");
    for i in 0..101 {
        y.push_str(&format!("      v{i}: \"1\"\n"));
    }
    y.push_str("  - { id: fin, kind: receipt, title: Fin }\ntests:\n");
    for i in 0..51 {
        y.push_str(&format!("  - {{ name: t{i}, ends_at: fin }}\n"));
    }
    let files = FileSet::from_memory("mem", &[("demo/counts.yaml", &y)]);
    let lib = Library::load(&files, &library::embedded_themes());
    let got: Vec<String> = lib.diagnostics.iter().map(|d| d.headline()).collect();
    assert_eq!(
        got,
        vec![
            "mem/demo/counts.yaml:8:510: error: too many card lines (101; at most 100)",
            "mem/demo/counts.yaml:10:20: error: `long` is too long (501 characters; at most 500)",
            "mem/demo/counts.yaml:11:12: error: `choix` has too many choices (101; at most 100)",
            "mem/demo/counts.yaml:12:17: error: a choice of `choix_long` is too long (501 characters; at most 500)",
            "mem/demo/counts.yaml:110:5: error: too many persona fields (101; at most 100)",
            "mem/demo/counts.yaml:217:9: error: too many fields in step `champs` (101; at most 100)",
            "mem/demo/counts.yaml:223:1744: error: too many options in field `o` (301; at most 300)",
            "mem/demo/counts.yaml:235:9: error: too many messages in step `options` (11; at most 10)",
            "mem/demo/counts.yaml:337:7: error: too many computed values in step `options` (101; at most 100)",
            "mem/demo/counts.yaml:390:5: error: too many walkthroughs (51; at most 50)",
        ]
    );
}

#[test]
fn the_command_prints_source_lines_hints_and_a_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_miroir")).args(["check", "tests/broken"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(
        "tests/broken/demo/keys-and-types.yaml:14:5: error: unknown key `nxet` in step\n   |\n14 |     nxet: fin\n   |     ^^^^\n   = help: did you mean `next`?\n"
    ), "{stdout}");
    assert!(stdout.ends_with("failed: 41 errors in 12 of 13 files; 1 scenario valid, 1 of 3 walkthroughs passed\n"), "{stdout}");
}

#[test]
fn the_bundled_library_checks_clean_from_the_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_miroir")).arg("check").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

#[test]
fn a_single_file_can_be_checked() {
    let out = Command::new(env!("CARGO_BIN_EXE_miroir")).args(["check", "tests/broken/demo/good.yaml"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 scenario valid"), "{stdout}");
}

/// Misused conditions (`if:`), lists (`repeat:`) and `recap:`, each located.
#[test]
fn misused_conditions_and_lists_are_located() {
    let files = FileSet::from_dir(Path::new("tests/broken-format-v2"), "tests/broken-format-v2").unwrap();
    let lib = Library::load(&files, &library::embedded_themes());
    let got: Vec<String> = lib.diagnostics.iter().map(|d| d.headline()).collect();
    let expected = vec![
        "tests/broken-format-v2/demo/conditions.yaml:11:68: error: a card line's condition reads only the persona, not `answers.situation`",
        "tests/broken-format-v2/demo/conditions.yaml:18:60: error: the condition of field `conjoint` reads `answers.situation`, a field of the same step",
        "tests/broken-format-v2/demo/conditions.yaml:28:12: error: `max` (3) is below `min` (5)",
        "tests/broken-format-v2/demo/conditions.yaml:30:61: error: a field of the list `enfants` takes no `prefill`",
        "tests/broken-format-v2/demo/conditions.yaml:32:13: error: `answers.enfants` is a list: `answers.enfants.prenom` names nothing",
        "tests/broken-format-v2/demo/conditions.yaml:36:19: error: the items of `answers.enfants` have no field `prenon`",
        "tests/broken-format-v2/demo/conditions.yaml:40:46: error: the items of `answers.enfants` have no field `nom`",
        "tests/broken-format-v2/demo/conditions.yaml:41:12: error: only `form` and `choice` steps are on the récapitulatif; this step is `info`",
        "tests/broken-format-v2/demo/conditions.yaml:42:13: error: `repeat` applies to `form` steps; this step is `info`",
        "tests/broken-format-v2/demo/conditions.yaml:42:13: error: the list `notes` has no fields for its items",
        "tests/broken-format-v2/demo/conditions.yaml:50:37: error: `_remove` applies to a step with `repeat`; step `situation` has none",
        "tests/broken-format-v2/demo/listes.yaml:23:11: error: walkthrough `un de trop`: at step `enfants`, the list `enfants` refused the attempt: «Vous ne pouvez pas ajouter plus de 1 élément.»",
        "tests/broken-format-v2/demo/listes.yaml:29:11: error: walkthrough `un enfant qui n'existe pas`: `_edit: 3`: the list `enfants` has 1 item(s)",
    ];
    assert_eq!(got, expected, "\n{}", lib.render_diagnostics());
    // The hints say what to do instead.
    let hint = |needle: &str| lib.diagnostics.iter().find(|d| d.message.contains(needle)).and_then(|d| d.hint.clone()).unwrap_or_default();
    assert_eq!(
        hint("a field of the same step"),
        "conditions are evaluated before the page is shown, on the persona and earlier answers: ask `situation` on an earlier step"
    );
    assert_eq!(hint("have no field `prenon`"), "did you mean `prenom`?");
    assert!(hint("is a list").contains("answers.enfants | length"));
}
