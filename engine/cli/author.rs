//! Authoring commands: `miroir new`, `miroir schema`, `miroir persona`.

use crate::library::{GROUP_SCHEMA, SCENARIO_SCHEMA};
use std::path::Path;
use std::process::ExitCode;

const SCAFFOLD: &str = include_str!("scaffold.yaml");

/// A new scenario's text, for `<operator>/<name>`.
pub(super) fn scaffold(operator: &str, name: &str, date: time::Date) -> String {
    let title = {
        let spaced = name.replace(['-', '_'], " ");
        let mut chars = spaced.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    SCAFFOLD
        .replace("__TITLE__", &title)
        .replace("__OPERATOR__", operator)
        .replace("__DATE__", &format!("{}-{:02}", date.year(), u8::from(date.month())))
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && !s.starts_with('-')
}

pub(super) fn new(id: &str, dir: &Path) -> ExitCode {
    let Some((operator, name)) = id.split_once('/').filter(|(o, n)| slug_ok(o) && slug_ok(n)) else {
        eprintln!(
            "error: `{id}` is not `<operator>/<name>`\n  = help: use lower-case letters, digits and dashes, such as `caf/prime-activite`"
        );
        return ExitCode::from(2);
    };
    let path = dir.join(operator).join(format!("{name}.yaml"));
    if path.exists() {
        eprintln!("error: {} already exists; nothing was written", path.display());
        return ExitCode::FAILURE;
    }
    let today = time::OffsetDateTime::now_utc().date();
    let written =
        std::fs::create_dir_all(path.parent().unwrap_or(dir)).and_then(|_| std::fs::write(&path, scaffold(operator, name, today)));
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("created {}", path.display());
    println!("next: edit it, then run `miroir check {}`", path.display());
    ExitCode::SUCCESS
}

pub(super) fn schema(group: bool) -> ExitCode {
    let schema = if group { &*GROUP_SCHEMA } else { &*SCENARIO_SCHEMA };
    println!("{}", serde_json::to_string_pretty(schema).unwrap_or_default());
    ExitCode::SUCCESS
}

pub(super) fn persona(scenario: &str, seed: u64, json: bool, scenarios: Option<&std::path::PathBuf>) -> ExitCode {
    let lib = match super::serve::load(scenarios, None) {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(s) = lib.get(scenario) else {
        let ids: Vec<&str> = lib.scenarios.keys().map(String::as_str).collect();
        let hint = match crate::diagnostic::did_you_mean(scenario, ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("scenarios are: {}", ids.join(", ")),
        };
        eprintln!("error: no scenario `{scenario}`\n  = help: {hint}");
        return ExitCode::FAILURE;
    };
    let persona = s.persona_of(seed, None);
    let mut document = serde_json::Map::new();
    document.insert("seed".into(), seed.into());
    document.extend(persona.values.clone());
    let text = if json {
        serde_json::to_string_pretty(&document).unwrap_or_default()
    } else {
        serde_saphyr::to_string(&document).unwrap_or_default()
    };
    println!("{}", text.trim_end());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileSet;
    use crate::library::{self, Library};

    #[test]
    fn the_scaffold_checks_clean() {
        let text = scaffold("demo", "demande-de-carte", time::macros::date!(2026 - 11 - 23));
        assert!(text.contains("title: Demande de carte\n") && text.contains("valid_as_of: 2026-11\n"));
        let lib = Library::load(&FileSet::from_memory("mem", &[("demo/demande-de-carte.yaml", &text)]), &library::embedded_themes());
        assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
        assert_eq!((lib.walkthroughs_run, lib.walkthroughs_passed), (2, 2));
    }
}
