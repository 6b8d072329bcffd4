//! Replaying `<spill file>.rejected`: the records a sink refused for good, written again once
//! their cause is fixed (a validator relaxed, an index dropped, a bug in a value fixed).

use super::rejected::RejectedLine;
use super::{RecordSink, Versioned};
use crate::lock::{self, with_suffix};
use crate::StoreError;
use std::path::{Path, PathBuf};
use tokio::fs::{self, File};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

/// Records sent to the sink at a time.
const BATCH: usize = 500;

/// What [`replay_rejected`] did. Line numbers are those of the file before the replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayReport {
    /// The file replayed: `<spill file>.rejected`.
    pub path: PathBuf,
    /// Lines read (blank lines aside).
    pub lines: usize,
    /// Records the sink took (written, or already superseded by a newer version of their key):
    /// their lines are gone from the file.
    pub written: usize,
    /// Records refused again, kept in the file with the new reason: `(line, reason)`.
    pub refused: Vec<(usize, String)>,
    /// Lines that are not a record (torn, not JSON, an unknown kind), kept in the file as they
    /// were: `(line, why)`.
    pub unreadable: Vec<(usize, String)>,
}

impl ReplayReport {
    /// Lines still in the file.
    pub fn kept(&self) -> usize {
        self.refused.len() + self.unreadable.len()
    }
}

/// The longest line of a rejected file read as a record (16 MiB, as MongoDB's largest
/// document): a longer one is kept in the file as it was, copied through without being held in
/// memory, and reported unreadable by its line number.
pub const MAX_REJECTED_LINE: usize = 16 * 1024 * 1024;

/// A line read, waiting for its batch's answer.
enum Line {
    /// Kept as it was.
    Keep(Vec<u8>),
    /// A record to write again.
    Record(Box<Pending>),
}

/// A record to write again.
struct Pending {
    /// Its line number.
    number: usize,
    /// The line.
    line: Vec<u8>,
    /// The record's JSON text.
    json: String,
    /// The record.
    record: Versioned,
}

/// Writes the records of `<spill_path>.rejected` to `sink` again, in order, each with its
/// original version (so a record older than what is stored changes nothing), and rewrites the
/// file (a temporary file renamed over it) with only the lines still not written: records
/// refused again, with their new reason, and lines that cannot be read, as they were. A missing
/// file is nothing to replay. The spill file's lock is held throughout: a bot writing to the
/// same spill file must be stopped first.
///
/// ```no_run
/// # async fn demo() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::mongo::{MongoConfig, MongoStore};
/// use tradegraph_store::replay_rejected;
/// let store = MongoStore::connect(&MongoConfig::new("mongodb://127.0.0.1:27017")).await?;
/// let report = replay_rejected(".tradegraph/spill-btc.jsonl".as_ref(), &store).await?;
/// println!("{} written, {} kept", report.written, report.kept());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`StoreError::InUse`] when a process holds the spill file; [`StoreError::Spill`] when the
/// file cannot be read or rewritten; the sink's error when it cannot take records now (then the
/// file keeps every line not written yet).
pub async fn replay_rejected(
    spill_path: &Path,
    sink: &dyn RecordSink,
) -> Result<ReplayReport, StoreError> {
    replay_capped(spill_path, sink, MAX_REJECTED_LINE).await
}

