//! The spill file: records waiting for the sink, one JSON line each, appended and synced, read
//! from a committed offset kept beside it (`<file>.offset`) so that a restart resumes where the
//! last run stopped. A record read again after a crash is written again, harmlessly: the sink's
//! writes are idempotent, and each line keeps the version its record was stamped with when it
//! was queued (lines from before versions existed read as version 0).

use super::Versioned;
use crate::lock::{self, with_suffix};
use crate::StoreError;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};

pub(crate) struct Spill {
    path: PathBuf,
    offset: u64,
    pending: u64,
    /// Held for the spill file's lifetime: one process per file.
    _lock: std::fs::File,
}

impl Spill {
    /// Opens (or creates) the file, dropping a torn last line and counting what is left to write.
    /// The file is scanned in bounded chunks, never read whole. An offset that does not fall on a
    /// line boundary inside the file is stale (left by a reset cut short): it is dropped, and the
    /// file is written again from its start, harmlessly.
    pub(crate) async fn open(path: PathBuf) -> Result<Self, StoreError> {
        let io = |source| StoreError::Spill {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).await.map_err(io)?;
        }
        let lock = lock::exclusive(&path)
            .map_err(|e| e.into_store("spill file", &path, "give each bot its own", io))?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .await
            .map_err(io)?;
        let stored = match fs::read_to_string(with_suffix(&path, ".offset")).await {
            Ok(text) => text.trim().parse().unwrap_or(0),
            Err(_) => 0,
        };
        let scan = Scan::of(file, stored).await.map_err(io)?;
        if scan.complete < scan.len {
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .await
                .map_err(io)?;
            file.set_len(scan.complete).await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
        }
        let (offset, pending) = if scan.offset_valid {
            (stored, scan.lines_after)
        } else {
            remove_offset(&path).await.map_err(io)?;
            (0, scan.lines)
        };
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
    pub(crate) async fn append(&mut self, records: &[Versioned]) -> Result<(), StoreError> {
        #[cfg(test)]
        if super::tests::appends_fail(&self.path) {
            return Err(self.io(std::io::Error::from(std::io::ErrorKind::StorageFull)));
        }
        let mut buf = Vec::new();
        for record in records {
            serde_json::to_writer(&mut buf, record)
                .map_err(|e| StoreError::encode(record.record.describe(), e))?;
            buf.push(b'\n');
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| self.io(e))?;
        let len = file.metadata().await.map_err(|e| self.io(e))?.len();
        if len > 0 {
            // A torn line left by a failed append (whose rollback failed too) is ended here, so
            // it costs only its own record, not the first one written after it.
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .await
                .map_err(|e| self.io(e))?;
            file.read_exact(&mut last).await.map_err(|e| self.io(e))?;
            if last[0] != b'\n' {
                buf.insert(0, b'\n');
            }
        }
        let written = match file.write_all(&buf).await {
            Ok(()) => file.sync_data().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            // Roll the torn bytes back: the records stay in memory and are spilled again.
            if let Err(undo) = file.set_len(len).await {
                tracing::error!(error = %undo, path = %self.path.display(),
                    "cannot roll back a failed append; the torn record will be skipped");
            }
            return Err(self.io(e));
        }
        self.pending += records.len() as u64;
        Ok(())
    }

    /// Up to `max` lines from the committed offset: their records, the lines that could not be
    /// decoded (with why), the offset after them and how many lines that is. Lines are read as
    /// bytes, so a torn multi-byte character spoils only its own line.
    pub(crate) async fn read(&self, max: usize) -> Result<Batch, StoreError> {
        let mut file = File::open(&self.path).await.map_err(|e| self.io(e))?;
        file.seek(SeekFrom::Start(self.offset))
            .await
            .map_err(|e| self.io(e))?;
        let mut reader = BufReader::new(file);
        let mut batch = Batch {
            records: Vec::new(),
            bad: Vec::new(),
            offset: self.offset,
            lines: 0,
        };
        let mut line = Vec::new();
        while batch.lines < max as u64 {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .await
                .map_err(|e| self.io(e))?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            batch.offset += n as u64;
            batch.lines += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice(&line) {
                Ok(record) => batch.records.push(record),
                Err(e) => batch.bad.push((
                    String::from_utf8_lossy(&line).trim_end().to_owned(),
                    e.to_string(),
                )),
            }
        }
        Ok(batch)
    }

