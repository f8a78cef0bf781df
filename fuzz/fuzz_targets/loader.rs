//! libFuzzer's bytes as a scenario file, loaded as `miroir check FILE`
//! loads it (with the bundled step groups and themes); when it loads clean,
//! its first pages are played, as in `tests/fuzz_loader.rs`. A panic, even
//! one the loader catches and reports as an internal error, is a crash.
//! Run it with `-timeout=2 -rss_limit_mb=1024` (see README.md).

#![no_main]

#[path = "../../tests/common/exercise.rs"]
mod exercise;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let done = exercise::exercise("fuzz/loader.yaml", data.to_vec());
    assert!(done.internal.is_empty(), "{}", done.internal.join("\n"));
});
