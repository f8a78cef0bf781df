//! The authoring commands: `miroir new`, `miroir schema`, `miroir persona`,
//! and the JSON Schema checked against every bundled scenario with an
//! independent validator.

use miroir::testing::library::{self, GROUP_SUFFIX};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_miroir");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn new_scaffolds_a_scenario_that_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scenarios");
    let root_str = root.to_str().unwrap();
    let (code, stdout, _) = run(&["new", "demo/premiere-demarche", "--dir", root_str]);
    assert_eq!(code, Some(0));
    let file = root.join("demo/premiere-demarche.yaml");
    assert!(stdout.contains(&format!("created {}", file.display())));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=../../docs/schema/scenario.schema.json\n"));
    assert!(text.contains("title: Premiere demarche\n"));
    let (code, stdout, _) = run(&["check", root_str]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 scenario valid") && stdout.contains("2 of 2 walkthroughs passed"), "{stdout}");
    // Never overwrite.
    let (code, _, stderr) = run(&["new", "demo/premiere-demarche", "--dir", root_str]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("already exists; nothing was written"));
    let (code, _, stderr) = run(&["new", "Pas Bon", "--dir", root_str]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not `<operator>/<name>`"));
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    let (code, stdout, _) = run(&["schema"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        std::fs::read_to_string("docs/schema/scenario.schema.json").unwrap(),
        "run `miroir schema > docs/schema/scenario.schema.json`"
    );
    let (_, stdout, _) = run(&["schema", "--group"]);
    assert_eq!(
        stdout,
        std::fs::read_to_string("docs/schema/group.schema.json").unwrap(),
        "run `miroir schema --group > docs/schema/group.schema.json`"
    );
}

fn validator(path: &str) -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn every_bundled_file_validates_against_the_schema() {
    let scenarios = validator("docs/schema/scenario.schema.json");
    let groups = validator("docs/schema/group.schema.json");
    let files = library::embedded_scenarios();
    let mut checked = 0;
    for f in files.files.iter().filter(|f| f.path.ends_with(".yaml")) {
        let text = f.text().unwrap();
        let first = text.lines().next().unwrap_or_default();
        let (validator, schema) =
            if f.path.ends_with(GROUP_SUFFIX) { (&groups, "group.schema.json") } else { (&scenarios, "scenario.schema.json") };
        assert_eq!(first, format!("# yaml-language-server: $schema=../../docs/schema/{schema}"), "{}", f.display);
        let errors: Vec<String> = validator.iter_errors(&as_json(text)).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display);
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn the_schema_refuses_what_the_checker_refuses() {
    let scenarios = validator("docs/schema/scenario.schema.json");
    let good = std::fs::read_to_string("tests/broken/demo/good.yaml").unwrap();
    assert!(scenarios.is_valid(&as_json(&good)));
    for bad in ["tests/broken/demo/keys-and-types.yaml", "tests/broken/demo/persona.yaml"] {
        let text = std::fs::read_to_string(bad).unwrap();
        assert!(!scenarios.is_valid(&as_json(&text)), "{bad}");
    }
}

#[test]
fn persona_prints_the_persona_of_a_seed() {
    let (code, stdout, _) = run(&["persona", "--scenario", "impots/declaration-revenus", "--seed", "42", "--json"]);
    assert_eq!(code, Some(0));
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lib = library::Library::embedded();
    let expected = lib.get("impots/declaration-revenus").unwrap().persona_of(42, None);
    assert_eq!(printed["seed"], 42);
    assert_eq!(printed["numero_fiscal"], expected.values["numero_fiscal"]);
    assert_eq!(printed["adresse"], expected.values["adresse"]);
    let (code, yaml, _) = run(&["persona", "--scenario", "impots/declaration-revenus", "--seed", "42"]);
    assert_eq!(code, Some(0));
    let back: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back["nir"], expected.values["nir"]);
    let (code, _, stderr) = run(&["persona", "--scenario", "impots/declaration-revenu"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("did you mean `impots/declaration-revenus`?"), "{stderr}");
}
