//! `miroir check [PATH...]`: every problem of every file, then a one-line
//! summary; a non-zero exit code when there is any error.

use crate::files::FileSet;
use crate::library::{self, Library};
use std::path::Path;
use std::process::ExitCode;

pub(super) fn run(paths: &[std::path::PathBuf], themes: Option<&Path>) -> ExitCode {
    let themes = match themes {
        Some(dir) => match library::themes_over(dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read themes folder {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        },
        None => library::embedded_themes(),
    };
    let mut sets = Vec::new();
    if paths.is_empty() {
        sets.push(library::embedded_scenarios());
    }
    for path in paths {
        match scenario_set(path) {
            Ok(set) => sets.push(set),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let mut ok = true;
    for set in sets {
        let lib = Library::load(&set, &themes);
        let report = report(&lib);
        print!("{report}");
        ok &= lib.error_count() == 0;
        // The process ends here: freeing every scenario one by one would
        // only add time (a tenth of a second over 1 000 files).
        std::mem::forget(lib);
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// A folder or a single file, with the bundled step groups, which they may
/// include.
fn scenario_set(path: &Path) -> std::io::Result<FileSet> {
    let display = path.display().to_string();
    if path.is_dir() {
        return library::scenarios_over(path);
    }
    let bytes = std::fs::read(path)?;
    let operator = path.parent().and_then(|p| p.file_name()).map_or_else(|| "local".to_owned(), |n| n.to_string_lossy().into_owned());
    let name = path.file_name().map_or_else(|| "scenario.yaml".into(), |n| n.to_string_lossy().into_owned());
    Ok(library::with_bundled_groups(&format!("{operator}/{name}"), &display, bytes))
}

/// Diagnostics, then the summary line.
pub(super) fn report(lib: &Library) -> String {
    let mut out = lib.render_diagnostics();
    if !out.is_empty() {
        out.push('\n');
    }
    let scenarios = plural(lib.scenarios.len(), "scenario");
    let walkthroughs = format!("{} of {} walkthroughs passed", lib.walkthroughs_passed, lib.walkthroughs_run);
    let groups = if lib.groups.is_empty() { String::new() } else { format!(", {}", plural(lib.groups.len(), "step group")) };
    let errors = lib.error_count();
    if errors == 0 {
        out.push_str(&format!("ok: {} checked, {scenarios} valid{groups}, {walkthroughs}\n", plural(lib.files_read, "file")));
    } else {
        out.push_str(&format!(
            "failed: {} in {} of {}; {scenarios} valid, {walkthroughs}\n",
            plural(errors, "error"),
            lib.broken_files().len(),
            plural(lib.files_read, "file"),
        ));
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
