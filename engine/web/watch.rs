//! `miroir serve --watch`: scenarios and themes reloaded from disk when a
//! file changes. A file that breaks keeps its last good version live (its
//! diagnostics go to the author page, never to learners); rehearsals of
//! the scenarios that did not change go on, since their fingerprint stays.

use super::Shared;
use crate::files::FileSet;
use crate::library::Library;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer, notify::RecursiveMode};
use std::path::PathBuf;
use std::time::Duration;

/// The folders to watch.
#[derive(Clone, Debug)]
pub struct Folders {
    pub scenarios: PathBuf,
    pub themes: PathBuf,
}

/// Loads the folders, keeping the last good version of what broke.
pub fn reload(state: &Shared, folders: &Folders) -> Result<(), String> {
    let scenarios = FileSet::from_dir(&folders.scenarios, &folders.scenarios.display().to_string())
        .map_err(|e| format!("cannot read {}: {e}", folders.scenarios.display()))?;
    let themes = crate::library::themes_over(&folders.themes).map_err(|e| format!("cannot read {}: {e}", folders.themes.display()))?;
    let old = state.loaded();
    let fresh = Library::load(&scenarios, &themes).keep_last_good(&old.library);
    tracing::info!(scenarios = fresh.scenarios.len(), errors = fresh.error_count(), kept = fresh.kept.len(), "reloaded");
    state.replace(fresh);
    Ok(())
}

/// Watches the folders until the server stops; the returned guard keeps
/// the watcher alive.
pub fn spawn(state: Shared, folders: Folders) -> Result<impl Drop, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut debouncer = new_debouncer(Duration::from_millis(250), move |result: DebounceEventResult| {
        if result.is_ok() {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;
    for dir in [&folders.scenarios, &folders.themes] {
        debouncer.watcher().watch(dir, RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    }
    let mut stop = state.shutdown_signal();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                got = rx.recv() => {
                    if got.is_none() { break; }
                    // Let a burst of saves settle into one reload.
                    while rx.try_recv().is_ok() {}
                    let (state, folders) = (state.clone(), folders.clone());
                    let outcome = tokio::task::spawn_blocking(move || reload(&state, &folders)).await;
                    if let Ok(Err(e)) = outcome {
                        tracing::warn!(error = %e, "reload failed; the previous library stays");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    });
    Ok(debouncer)
}