    /// Marks everything before `offset` (`lines` records) as written: at once for this run,
    /// and in `<file>.offset` for the next. An error is that file's (a full disk): the run
    /// goes on past them all the same, and a restart writes them again, harmlessly (their
    /// versions keep what is newer).
    pub(crate) async fn commit(&mut self, offset: u64, lines: u64) -> Result<(), StoreError> {
        self.offset = offset;
        self.pending = self.pending.saturating_sub(lines);
        #[cfg(test)]
        if super::tests::appends_fail(&self.path) {
            return Err(self.io(std::io::Error::from(std::io::ErrorKind::StorageFull)));
        }
        let target = with_suffix(&self.path, ".offset");
        let tmp = with_suffix(&self.path, ".offset.tmp");
        fs::write(&tmp, offset.to_string())
            .await
            .map_err(|e| self.io(e))?;
        fs::rename(&tmp, &target).await.map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Empties the file once everything in it is written. The offset goes first: a crash in
    /// between leaves the whole file to be written again (harmlessly), never an offset past the
    /// end of a file that then grows again.
    pub(crate) async fn reset(&mut self) -> Result<(), StoreError> {
        remove_offset(&self.path).await.map_err(|e| self.io(e))?;
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .await
            .map_err(|e| self.io(e))?;
        file.set_len(0).await.map_err(|e| self.io(e))?;
        file.sync_all().await.map_err(|e| self.io(e))?;
        (self.offset, self.pending) = (0, 0);
        Ok(())
    }

    /// Keeps a record the sink refused for good, with the reason, in `<file>.rejected`.
    pub(crate) async fn reject(&self, record: &str, error: &str) -> Result<(), StoreError> {
        let path = with_suffix(&self.path, ".rejected");
        let mut line = super::rejected::RejectedLine::new(record, error).to_line();
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| self.io(e))?;
        file.write_all(&line).await.map_err(|e| self.io(e))?;
        file.sync_data().await.map_err(|e| self.io(e))
    }
}

/// What one [`Spill::read`] found.
pub(crate) struct Batch {
    /// The records decoded, in order.
    pub(crate) records: Vec<Versioned>,
    /// Lines that could not be decoded, with why.
    pub(crate) bad: Vec<(String, String)>,
    /// The offset after the lines read.
    pub(crate) offset: u64,
    /// Lines read (records, bad and blank lines).
    pub(crate) lines: u64,
}

/// One pass over the spill file in bounded chunks.
struct Scan {
    /// The file's length.
    len: u64,
    /// The length up to and including its last newline.
    complete: u64,
    /// Whole lines in the file.
    lines: u64,
    /// Whole lines after the stored offset.
    lines_after: u64,
    /// Whether the stored offset falls on a line boundary inside the whole lines.
    offset_valid: bool,
}

impl Scan {
    async fn of(mut file: File, offset: u64) -> std::io::Result<Self> {
        let mut chunk = vec![0u8; 64 * 1024];
        let mut scan = Self {
            len: 0,
            complete: 0,
            lines: 0,
            lines_after: 0,
            offset_valid: offset == 0,
        };
        loop {
            let n = file.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            for (i, &b) in chunk[..n].iter().enumerate() {
                if b == b'\n' {
                    let at = scan.len + i as u64;
                    scan.lines += 1;
                    if at >= offset {
                        scan.lines_after += 1;
                    }
                    if at + 1 == offset {
                        scan.offset_valid = true;
                    }
                    scan.complete = at + 1;
                }
            }
            scan.len += n as u64;
        }
        Ok(scan)
    }
}

/// Deletes `<file>.offset` durably (syncing the directory where that is possible).
async fn remove_offset(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(with_suffix(path, ".offset")).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}
