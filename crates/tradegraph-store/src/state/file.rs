//! "memory-file": bot state and order intents in memory, persisted to one JSON file on every
//! write.

use super::memory::Tables;
use super::{BotStateStore, IntentLog, IntentRecord, Saved, StateDoc, StateKey};
use crate::lock::{self, with_suffix};
use crate::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use tokio::sync::Mutex;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Symbol;

/// The file format this build writes and reads.
const FORMAT: u32 = 1;

/// The file as written: `{"format": 1, "states": [...], "intents": [...]}`.
#[derive(Serialize)]
struct Image<'a> {
    format: u32,
    states: Vec<&'a StateDoc>,
    intents: Vec<&'a IntentRecord>,
}

/// The file as read.
#[derive(Deserialize)]
struct Stored {
    format: u32,
    #[serde(default)]
    states: Vec<StateDoc>,
    #[serde(default)]
    intents: Vec<IntentRecord>,
}

fn encode(tables: &Tables) -> Result<Vec<u8>, serde_json::Error> {
    let mut intents: Vec<&IntentRecord> = tables.intents.values().collect();
    intents.sort_by(|a, b| {
        (a.created_at, a.client_id.as_str()).cmp(&(b.created_at, b.client_id.as_str()))
    });
    let image = Image {
        format: FORMAT,
        states: tables.states.values().collect(),
        intents,
    };
    let mut bytes = serde_json::to_vec_pretty(&image)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn decode(path: &Path, bytes: &[u8]) -> Result<Tables, StoreError> {
    let corrupt = |reason: String| {
        StoreError::decode(
            format!("state file {}", path.display()),
            format!(
                "{reason}; the file is left as it is: repair it, or move it away to start without saved state"
            ),
        )
    };
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if stored.format != FORMAT {
        return Err(corrupt(format!(
            "it is in format {}, and this build reads format {FORMAT} (written by another version of tradegraph?)",
            stored.format
        )));
    }
    let mut tables = Tables::default();
    for doc in stored.states {
        let key = doc.key.clone();
        if tables.states.insert(key.clone(), doc).is_some() {
            return Err(corrupt(format!("the state {key} appears twice")));
        }
    }
    for intent in stored.intents {
        let id = intent.client_id.clone();
        if tables.intents.insert(id.clone(), intent).is_some() {
            return Err(corrupt(format!("the order intent {id} appears twice")));
        }
    }
    Ok(tables)
}

/// Replaces the file with `bytes`: a temporary file beside it, synced, renamed over it, and the
/// directory synced, so that a crash leaves either the old file or the new one, whole.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = with_suffix(path, ".tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Makes a rename in `path`'s directory durable.
#[cfg(unix)]
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened for syncing here; the rename is as durable as the system makes it.
#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Bot state and order intents in memory, every write persisted to one JSON file before it
/// returns ("memory-file": a bot's state survives restarts with no server).
///
/// A write goes to `<file>.tmp`, is synced to disk, renamed over the file, and the directory is
/// synced; only then does the write show in memory and return `Ok`. A failed write changes
/// nothing. Reads are served from memory. One process per file: the store holds an exclusive
/// lock on `<file>.lock` (the mechanism of the write-behind spill file; the system releases it
/// when the process dies, so a crashed bot's lock is taken over by the next one), and a second
/// store on the same file, in this process or another, is refused.
///
/// The whole file is rewritten on each write, so this suits a bot's state and the intents of
/// days to months of trading; for years of live trading use MongoDB or Redis.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_core::Timestamp;
/// use tradegraph_store::{BotStateStore, FileState, StateDoc, StateKey, StatePart};
///
/// let path = std::env::temp_dir().join(format!("tg-state-doc-{}/state.json", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let key = StateKey::new("NIFTY50", StatePart::Sequence);
/// {
///     let store = FileState::open(&path)?;
///     store.save(&StateDoc::encode(key.clone(), 1, Timestamp::from_secs(60), &41_u64)?).await?;
/// }
/// let reopened = FileState::open(&path)?;
/// assert_eq!(reopened.load(&key).await?.unwrap().decode::<u64>()?, 41);
/// # drop(reopened); let _ = std::fs::remove_dir_all(path.parent().unwrap());
/// # Ok(()) }
/// ```
pub struct FileState {
    path: PathBuf,
    tables: Mutex<Tables>,
    /// Held by the write under way, with the newest write's number (see `persist`).
    writing: Arc<std::sync::Mutex<u64>>,
    /// The number of the last write asked for (asked in order: under the tables' lock).
    asked: std::sync::atomic::AtomicU64,
    _lock: File,
}

impl FileState {
    /// Opens the file, creating its parent directories, and loads what it holds (nothing when it
    /// does not exist yet: it is written with the first save).
    ///
    /// # Errors
    /// [`StoreError::InUse`] when another store holds the file; [`StoreError::Decode`] naming the
    /// file and what is wrong when its contents cannot be read (the file is never reset);
    /// [`StoreError::StateFile`] when it cannot be read or its lock cannot be taken.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| StoreError::StateFile {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let lock = lock::exclusive(&path).map_err(|e| {
            e.into_store("state file", &path, "give each bot its own state file", io)
        })?;
        let tables = match std::fs::read(&path) {
            Ok(bytes) => decode(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tables::default(),
            Err(e) => return Err(io(e)),
        };
        // A temporary file left by a crash mid-write: the file itself is whole.
        let _ = std::fs::remove_file(with_suffix(&path, ".tmp"));
        Ok(Self {
            path,
            tables: Mutex::new(tables),
            writing: Arc::default(),
            asked: std::sync::atomic::AtomicU64::new(0),
            _lock: lock,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything the file holds: its bot states and its order intents (to move them to
    /// another store).
    pub async fn contents(&self) -> (Vec<StateDoc>, Vec<IntentRecord>) {
        let tables = self.tables.lock().await;
        (
            tables.states.values().cloned().collect(),
            tables.intents.values().cloned().collect(),
        )
    }

    /// Writes `tables` to the file, off the async threads.
    async fn persist(&self, tables: &Tables, what: String) -> Result<(), StoreError> {
        let bytes = encode(tables).map_err(|e| StoreError::encode(what, e))?;
        let path = self.path.clone();
        // A write goes on when its caller stops waiting (a blocking task cannot be stopped):
        // the writes take turns, so the file is never two writes at once, and one that starts
        // after a newer one was written (its caller gone) leaves the newer file as it is.
        let writing = Arc::clone(&self.writing);
        let number = self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let written = tokio::task::spawn_blocking(move || {
            let mut newest = writing.lock().unwrap_or_else(PoisonError::into_inner);
            if number < *newest {
                return Ok(());
            }
            replace(&path, &bytes)?;
            *newest = number;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        written.map_err(|source| StoreError::StateFile {
            path: self.path.clone(),
            source,
        })
    }
}

impl std::fmt::Debug for FileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileState")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl BotStateStore for FileState {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        Ok(self.tables.lock().await.states.get(key).cloned())
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let mut tables = self.tables.lock().await;
        let saved = tables.check_state(doc);
        if saved.is_written() {
            // The file gets the new version first; memory only once it is on disk (also when
            // this future is dropped half-way).
            let mut next = tables.clone();
            next.states.insert(doc.key.clone(), doc.clone());
            self.persist(&next, format!("bot state {}", doc.key))
                .await?;
            *tables = next;
        }
        Ok(saved)
    }
}

#[async_trait]
impl IntentLog for FileState {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        let mut tables = self.tables.lock().await;
        let saved = tables.check_intent("file", intent)?;
        if saved.is_written() {
            let mut next = tables.clone();
            next.intents
                .insert(intent.client_id.clone(), intent.clone());
            self.persist(&next, format!("order intent {}", intent.client_id))
                .await?;
            *tables = next;
        }
        Ok(saved)
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        Ok(self.tables.lock().await.intents.get(client_id).cloned())
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        Ok(self.tables.lock().await.unsettled(instrument))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::StatePart;
    use tradegraph_core::Timestamp;

    fn tables() -> Tables {
        let mut tables = Tables::default();
        for (sym, part) in [
            ("BTCUSDT", StatePart::Guard),
            ("NIFTY50", StatePart::Broker),
        ] {
            let key = StateKey::new(sym, part);
            let doc = StateDoc::encode(key.clone(), 2, Timestamp::from_millis(1_250), &[1, 2]);
            tables.states.insert(key, doc.unwrap());
        }
        tables
    }

    #[test]
    fn the_file_is_readable_json_that_reads_back() {
        let bytes = encode(&tables()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\n  \"format\": 1,"), "{text}");
        assert!(
            text.contains("\"saved_at\": \"1970-01-01T00:00:01.250Z\""),
            "{text}"
        );
        assert_eq!(decode(Path::new("s.json"), &bytes).unwrap(), tables());
    }

    #[test]
    fn what_is_wrong_with_a_file_is_named() {
        let path = Path::new("/data/btc/state.json");
        let cases: [(&[u8], &str); 4] = [
            (b"", "EOF while parsing"),
            (
                b"{\"format\": 1, \"states\": [{\"key\": 3}]}",
                "invalid type: integer `3`",
            ),
            (b"{\"format\": 2}", "format 2"),
            (b"{\"states\": []}", "missing field `format`"),
        ];
        for (bytes, why) in cases {
            let err = decode(path, bytes).unwrap_err().to_string();
            assert!(err.contains("/data/btc/state.json"), "{err}");
            assert!(err.contains(why), "{err} lacks {why}");
            assert!(err.contains("left as it is"), "{err}");
        }
        let mut twice = serde_json::to_value(Stored2::from(&tables())).unwrap();
        let first = twice["states"][0].clone();
        twice["states"].as_array_mut().unwrap().push(first);
        let err = decode(path, twice.to_string().as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("BTCUSDT/guard appears twice"),
            "{err}"
        );
    }

    /// An owned image, to build bad files from.
    #[derive(Serialize)]
    struct Stored2 {
        format: u32,
        states: Vec<StateDoc>,
    }

    impl From<&Tables> for Stored2 {
        fn from(t: &Tables) -> Self {
            Self {
                format: FORMAT,
                states: t.states.values().cloned().collect(),
            }
        }
    }
}
