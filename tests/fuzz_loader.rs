//! The loader's bounded mutation run, as CI runs it: a few thousand mutants
//! of the bundled files (byte flips, lines deleted, duplicated or swapped,
//! values spliced between files, numbers and ranges made extreme, deep
//! nesting, long strings, duplicated keys, hostile templates), each loaded
//! as `miroir check FILE` loads it and, when it loads clean, its first pages
//! played (see `common/exercise.rs`). Deterministic: a seeded RNG.
//!
//! A panic, or a file that takes more than 2 s, fails the test, with the
//! file written to `target/tmp/fuzz-loader/`. Files once found that way
//! live in `fuzz/regressions/` and run first. The open-ended search is the
//! cargo-fuzz target `fuzz/fuzz_targets/loader.rs` (see `fuzz/README.md`).

#[path = "common/exercise.rs"]
mod exercise;

use exercise::Exercised;
use miroir::testing::library;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Mutants per run: about 32 s in a debug build on two idle cores (about
/// 55 s when other builds share them).
/// `MIROIR_FUZZ_MUTANTS=100000` runs more, locally.
const MUTANTS: usize = 2_500;
const SEED: u64 = 11;
/// A file checked for longer than this is a runaway.
const RUNAWAY: Duration = Duration::from_secs(2);
/// The whole run's peak resident memory must stay under this.
const MAX_PEAK_RSS_MIB: u64 = 1024;

/// Numbers and ranges that once broke, or could break, arithmetic.
const EXTREMES: &[&str] = &[
    "-999999999",
    "99999999999",
    "0",
    "-1",
    "255",
    "256",
    "65536",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e308",
    "-1e308",
    ".nan",
    ".inf",
    "0x7f",
    "0o17",
    "0..3000000",
    "-3000000..0",
    "-999999..999999",
    "20000..30000",
    "0..99999999999",
    "-9223372036854775808..9223372036854775807",
    "5..4",
    "1..=3",
];

/// Bits of YAML and of templates inserted anywhere.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "#",
    "|",
    ">",
    "---\n",
    "!!binary ",
    "!!str ",
    "? ",
    "\t",
    "\u{0}",
    "\u{feff}",
    "é",
    "{{ ",
    " }}",
    "{% if %}",
    "{{ mois(9223372036854775807) }}",
    "{{ mois(-9223372036854775808) }}",
    "{{ 9223372036854775807 + 1 }}",
    "{{ 9223372036854775807 * 9223372036854775807 }}",
    "{{ -9223372036854775808 // -1 }}",
    "{{ 1 / 0 }}",
    "{{ 1 % 0 }}",
    "{{ 2 ** 100000 }}",
    "{{ 'x' * 100000000 }}",
    "{{ range(100000) | list | length }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{{ persona.enfants[99].prenom }}",
    "{{ persona.nom[1000000:] }}",
    "{{ answers }}",
    "{{ inbox.messages[0].code }}",
    "{{ 1 | money }}{{ 1e308 | money }}{{ -1e308 | number }}",
    "{{ 'x' | qr }}",
    "{{ persona.nir | nir }}{{ persona.iban | iban }}{{ '' | phone }}",
];

/// Values for splicing into any key.
const VALUES: &[&str] = &["", "~", "null", "true", "[]", "{}", "[a, b]", "{ money: 1..2 }", "{ digits: 255 }", "{ date: 0..3000000 }"];

/// The operations of [`mutate`], weighted: those that keep the YAML
/// readable come more often, since what follows the reading is the target.
const OPERATIONS: &[u8] = &[0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 6, 7, 7, 8, 8, 9, 10, 10, 11];

