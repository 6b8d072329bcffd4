//! One process per file: an exclusive lock on `<file>.lock`, shared by the write-behind spill
//! file and the bot-state file.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows), held for as
//! long as the returned handle lives. The system releases it when the process dies, however it
//! dies, so a lock left by a crashed process never needs cleaning up: the next process simply
//! takes it. The holder's process id is written into the lock file so that the refusal can say
//! who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::StoreError;

/// `path` with `suffix` appended to its file name (`state.json` + `.lock`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Why [`exclusive`] failed.
#[derive(Debug)]
pub(crate) enum LockError {
    /// The lock file could not be created, opened or written.
    Io(std::io::Error),
    /// Another handle holds the lock: another process, or another store of this process on the
    /// same file. Carries a description (with the holder's process id when it wrote one).
    Busy(String),
}

impl LockError {
    /// As the store's error: [`StoreError::InUse`] for the `file` at `path` (what it is, and
    /// what to do about its holder), `io` for a lock file that could not be written.
    pub(crate) fn into_store(
        self,
        file: &'static str,
        path: &Path,
        remedy: &'static str,
        io: impl FnOnce(std::io::Error) -> StoreError,
    ) -> StoreError {
        match self {
            Self::Io(source) => io(source),
            Self::Busy(holder) => StoreError::InUse {
                file,
                path: path.to_owned(),
                holder,
                remedy,
            },
        }
    }
}

/// Whether the file at `path` (a spill file, a state file) is in use: another process, or
/// another store of this one, holds its lock now. Its lock is taken and let go at once to
/// tell.
///
/// ```
/// let path = std::env::temp_dir().join(format!("tg-in-use-{}.jsonl", std::process::id()));
/// assert!(!tradegraph_store::in_use(&path));
/// let held = tradegraph_store::FileState::open(&path)?; // locks it
/// assert!(tradegraph_store::in_use(&path));
/// drop(held);
/// assert!(!tradegraph_store::in_use(&path));
/// # Ok::<(), tradegraph_store::StoreError>(())
/// ```
pub fn in_use(path: &Path) -> bool {
    matches!(exclusive(path), Err(LockError::Busy(_)))
}

/// Takes the exclusive lock of `path` (the file `<path>.lock`, created when missing), for as
/// long as the returned file is kept open.
pub(crate) fn exclusive(path: &Path) -> Result<File, LockError> {
    let lock_path = with_suffix(path, ".lock");
    // Not truncated before the lock is ours: the holder's pid stays readable.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(LockError::Io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_owned()
            } else {
                format!("process {holder}")
            };
            return Err(LockError::Busy(format!(
                "{} is held by {who}",
                lock_path.display()
            )));
        }
        Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
    }
    file.set_len(0).map_err(LockError::Io)?;
    file.seek(SeekFrom::Start(0)).map_err(LockError::Io)?;
    file.write_all(std::process::id().to_string().as_bytes())
        .map_err(LockError::Io)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!(
            "tg-lock-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.json");
        let first = exclusive(&path).unwrap();
        let pid = std::process::id().to_string();
        assert_eq!(
            std::fs::read_to_string(with_suffix(&path, ".lock")).unwrap(),
            pid
        );
        match exclusive(&path) {
            Err(LockError::Busy(why)) => {
                assert!(why.contains(&format!("process {pid}")), "{why}");
                assert!(why.contains("data.json.lock"), "{why}");
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        exclusive(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
