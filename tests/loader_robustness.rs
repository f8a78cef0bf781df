//! Random bytes and mutated scenario files fed to the loader: it must
//! always answer with diagnostics or scenarios, never panic or hang.

use miroir::files::{FileSet, SourceFile};
use miroir::library::{self, Library};
use rand::{Rng, RngExt, SeedableRng};
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

fn mutate(rng: &mut impl Rng, text: &str) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for _ in 0..rng.random_range(1..4) {
        if lines.is_empty() {
            break;
        }
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..7) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            2 => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
            3 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                let at = rng.random_range(0..=lines[i].len());
                let at = (0..=at).rev().find(|&k| lines[i].is_char_boundary(k)).unwrap_or(0);
                lines[i].insert_str(at, token);
            }
            4 => lines[i] = format!("  {}", lines[i]),
            5 => lines[i] = lines[i].trim_start().to_owned(),
            _ => lines.truncate(i),
        }
    }
    let mut bytes = lines.join("\n").into_bytes();
    if rng.random_bool(0.2) && !bytes.is_empty() {
        let i = rng.random_range(0..bytes.len());
        bytes[i] = rng.random();
    }
    bytes
}

#[test]
fn mutated_scenarios_never_panic() {
    let scenarios = library::embedded_scenarios();
    let originals: Vec<&SourceFile> = scenarios.files.iter().filter(|f| f.path.ends_with(".yaml")).collect();
    assert!(!originals.is_empty());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let rounds = 400 / originals.len().max(1) + 1;
    for original in &originals {
        let text = std::str::from_utf8(&original.bytes).unwrap();
        for _ in 0..rounds {
            let bytes = mutate(&mut rng, text);
            let lib = load_one(&original.path, bytes);
            for d in &lib.diagnostics {
                assert!(!d.message.is_empty());
            }
        }
    }
}
