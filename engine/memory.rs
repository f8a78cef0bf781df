//! Approximate heap sizes, for caches bounded by bytes rather than by
//! count (moka's weighers): a session or a persona can be a few hundred
//! bytes or tens of kilobytes, so a count alone bounds nothing. Each
//! function counts what a value holds beyond its own inline size, with the
//! allocator's and the maps' overhead; `tests/memory_bound.rs` checks the
//! estimate against resident memory. Also the one setting of the process's
//! own memory that the binary makes, `without_huge_pages`.

use serde_json::Value;
use std::mem::size_of;

/// Turns transparent huge pages off for this process. mimalloc asks the
/// kernel for them (`MADV_HUGEPAGE`), and the kernel then zeroes 2 MiB at
/// the first touch of each, however little of it is used: a server at rest
/// held 83 MB instead of 44, half of `miroir check`'s time went to zeroing
/// pages, and throughput was the same either way (paired load runs). Call
/// it first thing in `main`; it returns whether the kernel took it.
pub fn without_huge_pages() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_THP_DISABLE reads only its integer
        // arguments and changes a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// An allocation's overhead beyond its bytes (header, rounding).
const ALLOCATION: usize = 16;

/// The heap bytes of a string.
pub(crate) fn text(s: &str) -> usize {
    if s.is_empty() { 0 } else { s.len() + ALLOCATION }
}

/// The heap bytes of a compact string: none up to its inline capacity.
pub(crate) fn compact(s: &compact_str::CompactString) -> usize {
    if s.is_heap_allocated() { s.capacity() + ALLOCATION } else { 0 }
}

/// The heap bytes of a vector of `len` items of `T` (their own heap aside).
pub(crate) fn vec_of<T>(len: usize) -> usize {
    if len == 0 { 0 } else { len * size_of::<T>() + ALLOCATION }
}

/// The bytes one entry takes in a `BTreeMap<K, V>` (their own heap aside):
/// nodes hold up to eleven entries, and the small maps of a rehearsal
/// leave about half of them empty.
pub(crate) fn map_entry<K, V>() -> usize {
    (size_of::<K>() + size_of::<V>()) * 2
}

/// The heap bytes of a JSON value, as `serde_json` holds it.
pub(crate) fn json(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => text(s),
        Value::Array(items) => vec_of::<Value>(items.len()) + items.iter().map(json).sum::<usize>(),
        Value::Object(map) => map.iter().map(|(k, v)| map_entry::<String, Value>() + text(k) + json(v)).sum(),
    }
}
