//! The web modules' imports, read from their sources: no circle, and the
//! page modules reach one another only through the shared ones.

use std::collections::{BTreeMap, BTreeSet};

/// Modules that serve pages: each takes what it shares from `respond`,
/// `extract` and `error`, never from another of these.
const PAGE_MODULES: [&str; 5] = ["pages", "workshops", "author", "handouts", "security"];

/// Each module of engine/web and the sibling modules its code (comments
/// aside) names as `super::x`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/web");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_stem().and_then(|n| n.to_str()).filter(|_| path.extension().is_some_and(|e| e == "rs")) else {
            continue;
        };
        if name == "mod" {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut used = BTreeSet::new();
        for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for part in line.split("super::").skip(1) {
                let module: String = part.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                // `super::{A, b}` names items of mod.rs, not modules.
                if !module.is_empty() && dir.join(format!("{module}.rs")).exists() && module != name {
                    used.insert(module);
                }
            }
        }
        graph.insert(name.to_owned(), used);
    }
    graph
}

#[test]
fn web_modules_import_one_another_without_a_circle() {
    let graph = imports();
    // Depth-first: a module met again while its own imports are being
    // walked closes a circle.
    fn walk(m: &str, graph: &BTreeMap<String, BTreeSet<String>>, open: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(m) {
            return;
        }
        assert!(!open.iter().any(|o| o == m), "import circle: {} -> {m}", open.join(" -> "));
        open.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            walk(next, graph, open, done);
        }
        open.pop();
        done.insert(m.to_owned());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        walk(m, &graph, &mut Vec::new(), &mut done);
    }
    for m in PAGE_MODULES {
        let others: Vec<&String> = graph[m].iter().filter(|x| PAGE_MODULES.contains(&x.as_str())).collect();
        assert!(others.is_empty(), "{m} imports {others:?}: share through respond instead");
    }
}
