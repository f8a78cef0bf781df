//! The engine's modules form layers: each one uses only those below it, so
//! data flows one way and no two modules need each other. This reads every
//! file under `engine/`, collects its `crate::<module>` references (in `use`
//! lines and in paths, outside comments) and checks each against `LAYERS`.
//! A module reaching up fails with its file and line; an order with every
//! reference pointing down has no circle.

use std::collections::BTreeSet;
use std::path::Path;

/// The top-level modules of `engine/lib.rs`, lowest first: each may use
/// only those listed before it. `README.md` draws the same graph.
const LAYERS: &[&str] = &[
    "diagnostic",
    "memory",
    "french",
    "files",
    "yaml",
    "date_rule",
    "persona",
    "field",
    "expr",
    "theme",
    "scenario",
    "rehearsal",
    "session",
    "workshop",
    "walkthrough",
    "library",
    "handout",
    "web",
    "cli",
];

/// The top-level module a file under `engine/` belongs to: `scenario` for
/// `engine/scenario/build/mod.rs`, `expr` for `engine/expr.rs`. `None` for
/// the crate root and the binary.
fn module_of(relative: &str) -> Option<&str> {
    let first = relative.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then_some(name)
}

/// The modules a file's code names, with their line: `crate::x::...` and
/// `use crate::{x, y::z}`. Comments are skipped: a doc link is no dependency.
fn references(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let names: Vec<&str> = match after.strip_prefix('{') {
                // A group: the first segment of each item (`{a, b::c}`).
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or_default())
                    .collect(),
                None => vec![after.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default()],
            };
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                out.push((i + 1, name.to_owned()));
            }
            rest = after;
        }
    }
    out
}

/// Every reference that does not point strictly down, in words.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut out = Vec::new();
    for (path, text) in files {
        let relative = path.strip_prefix("engine/").unwrap_or(path);
        let Some(module) = module_of(relative) else { continue };
        let Some(own) = rank(module) else {
            out.push(format!("{path}: module `{module}` is not in LAYERS (tests/layering.rs): place it there"));
            continue;
        };
        for (line, used) in references(text) {
            if used == module {
                continue;
            }
            match rank(&used) {
                Some(r) if r < own => {}
                Some(_) => out.push(format!(
                    "{path}:{line}: `{module}` uses `crate::{used}`, which lies above it in LAYERS ({}): move the shared part down, or turn the dependency round",
                    LAYERS.join(" < ")
                )),
                None => out.push(format!("{path}:{line}: `{module}` uses `crate::{used}`, which is not in LAYERS")),
            }
        }
    }
    out
}

fn engine_files(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("engine/ is readable").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            engine_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a Rust file is text");
            out.push((path.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let mut files = Vec::new();
    engine_files(Path::new("engine"), &mut files);
    assert!(files.len() > 50, "engine/ holds the crate's sources");
    let found = violations(&files);
    assert!(found.is_empty(), "the engine's modules reach up:\n{}", found.join("\n"));
}

#[test]
fn every_module_of_the_crate_has_its_layer() {
    let lib = std::fs::read_to_string("engine/lib.rs").expect("engine/lib.rs");
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        // Inline modules (`pub mod testing { ... }`) are re-exports, not layers.
        .filter(|m| !m.ends_with('{'))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    let listed: BTreeSet<&str> = LAYERS.iter().copied().collect();
    assert_eq!(declared, listed, "LAYERS lists the modules of engine/lib.rs, each once");
    assert_eq!(listed.len(), LAYERS.len(), "each module once in LAYERS");
}

#[test]
fn a_module_reaching_up_is_named_with_its_file_and_line() {
    let files = vec![
        ("engine/expr.rs".to_owned(), "use crate::french;\n// crate::web in a comment\nfn f() { crate::scenario::x(); }\n".to_owned()),
        ("engine/yaml/shape.rs".to_owned(), "use crate::{diagnostic::Pos, library::Library};\n".to_owned()),
    ];
    let found = violations(&files);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("engine/expr.rs:3: `expr` uses `crate::scenario`, which lies above it"), "{}", found[0]);
    assert!(found[1].starts_with("engine/yaml/shape.rs:1: `yaml` uses `crate::library`"), "{}", found[1]);
}