/// [`replay_rejected`] reading lines of at most `cap` bytes.
pub(super) async fn replay_capped(
    spill_path: &Path,
    sink: &dyn RecordSink,
    cap: usize,
) -> Result<ReplayReport, StoreError> {
    let path = with_suffix(spill_path, ".rejected");
    let io = |source| StoreError::Spill {
        path: path.clone(),
        source,
    };
    let mut report = ReplayReport {
        path: path.clone(),
        ..ReplayReport::default()
    };
    if !fs::try_exists(&path).await.map_err(io)? {
        return Ok(report);
    }
    let _lock = lock::exclusive(spill_path).map_err(|e| {
        e.into_store(
            "spill file",
            spill_path,
            "stop the bot that writes it, then replay its rejected records",
            io,
        )
    })?;
    let mut reader = BufReader::new(File::open(&path).await.map_err(io)?);
    let tmp = with_suffix(spill_path, ".rejected.tmp");
    let tmp_io = |source| StoreError::Spill {
        path: tmp.clone(),
        source,
    };
    let mut out = Rewrite {
        file: BufWriter::new(File::create(&tmp).await.map_err(tmp_io)?),
        kept: 0,
    };
    // The lines read since the last batch was sent, and how many of them are records.
    let (mut batch, mut pending) = (Vec::new(), 0);
    let mut stopped = None;
    let mut raw = Vec::new();
    let mut number = 0;
    loop {
        raw.clear();
        let read = read_capped(&mut reader, &mut raw, cap).await.map_err(io)?;
        if read == Read::End {
            break;
        }
        number += 1;
        if read == Read::TooLong {
            // What came before goes out first, so the file keeps its order.
            let lines = std::mem::take(&mut batch);
            pending = 0;
            send(sink, lines, &mut stopped, &mut report, &mut out)
                .await
                .map_err(tmp_io)?;
            report.lines += 1;
            report
                .unreadable
                .push((number, format!("a line longer than {cap} bytes, not read")));
            out.copy_long(&raw, &mut reader).await.map_err(tmp_io)?;
            continue;
        }
        let text = raw.trim_ascii_end();
        if text.is_empty() {
            continue;
        }
        report.lines += 1;
        match parse(text) {
            Ok((json, record)) => {
                pending += 1;
                batch.push(Line::Record(Box::new(Pending {
                    number,
                    line: text.to_vec(),
                    json,
                    record,
                })));
            }
            Err(why) => {
                report.unreadable.push((number, why));
                batch.push(Line::Keep(text.to_vec()));
            }
        }
        if pending >= BATCH {
            pending = 0;
            let lines = std::mem::take(&mut batch);
            send(sink, lines, &mut stopped, &mut report, &mut out)
                .await
                .map_err(tmp_io)?;
        }
    }
    send(sink, batch, &mut stopped, &mut report, &mut out)
        .await
        .map_err(tmp_io)?;
    let kept = out.kept;
    out.file.flush().await.map_err(tmp_io)?;
    let file = out.file.into_inner();
    file.sync_all().await.map_err(tmp_io)?;
    drop(file);
    if kept == 0 {
        fs::remove_file(&path).await.map_err(io)?;
        fs::remove_file(&tmp).await.map_err(tmp_io)?;
    } else {
        fs::rename(&tmp, &path).await.map_err(io)?;
    }
    sync_dir(&path).await.map_err(io)?;
    match stopped {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// A line as the record's JSON text and the record.
fn parse(line: &[u8]) -> Result<(String, Versioned), String> {
    let line: RejectedLine =
        serde_json::from_slice(line).map_err(|e| format!("not a rejected-record line: {e}"))?;
    let record = serde_json::from_str(&line.record).map_err(|e| format!("not a record: {e}"))?;
    Ok((line.record, record))
}

/// The rewritten file.
struct Rewrite {
    file: BufWriter<File>,
    kept: usize,
}

impl Rewrite {
    async fn keep(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.kept += 1;
        self.file.write_all(line).await?;
        self.file.write_all(b"\n").await
    }

    /// Keeps an over-long line as it was: `start` (read already), then the rest of it, copied
    /// through in the reader's chunks.
    async fn copy_long<R: AsyncBufRead + Unpin>(
        &mut self,
        start: &[u8],
        reader: &mut R,
    ) -> std::io::Result<()> {
        self.kept += 1;
        self.file.write_all(start).await?;
        loop {
            let available = reader.fill_buf().await?;
            if available.is_empty() {
                return self.file.write_all(b"\n").await;
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    self.file.write_all(&available[..=at]).await?;
                    reader.consume(at + 1);
                    return Ok(());
                }
                None => {
                    let n = available.len();
                    self.file.write_all(available).await?;
                    reader.consume(n);
                }
            }
        }
    }
}

/// Writes the records of `lines` to the sink (unless it already failed: `stopped`) and keeps, in
/// order, what is not written.
async fn send(
    sink: &dyn RecordSink,
    lines: Vec<Line>,
    stopped: &mut Option<StoreError>,
    report: &mut ReplayReport,
    out: &mut Rewrite,
) -> std::io::Result<()> {
    let records: Vec<Versioned> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Record(pending) => Some(pending.record.clone()),
            Line::Keep(_) => None,
        })
        .collect();
    let mut refused: Vec<Option<String>> = vec![None; records.len()];
    let mut written = !records.is_empty() && stopped.is_none();
    if written {
        match sink.write_records(&records).await {
            Ok(rejected) => {
                for (i, error) in rejected {
                    if let Some(slot) = refused.get_mut(i) {
                        *slot = Some(error.to_string());
                    }
                }
            }
            Err(e) => {
                *stopped = Some(e);
                written = false;
            }
        }
    }
    let mut refused = refused.into_iter();
    for line in lines {
        match line {
            Line::Keep(text) => out.keep(&text).await?,
            // Not sent, or not written: kept as it was.
            Line::Record(pending) if !written => out.keep(&pending.line).await?,
            Line::Record(pending) => match refused.next().flatten() {
                Some(reason) => {
                    out.keep(&line_of(&pending.json, &reason)).await?;
                    report.refused.push((pending.number, reason));
                }
                None => report.written += 1,
            },
        }
    }
    Ok(())
}

/// A rejected-record line: the record's JSON text and the reason.
fn line_of(json: &str, error: &str) -> Vec<u8> {
    RejectedLine::new(json, error).to_line()
}

/// What [`read_capped`] read.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    /// Nothing left.
    End,
    /// A line (with its newline, unless it is the file's last).
    Line,
    /// The first `cap` bytes or more of a longer line, the rest still unread.
    TooLong,
}

/// Reads a line into `buf`, stopping once it holds more than `cap` bytes.
async fn read_capped<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Read> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if buf.is_empty() {
                Read::End
            } else {
                Read::Line
            });
        }
        // Never more than `cap` bytes and a newline in `buf`.
        let room = (cap + 1).saturating_sub(buf.len()).min(available.len());
        let (take, done) = match available[..room].iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (room, false),
        };
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(Read::Line);
        }
        if buf.len() > cap {
            return Ok(Read::TooLong);
        }
    }
}

/// Syncs the directory of `path`, so that a rename or removal in it is durable (where that is
/// possible).
async fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).await?.sync_all().await?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
