//! The spill file: records waiting for the sink, one JSON line each, appended and synced, read
//! from a committed offset kept beside it (`<file>.offset`) so that a restart resumes where the
//! last run stopped. A record read again after a crash is written again, harmlessly: the sink's
//! writes are idempotent.

use super::Record;
use crate::lock::{self, with_suffix, LockError};
use crate::StoreError;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};

pub(crate) struct Spill {
    path: PathBuf,
    offset: u64,
    pending: u64,
    /// Held for the spill file's lifetime: one process per file.
    _lock: std::fs::File,
}

impl Spill {
    /// Opens (or creates) the file, dropping a torn last line and counting what is left to write.
    pub(crate) async fn open(path: PathBuf) -> Result<Self, StoreError> {
        let io = |source| StoreError::Spill {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).await.map_err(io)?;
        }
        let lock = lock::exclusive(&path).map_err(|e| match e {
            LockError::Io(source) => io(source),
            LockError::Busy(holder) => StoreError::Config(format!(
                "the spill file {} is in use ({holder}); give each bot its own",
                path.display()
            )),
        })?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(io)?;
        let offset = match fs::read_to_string(with_suffix(&path, ".offset")).await {
            Ok(text) => text.trim().parse().unwrap_or(0),
            Err(_) => 0,
        };
        let bytes = fs::read(&path).await.map_err(io)?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            file.set_len(complete as u64).await.map_err(io)?;
        }
        let offset = offset.min(complete as u64);
        let start = usize::try_from(offset).unwrap_or(complete);
        let pending = bytes[start..complete]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        Ok(Self {
            path,
            offset,
            pending,
            _lock: lock,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records in the file not written yet.
    pub(crate) fn pending(&self) -> u64 {
        self.pending
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Spill {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends records and syncs them to disk.
    pub(crate) async fn append(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let mut buf = Vec::new();
        for record in records {
            serde_json::to_writer(&mut buf, record)
                .map_err(|e| StoreError::encode(record.describe(), e))?;
            buf.push(b'\n');
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| self.io(e))?;
        file.write_all(&buf).await.map_err(|e| self.io(e))?;
        file.sync_data().await.map_err(|e| self.io(e))?;
        self.pending += records.len() as u64;
        Ok(())
    }

    /// Up to `max` records from the committed offset, the offset after them, and the lines that
    /// could not be decoded (with why).
    pub(crate) async fn read(
        &self,
        max: usize,
    ) -> Result<(Vec<Record>, u64, Vec<(String, String)>), StoreError> {
        let mut file = File::open(&self.path).await.map_err(|e| self.io(e))?;
        file.seek(SeekFrom::Start(self.offset))
            .await
            .map_err(|e| self.io(e))?;
        let mut reader = BufReader::new(file);
        let (mut records, mut bad, mut offset) = (Vec::new(), Vec::new(), self.offset);
        let mut line = String::new();
        while records.len() < max {
            line.clear();
            let n = reader.read_line(&mut line).await.map_err(|e| self.io(e))?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            offset += n as u64;
            match serde_json::from_str(&line) {
                Ok(record) => records.push(record),
                Err(e) => bad.push((line.trim_end().to_owned(), e.to_string())),
            }
        }
        Ok((records, offset, bad))
    }

    /// Marks everything before `offset` (`lines` records) as written.
    pub(crate) async fn commit(&mut self, offset: u64, lines: u64) -> Result<(), StoreError> {
        let target = with_suffix(&self.path, ".offset");
        let tmp = with_suffix(&self.path, ".offset.tmp");
        fs::write(&tmp, offset.to_string())
            .await
            .map_err(|e| self.io(e))?;
        fs::rename(&tmp, &target).await.map_err(|e| self.io(e))?;
        self.offset = offset;
        self.pending = self.pending.saturating_sub(lines);
        Ok(())
    }

    /// Empties the file once everything in it is written.
    pub(crate) async fn reset(&mut self) -> Result<(), StoreError> {
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .await
            .map_err(|e| self.io(e))?;
        file.set_len(0).await.map_err(|e| self.io(e))?;
        file.sync_all().await.map_err(|e| self.io(e))?;
        match fs::remove_file(with_suffix(&self.path, ".offset")).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(self.io(e)),
            _ => {}
        }
        (self.offset, self.pending) = (0, 0);
        Ok(())
    }

    /// Keeps a record the sink refused for good, with the reason, in `<file>.rejected`.
    pub(crate) async fn reject(&self, record: &str, error: &str) -> Result<(), StoreError> {
        let path = with_suffix(&self.path, ".rejected");
        let line = serde_json::json!({"record": record, "error": error}).to_string() + "\n";
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| self.io(e))?;
        file.write_all(line.as_bytes())
            .await
            .map_err(|e| self.io(e))?;
        file.sync_data().await.map_err(|e| self.io(e))
    }
}
