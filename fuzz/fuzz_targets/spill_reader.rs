//! Any bytes as a spill file left by a previous run, with any `.offset` file beside it:
//! starting a `WriteBehind` on it writes back exactly the whole records after a valid offset,
//! in order and once, keeps the other lines as rejected, and leaves no offset past the end;
//! never a panic. The same checks run as the property test
//! `crates/tradegraph-store/tests/spill_properties.rs`.
//!
//! Input: one byte `n`; when `n` is below 128, the next `n % 32` bytes are the `.offset` file's
//! contents (otherwise there is none); the rest is the spill file. Each run writes real files
//! under `TMPDIR` (point it at a tmpfs, e.g. `TMPDIR=/dev/shm`, for speed).
#![no_main]

#[path = "../../crates/tradegraph-store/tests/fuzz_harness/spill_reader.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    if n < 128 {
        let len = usize::from(n % 32).min(rest.len());
        let (offset, contents) = rest.split_at(len);
        harness::check(contents, Some(offset));
    } else {
        harness::check(rest, None);
    }
});
