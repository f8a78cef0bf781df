//! Random bytes and random YAML tokens fed to the loader: it must always
//! answer with diagnostics or scenarios, never panic or hang. Mutants of
//! the bundled files are in tests/fuzz_loader.rs.

use miroir::testing::files::{FileSet, SourceFile};
use miroir::testing::library::{self, Library};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;
use std::sync::LazyLock;

static THEMES: LazyLock<FileSet> = LazyLock::new(library::embedded_themes);

fn load_one(path: &str, bytes: Vec<u8>) -> Library {
    let mut set = library::embedded_scenarios();
    set.files.retain(|f| f.path.ends_with(library::GROUP_SUFFIX));
    set.files.push(SourceFile { path: path.to_owned(), display: path.to_owned(), bytes: Cow::Owned(bytes) });
    Library::load(&set, &THEMES)
}

const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "&a ",
    "*a",
    "{{ ",
    " }}",
    "{% if %}",
    "[",
    "]",
    "{",
    "}",
    "\n",
    "  ",
    "\t",
    "'",
    "\"",
    "#",
    "|",
    ">",
    "---\n",
    "!!binary ",
    "<<: *a\n",
    "goto: ",
    "kind: ",
    "next: ",
    "id: x\n",
    "\u{0}",
    "é",
    "ü",
    "\u{feff}",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for _ in 0..200 {
        let len = rng.random_range(0..1500);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
        let lib = load_one("demo/random.yaml", bytes);
        assert!(lib.scenarios.is_empty() || lib.error_count() == 0);
    }
    for _ in 0..200 {
        let text: String = (0..rng.random_range(0..120)).map(|_| TOKENS[rng.random_range(0..TOKENS.len())]).collect();
        load_one("demo/tokens.yaml", text.into_bytes());
    }
}

// Mutants of the bundled files: tests/fuzz_loader.rs.
