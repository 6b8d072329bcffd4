//! Versions: every record written behind carries one, stamped when it is queued, so that an
//! older write of a key never replaces a newer one, whatever order the writes reach the server
//! in (a batch given up after its time limit may still land after a newer one).
//!
//! A version is the wall clock's milliseconds since the Unix epoch shifted left by 16 bits, plus
//! a counter for the records stamped within one millisecond; it never goes back within a
//! process, and a restarted process starts above its predecessor's versions as long as the wall
//! clock has moved past the last millisecond that process used (it only runs ahead of the clock
//! beyond 65,536 records in one millisecond) and has not been stepped back.
//!
//! The write-behind queue does not rely on the clock across restarts: it keeps the highest
//! version it sent or spilled in `<spill file>.version` ([`HighWater`], replaced atomically,
//! synced before the records go out), and its counter ([`Versions`]) starts above it, so its
//! versions keep increasing across restarts whatever the clock does.

use super::Versioned;
use crate::lock::with_suffix;
use crate::StoreError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::fs;

/// Bits of a version below its milliseconds.
const COUNTER_BITS: u32 = 16;

/// The last version this process stamped.
static LAST: AtomicI64 = AtomicI64::new(0);

/// A version greater than every one this process stamped before.
pub(super) fn next() -> i64 {
    next_after(&LAST, wall_ms())
}

/// The wall clock's milliseconds since the Unix epoch (0 before it).
pub(super) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The versions of one write-behind queue: above its clock's time-based value and above
/// `floor` (the high-water mark of its previous runs). Independent of [`next`]: a queue's own
/// versions are what order the writes of its records.
pub(super) struct Versions {
    last: AtomicI64,
    clock: fn() -> i64,
}

impl Versions {
    pub(super) fn new(clock: fn() -> i64, floor: i64) -> Self {
        Self {
            last: AtomicI64::new(floor),
            clock,
        }
    }

    /// A version greater than every one issued before, and than the floor.
    pub(super) fn next(&self) -> i64 {
        next_after(&self.last, (self.clock)())
    }
}

/// The durable high-water mark of the versions a queue sent or spilled: `<spill file>.version`.
pub(super) struct HighWater {
    path: PathBuf,
    recorded: i64,
}

impl HighWater {
    /// Reads `<spill>.version` (none yet: 0).
    ///
    /// # Errors
    /// [`StoreError::Spill`] when it cannot be read; [`StoreError::Config`] when it does not
    /// hold a number.
    pub(super) async fn open(spill: &Path) -> Result<Self, StoreError> {
        let path = with_suffix(spill, ".version");
        let recorded = match fs::read_to_string(&path).await {
            Ok(text) => text.trim().parse::<i64>().map_err(|e| {
                StoreError::Config(format!(
                    "the version file {} does not hold a number ({e}); write in it a number \
                     above every `_v` stored by this bot, or delete it if the clock never went back",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(source) => return Err(StoreError::Spill { path, source }),
        };
        Ok(Self { path, recorded })
    }

    /// The highest version recorded.
    pub(super) fn recorded(&self) -> i64 {
        self.recorded
    }

    /// Records (durably: a synced temporary file renamed over the file) the highest version of
    /// `records` when it is above the one recorded.
    pub(super) async fn cover(&mut self, records: &[Versioned]) -> Result<(), StoreError> {
        let Some(high) = records.iter().map(|r| r.version).max() else {
            return Ok(());
        };
        if high <= self.recorded {
            return Ok(());
        }
        let tmp = with_suffix(&self.path, ".tmp");
        let io = |source| StoreError::Spill {
            path: tmp.clone(),
            source,
        };
        let mut file = fs::File::create(&tmp).await.map_err(io)?;
        tokio::io::AsyncWriteExt::write_all(&mut file, high.to_string().as_bytes())
            .await
            .map_err(io)?;
        file.sync_all().await.map_err(io)?;
        drop(file);
        fs::rename(&tmp, &self.path).await.map_err(io)?;
        self.recorded = high;
        Ok(())
    }
}

/// The next version of `last` at the wall-clock time `now_ms`.
fn next_after(last: &AtomicI64, now_ms: i64) -> i64 {
    let floor = now_ms.saturating_mul(1 << COUNTER_BITS);
    let step = |prev: i64| Some(floor.max(prev.saturating_add(1)));
    match last.fetch_update(Ordering::SeqCst, Ordering::SeqCst, step) {
        Ok(prev) | Err(prev) => floor.max(prev.saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_within_a_millisecond_and_across_a_restart() {
        let run = AtomicI64::new(0);
        let first = next_after(&run, 1_000);
        let mut last = first;
        // More records in one millisecond than the counter holds: still increasing.
        for _ in 0..100_000 {
            let v = next_after(&run, 1_000);
            assert!(v > last);
            last = v;
        }
        assert_eq!(first, 1_000 << COUNTER_BITS);
        // A restarted process (a fresh clock) two milliseconds later starts above them all.
        let restarted = AtomicI64::new(0);
        assert!(next_after(&restarted, 1_002) > last);
        // The wall clock stepping back never takes a process's versions back.
        assert!(next_after(&run, 500) > last);
    }

    #[test]
    fn the_process_clock_follows_the_wall_clock() {
        let a = next();
        let b = next();
        assert!(b > a);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!((a >> COUNTER_BITS) <= now && (a >> COUNTER_BITS) > now - 60_000);
    }
}
