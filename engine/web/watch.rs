//! `miroir serve --watch`: scenarios and themes reloaded from disk when a
//! file changes. A file that breaks keeps its last good version live (its
//! diagnostics go to the author page, never to learners); rehearsals of
//! the scenarios that did not change go on, since their fingerprint stays.

use super::Shared;
use crate::library::{self, Library};
use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::time::Duration;

/// The folders to watch. Without a themes folder, the bundled themes are
/// served and only the scenarios are watched.
#[derive(Clone, Debug)]
pub struct Folders {
    /// The scenarios folder.
    pub scenarios: PathBuf,
    /// The themes folder, if any.
    pub themes: Option<PathBuf>,
}

/// How long a burst of saves (an editor writes, renames, sets times) is
/// left to settle before one reload.
const SETTLE: Duration = Duration::from_millis(250);

/// Loads the folders, keeping the last good version of what broke.
pub(crate) fn reload(state: &Shared, folders: &Folders) -> Result<(), String> {
    let scenarios = library::scenarios_over(&folders.scenarios).map_err(|e| format!("cannot read {}: {e}", folders.scenarios.display()))?;
    let themes = match &folders.themes {
        Some(dir) => library::themes_over(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?,
        None => library::embedded_themes(),
    };
    let old = state.loaded();
    let fresh = Library::load(&scenarios, &themes).keep_last_good(&old.library);
    tracing::info!(scenarios = fresh.scenarios.len(), errors = fresh.error_count(), kept = fresh.kept.len(), "reloaded");
    state.replace(fresh);
    Ok(())
}

/// Whether an event says a file's content or name changed. Opening and
/// reading are events too (inotify reports them), and a reload reads every
/// file: reacting to those would reload for ever.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Watches the folders until the server stops; the returned guard keeps
/// the watcher alive.
pub fn spawn(state: Shared, folders: Folders) -> Result<impl Drop, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| changes_content(&e.kind)) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;
    for dir in std::iter::once(&folders.scenarios).chain(folders.themes.as_ref()) {
        watcher.watch(dir, RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    }
    let mut stop = state.shutdown_signal();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                got = rx.recv() => {
                    if got.is_none() { break; }
                    // Let a burst of saves settle into one reload.
                    tokio::time::sleep(SETTLE).await;
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
    Ok(watcher)
}