fn mutate(rng: &mut ChaCha8Rng, text: &str, others: &[(String, String)]) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Mostly one change: more mutants then load clean and play pages.
    for _ in 0..[1, 1, 1, 2, 2, 3][rng.random_range(0..6)] {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.random_range(0..lines.len());
        match OPERATIONS[rng.random_range(0..OPERATIONS.len())] {
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
            // A value from another file, or a whole line of it.
            3 => {
                let (_, other) = &others[rng.random_range(0..others.len())];
                let foreign: Vec<&str> = other.lines().collect();
                let line = foreign[rng.random_range(0..foreign.len())];
                if rng.random_bool(0.5) {
                    let value = line.split_once(": ").map_or(line, |(_, v)| v);
                    set_value(&mut lines[i], value);
                } else {
                    lines.insert(i, line.to_owned());
                }
            }
            // Numbers and ranges made extreme.
            4 => {
                let extreme = EXTREMES[rng.random_range(0..EXTREMES.len())];
                let at =
                    lines.iter().enumerate().filter(|(_, l)| l.bytes().any(|b| b.is_ascii_digit())).map(|(k, _)| k).collect::<Vec<_>>();
                if let Some(&k) = at.get(rng.random_range(0..at.len().max(1))) {
                    lines[k] = replace_number(&lines[k], extreme, rng);
                }
            }
            // Deep nesting.
            5 => {
                let depth = rng.random_range(20..90);
                let nest = if rng.random_bool(0.5) {
                    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
                } else {
                    format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth))
                };
                set_value(&mut lines[i], &nest);
            }
            // A long string, or a long template.
            6 => {
                let n = [1_000, 20_000, 200_000][rng.random_range(0..3)];
                let long = if rng.random_bool(0.5) { "x".repeat(n) } else { "{{ persona.nom }}".repeat(n / 17) };
                set_value(&mut lines[i], &format!("\"{long}\""));
            }
            // A key given twice, with another value.
            7 => {
                if lines[i].contains(": ") {
                    let mut twin = lines[i].clone();
                    set_value(&mut twin, VALUES[rng.random_range(0..VALUES.len())]);
                    lines.insert(i + 1, twin);
                }
            }
            8 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                let at = rng.random_range(0..=lines[i].len());
                let at = (0..=at).rev().find(|&k| lines[i].is_char_boundary(k)).unwrap_or(0);
                lines[i].insert_str(at, token);
            }
            9 => {
                lines[i] = if rng.random_bool(0.5) { format!("  {}", lines[i]) } else { lines[i].trim_start().to_owned() };
            }
            // A block repeated: many steps, fields, messages or tests.
            10 => {
                let len = rng.random_range(1..=12).min(lines.len() - i);
                let block: Vec<String> = lines[i..i + len].to_vec();
                for _ in 0..rng.random_range(2..120) {
                    lines.splice(i..i, block.iter().cloned());
                }
            }
            _ => lines.truncate(i),
        }
    }
    let mut bytes = lines.join("\n").into_bytes();
    if rng.random_bool(0.05) && !bytes.is_empty() {
        let i = rng.random_range(0..bytes.len());
        bytes[i] ^= rng.random_range(1..=255u8);
    }
    bytes
}

/// `key: value` gets another value; a line without a key becomes the value.
fn set_value(line: &mut String, value: &str) {
    *line = match line.split_once(": ") {
        Some((key, _)) => format!("{key}: {value}"),
        None => format!("{}{value}", &line[..line.len() - line.trim_start().len()]),
    };
}

/// One number or range of `line` replaced by `extreme`.
fn replace_number(line: &str, extreme: &str, rng: &mut impl Rng) -> String {
    let bytes = line.as_bytes();
    let starts: Vec<usize> =
        (0..bytes.len()).filter(|&k| bytes[k].is_ascii_digit() && (k == 0 || !bytes[k - 1].is_ascii_digit())).collect();
    let Some(&start) = starts.get(rng.random_range(0..starts.len().max(1))) else { return line.to_owned() };
    let start = if start > 0 && bytes[start - 1] == b'-' { start - 1 } else { start };
    let mut end = start + 1;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.' || (bytes[end] == b'-' && bytes[end - 1] == b'.')) {
        end += 1;
    }
    format!("{}{extreme}{}", &line[..start], &line[end..])
}

/// What happened to one file.
enum Verdict {
    Done(Exercised, Duration),
    Panicked(String),
    RanAway,
}

/// A file to load: what to call it in a report, the path it is loaded as, its bytes.
type Case = (String, String, Vec<u8>);

/// Exercises every case, a few at a time (one per core, at most 4), each
/// on its own thread for at most [`RUNAWAY`]; `report` hears each verdict.
/// Stops at the first runaway, whose thread cannot be stopped.
fn run_all(cases: &[Case], mut report: impl FnMut(usize, Verdict)) {
    let lanes = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let (tx, rx) = mpsc::channel::<(usize, std::thread::Result<Exercised>)>();
    let mut running: BTreeMap<usize, Instant> = BTreeMap::new();
    let mut next = 0;
    loop {
        while running.len() < lanes && next < cases.len() {
            let (tx, path, bytes) = (tx.clone(), cases[next].1.clone(), cases[next].2.clone());
            let index = next;
            std::thread::Builder::new()
                .name(format!("case-{index}"))
                .spawn(move || {
                    let _ = tx.send((index, std::panic::catch_unwind(|| exercise::exercise(&path, bytes))));
                })
                .expect("spawning a case's thread");
            running.insert(index, Instant::now());
            next += 1;
        }
        let Some((&oldest, &started)) = running.iter().min_by_key(|(_, started)| **started) else { return };
        match rx.recv_timeout((started + RUNAWAY).saturating_duration_since(Instant::now())) {
            Ok((index, outcome)) => {
                let took = running.remove(&index).expect("a running case").elapsed();
                report(
                    index,
                    match outcome {
                        Ok(done) if done.internal.is_empty() => Verdict::Done(done, took),
                        Ok(done) => Verdict::Panicked(done.internal.join("\n")),
                        Err(panic) => Verdict::Panicked(
                            panic
                                .downcast_ref::<&str>()
                                .map(|s| (*s).to_owned())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default(),
                        ),
                    },
                );
            }
            Err(_) => return report(oldest, Verdict::RanAway),
        }
    }
}

