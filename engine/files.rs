//! A set of files read from a folder or embedded in the binary: the one
//! input of the scenario and theme loaders.

use crate::diagnostic::{Diagnostic, Pos};
use std::borrow::Cow;
use std::path::Path;

/// One file of a set.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path inside the set, `/`-separated: `impots/declaration.yaml`.
    pub path: String,
    /// How to name the file to a person: `scenarios/impots/declaration.yaml`.
    pub display: String,
    /// The file's content.
    pub bytes: Cow<'static, [u8]>,
}

impl SourceFile {
    /// The file as UTF-8 text, or a diagnostic that says it is not.
    pub fn text(&self) -> Result<&str, Diagnostic> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            Diagnostic::error(&self.display, Pos::UNKNOWN, format!("the file is not valid UTF-8 text ({e})"))
                .with_hint("save the file as UTF-8")
        })
    }
}

/// Files in a stable order (sorted by path).
#[derive(Clone, Debug, Default)]
pub struct FileSet {
    /// The files, in order.
    pub files: Vec<SourceFile>,
}

/// More files than this in one folder is a mistake (a home directory?).
const MAX_FILES: usize = 20_000;

impl FileSet {
    /// Every non-hidden file under `dir`, named `<display_root>/<path>`.
    pub fn from_dir(dir: &Path, display_root: &str) -> std::io::Result<FileSet> {
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter();
        for entry in walker.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')) {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            if files.len() >= MAX_FILES {
                return Err(std::io::Error::other(format!("more than {MAX_FILES} files under {}", dir.display())));
            }
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let path = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            let bytes = std::fs::read(entry.path())?;
            files.push(SourceFile { display: join(display_root, &path), path, bytes: Cow::Owned(bytes) });
        }
        Ok(FileSet { files })
    }

    /// Every file of a folder embedded with `include_dir!`.
    pub fn from_embedded(dir: &'static include_dir::Dir<'static>, display_root: &str) -> FileSet {
        let mut files = Vec::new();
        collect(dir, display_root, &mut files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        FileSet { files }
    }

    /// A set made in memory, for tests and examples.
    pub fn from_memory(display_root: &str, entries: &[(&str, &str)]) -> FileSet {
        let mut files: Vec<SourceFile> = entries
            .iter()
            .map(|(path, text)| SourceFile {
                path: (*path).to_owned(),
                display: join(display_root, path),
                bytes: Cow::Owned(text.as_bytes().to_vec()),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        FileSet { files }
    }

    /// This set with `over`'s files added, replacing those of the same path.
    pub fn overlaid(mut self, over: FileSet) -> FileSet {
        for f in over.files {
            match self.files.iter_mut().find(|g| g.path == f.path) {
                Some(same) => *same = f,
                None => self.files.push(f),
            }
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self
    }

    /// The file at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

fn collect(dir: &'static include_dir::Dir<'static>, root: &str, out: &mut Vec<SourceFile>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if path.rsplit('/').next().is_some_and(|name| name.starts_with('.')) {
            continue;
        }
        out.push(SourceFile { display: join(root, &path), path, bytes: Cow::Borrowed(file.contents()) });
    }
    for sub in dir.dirs() {
        collect(sub, root, out);
    }
}

fn join(root: &str, path: &str) -> String {
    if root.is_empty() { path.to_owned() } else { format!("{}/{path}", root.trim_end_matches('/')) }
}