/// Peak resident memory of this process, from Linux's `VmHWM`.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()).expect("VmHWM in kB") / 1024
}

/// The files of `fuzz/regressions/`: the path each is loaded as, and its bytes.
fn regressions() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fuzz/regressions").map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (format!("regression/{}", p.file_name().unwrap().to_string_lossy()), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn mutants_of_the_bundled_files_never_panic_or_run_away() {
    let originals: Vec<(String, String)> = library::embedded_scenarios()
        .files
        .iter()
        .filter(|f| f.path.ends_with(".yaml"))
        .map(|f| (f.path.clone(), f.text().unwrap().to_owned()))
        .collect();
    assert!(originals.len() >= 10, "the bundled files: {}", originals.len());

    // The bundled files as they are, the regressions, then the mutants.
    let mut cases: Vec<(String, String, Vec<u8>)> =
        originals.iter().map(|(path, text)| (format!("original {path}"), path.clone(), text.clone().into_bytes())).collect();
    let regressions = regressions();
    assert!(!regressions.is_empty(), "fuzz/regressions/ holds the files the fuzzers once found");
    cases.extend(regressions.iter().map(|(path, bytes)| (format!("regression {path}"), path.clone(), bytes.clone())));
    let mutants = std::env::var("MIROIR_FUZZ_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(MUTANTS);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for n in 0..mutants {
        let (path, text) = &originals[n % originals.len()];
        cases.push((format!("mutant {n} of {path}"), path.clone(), mutate(&mut rng, text, &originals)));
    }

    let dump = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-loader");
    let _ = std::fs::remove_dir_all(&dump);
    let (mut clean, mut panics, mut scenario_errors, mut slowest) = (0, Vec::new(), 0, (Duration::ZERO, 0));
    let mut runaway = None;
    let started = Instant::now();
    run_all(&cases, |index, verdict| {
        let (label, path, bytes) = &cases[index];
        let keep = |why: &str| {
            std::fs::create_dir_all(&dump).unwrap();
            let file = dump.join(format!("{index:05}-{}", path.replace('/', "-")));
            std::fs::write(&file, bytes).unwrap();
            format!("{label}: {why}; the file is {}", file.display())
        };
        match verdict {
            Verdict::Done(done, took) => {
                if label.starts_with("original") {
                    assert!(done.errors == 0 && done.scenarios > 0 || path.ends_with(library::GROUP_SUFFIX), "{label} does not load clean");
                }
                clean += usize::from(done.scenarios > 0);
                scenario_errors += done.scenario_errors;
                if took > slowest.0 {
                    slowest = (took, index);
                }
            }
            Verdict::Panicked(why) => panics.push(keep(&format!("panicked: {why}"))),
            Verdict::RanAway => runaway = Some(keep(&format!("still running after {RUNAWAY:?}"))),
        }
    });
    let peak = peak_rss_mib();
    // The slowest file, to look at when the figure grows.
    std::fs::create_dir_all(&dump).unwrap();
    std::fs::write(dump.join("slowest.yaml"), &cases[slowest.1].2).unwrap();
    println!(
        "fuzz_loader: {mutants} mutants (and {} bundled files, {} regressions) in {:.1} s: {} panics, {} runaways, \
         {clean} loaded clean (first pages with a scenario error: {scenario_errors}), slowest {} ms ({}), peak RSS {peak} MiB",
        originals.len(),
        regressions.len(),
        started.elapsed().as_secs_f64(),
        panics.len(),
        usize::from(runaway.is_some()),
        slowest.0.as_millis(),
        cases[slowest.1].0,
    );
    assert!(runaway.is_none(), "{}", runaway.unwrap_or_default());
    assert!(panics.is_empty(), "{} panics:\n{}", panics.len(), panics.join("\n"));
    // Mutants that load clean play pages: without enough of them the run
    // would test the YAML reader alone.
    assert!(clean > mutants / 10, "only {clean} mutants loaded clean");
    assert!(peak < MAX_PEAK_RSS_MIB, "peak resident memory {peak} MiB, over {MAX_PEAK_RSS_MIB} MiB");
}
