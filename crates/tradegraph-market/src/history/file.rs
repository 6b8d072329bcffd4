//! The output file: checked first (its header, its sidecar's source, its first and last rows),
//! then continued after its last whole row (a torn last line is cut off), or created with its
//! header and sidecar when the first page arrives; pages are appended as whole rows.

use super::bar::{interval_label, shorten, HistoryBar};
use super::meta::{self, Meta};
use super::HistoryError;
use crate::feed::replay::LineParser;
use crate::MarketEvent;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tradegraph_core::{Timeframe, Timestamp};

/// The header of every downloaded file: the candle CSV that replay and `tradegraph backtest`
/// read, with each row's interval in `timeframe`.
pub const HEADER: &str = "timestamp,open,high,low,close,volume,timeframe";

/// How much of the file's end is read to find its last row.
const TAIL_BYTES: u64 = 64 * 1024;

/// An output file, open for appending once it exists.
#[derive(Debug)]
pub(crate) struct Output {
    path: PathBuf,
    /// `None` until the first write creates the file.
    file: Option<File>,
    /// Whether the file holds its header already.
    has_header: bool,
    /// The sidecar to write with the first rows (`None` when the file's own is kept).
    meta: Option<Meta>,
}

/// What was in the file already.
#[derive(Debug, Default)]
pub(crate) struct Existing {
    /// The first whole row's open time.
    pub(crate) first: Option<Timestamp>,
    /// The last whole row's open time.
    pub(crate) last: Option<Timestamp>,
    /// Whether a torn last line (no line break) was cut off.
    pub(crate) torn: bool,
}

impl Output {
    /// Checks `path` to continue it with the bars `wanted` describes; nothing is created or
    /// changed before every check passed, and a file that does not exist is created only by the
    /// first [`append`](Self::append) (or [`finish`](Self::finish)).
    pub(crate) fn open(
        path: &Path,
        timeframe: Timeframe,
        wanted: Meta,
    ) -> Result<(Self, Existing), HistoryError> {
        let fail = |reason: String| HistoryError::File {
            path: path.to_path_buf(),
            reason,
        };
        let pending = |file: Option<File>| Self {
            path: path.to_path_buf(),
            file,
            has_header: false,
            meta: Some(wanted.clone()),
        };
        let mut file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((pending(None), Existing::default()))
            }
            Err(e) => return Err(fail(format!("cannot open for writing: {e}"))),
        };
        let len = file
            .metadata()
            .map_err(|e| fail(format!("cannot read: {e}")))?
            .len();
        if len == 0 {
            return Ok((pending(Some(file)), Existing::default()));
        }
        // The header first: a file that is not ours is never changed.
        let (header, first_row) = head(&mut file).map_err(|e| fail(format!("cannot read: {e}")))?;
        if header.text != HEADER || !header.complete {
            return Err(fail(format!(
                "its header is `{}`, not `{HEADER}`: not a file of `tradegraph data download`; \
                 give another --out",
                shorten(&header.text)
            )));
        }
        let start = len.saturating_sub(TAIL_BYTES);
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_to_end(&mut tail))
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        // Everything after the last line break is a row cut short by an interruption.
        let keep = match tail.iter().rposition(|b| *b == b'\n') {
            Some(i) => start + i as u64 + 1,
            None if start == 0 => 0,
            None => {
                return Err(fail(format!(
                    "its last {TAIL_BYTES} bytes hold no line break: not a file of \
                     `tradegraph data download`; give another --out"
                )))
            }
        };
        let kept = &tail[..usize::try_from(keep - start).unwrap_or(tail.len())];
        let text = String::from_utf8_lossy(kept);
        let last_line = text
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let has_rows = keep > 0 && last_line.trim() != HEADER;
        let mut existing = Existing {
            torn: keep < len,
            ..Existing::default()
        };
        let mut meta = Some(wanted.clone());
        if has_rows {
            let row = |line: &str, which: &str| {
                row_time(line, timeframe).map_err(|e| fail(format!("its {which} {e}")))
            };
            let first_line = first_row.ok_or_else(|| {
                fail("its first row cannot be read: remove that row and run again".into())
            })?;
            existing.first = Some(row(&first_line, "first")?);
            existing.last = Some(row(last_line, "last")?);
            let Some(recorded) = Meta::read(path)? else {
                return Err(fail(format!(
                    "{} is missing, so the source of its bars is unknown: give another --out, \
                     or, when its bars are {} {} bars from its first row on, write that file \
                     with:\n{}",
                    meta::path_of(path).display(),
                    wanted.source,
                    wanted.interval,
                    Meta {
                        from: existing.first.unwrap_or(wanted.from),
                        ..wanted.clone()
                    }
                    .text(path)
                )));
            };
            if let Some(why) = recorded.refusal(&wanted) {
                return Err(fail(why));
            }
            if existing.first.is_some_and(|first| first < recorded.from) {
                return Err(fail(format!(
                    "its first bar opens before the from={} of {}: the two do not belong \
                     together; give another --out",
                    recorded.from,
                    meta::path_of(path).display()
                )));
            }
            meta = None;
        }
        if existing.torn {
            file.set_len(keep)
                .map_err(|e| fail(format!("cannot cut off the torn last line: {e}")))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| fail(format!("cannot write: {e}")))?;
        let output = Self {
            path: path.to_path_buf(),
            file: Some(file),
            has_header: keep > 0,
            meta,
        };
        Ok((output, existing))
    }

    /// Appends `bars` as whole rows, in one write (with the header, and the sidecar written
    /// first, when the file is new).
    pub(crate) fn append(
        &mut self,
        bars: &[HistoryBar],
        timeframe: Timeframe,
    ) -> Result<(), HistoryError> {
        let mut text = String::with_capacity(bars.len() * 72 + HEADER.len() + 1);
        if !self.has_header {
            text.push_str(HEADER);
            text.push('\n');
        }
        for bar in bars {
            bar.write_row(timeframe, &mut text);
        }
        self.append_text(&text)
    }

    /// Creates the file with its header when no page had bars.
    pub(crate) fn finish(&mut self) -> Result<(), HistoryError> {
        if self.has_header {
            return Ok(());
        }
        self.append_text(&format!("{HEADER}\n"))
    }

    fn append_text(&mut self, text: &str) -> Result<(), HistoryError> {
        let fail = |reason: String| HistoryError::File {
            path: self.path.clone(),
            reason,
        };
        if let Some(meta) = self.meta.take() {
            meta.write(&self.path)?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&self.path)
                    .map_err(|e| fail(format!("cannot create: {e}")))?,
            ),
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| fail(format!("cannot write: {e}")))?;
        self.has_header = true;
        Ok(())
    }
}

/// The file's first line, and whether it ends with a line break.
struct Head {
    text: String,
    complete: bool,
}

/// The first line and the first row (when it is whole) of `file`.
fn head(file: &mut File) -> std::io::Result<(Head, Option<String>)> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new((&*file).take(2 * TAIL_BYTES));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    let complete = line.ends_with(b"\n");
    let text = String::from_utf8_lossy(&line);
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(&text)
        .trim()
        .to_owned();
    line.clear();
    reader.read_until(b'\n', &mut line)?;
    let row = line
        .ends_with(b"\n")
        .then(|| String::from_utf8_lossy(&line).trim().to_owned());
    Ok((Head { text, complete }, row))
}

/// The open time of a row, checking its interval.
fn row_time(line: &str, timeframe: Timeframe) -> Result<Timestamp, String> {
    let parser =
        LineParser::csv(HEADER, "download".into(), timeframe).map_err(|e| e.to_string())?;
    let event = parser
        .parse(line)
        .map_err(|e| format!("row cannot be read ({e}): remove that row and run again"))?;
    let MarketEvent::Candle { candle, .. } = event else {
        return Err("row is not a bar".into());
    };
    if candle.timeframe != timeframe {
        return Err(format!(
            "row holds a {} bar, not {}: give another --out for this interval",
            interval_label(candle.timeframe),
            interval_label(timeframe)
        ));
    }
    Ok(candle.open_time)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("tg-history-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(meta::path_of(&path));
        path
    }

    fn wanted(source: &str, from: &str) -> Meta {
        Meta {
            source: source.into(),
            interval: "1m".into(),
            from: from.parse().unwrap(),
        }
    }

    const ROW: &str = "2024-01-01T00:00:00Z,1,2,0.5,1.5,10,1m\n";

    #[test]
    fn new_files_get_the_header_and_torn_rows_are_cut() {
        let path = temp("torn.csv");
        let btc = wanted("binance BTCUSDT", "2024-01-01T00:00:00Z");
        let (mut output, existing) = Output::open(&path, Timeframe::M1, btc.clone()).unwrap();
        assert_eq!(existing.last, None);
        // Nothing is created before the first page (or the end of the run).
        assert!(!path.exists());
        output.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{HEADER}\n")
        );
        assert_eq!(Meta::read(&path).unwrap(), Some(btc.clone()));
        std::fs::write(&path, format!("{HEADER}\n{ROW}2024-01-01T00:01:00Z,1,2")).unwrap();
        let (_, existing) = Output::open(&path, Timeframe::M1, btc.clone()).unwrap();
        assert!(existing.torn);
        assert_eq!(existing.last, Some("2024-01-01T00:00:00Z".parse().unwrap()));
        assert_eq!(existing.first, existing.last);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{HEADER}\n{ROW}")
        );
        let err = Output::open(&path, Timeframe::H1, btc.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("row holds a 1m bar, not 1h"), "{err}");
        std::fs::write(&path, "timestamp,price\n1,2\n").unwrap();
        let err = Output::open(&path, Timeframe::M1, btc.clone())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a file of `tradegraph data download`"),
            "{err}"
        );
        std::fs::write(
            &path,
            format!("{HEADER}\n2024-01-01T00:00:00Z,1,2,0.5,x,10,1m\n"),
        )
        .unwrap();
        let err = Output::open(&path, Timeframe::M1, btc)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row cannot be read") && err.contains("close"),
            "{err}"
        );
        let _ = std::fs::remove_file(meta::path_of(&path));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_foreign_file_without_a_final_line_break_is_left_as_it_is() {
        let btc = wanted("binance BTCUSDT", "2024-01-01T00:00:00Z");
        for (name, text) in [
            ("foreign-one-line.csv", "my notes, no line break"),
            ("foreign-two-lines.csv", "timestamp,price\n1,2"),
        ] {
            let path = temp(name);
            std::fs::write(&path, text).unwrap();
            let err = Output::open(&path, Timeframe::M1, btc.clone())
                .unwrap_err()
                .to_string();
            assert!(err.contains("give another --out"), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name}");
            assert!(!meta::path_of(&path).exists());
            let _ = std::fs::remove_file(&path);
        }
        // Even a start of our header is left alone (the header goes out with the first rows).
        let path = temp("torn-header.csv");
        std::fs::write(&path, "timestamp,op").unwrap();
        let err = Output::open(&path, Timeframe::M1, btc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("its header is `timestamp,op`"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "timestamp,op");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn another_source_or_an_earlier_start_is_refused_before_any_change() {
        let path = temp("sources.csv");
        let text = format!("{HEADER}\n{ROW}2024-01-01T00:01:00Z,1,2");
        std::fs::write(&path, &text).unwrap();
        let btc = wanted("binance BTCUSDT", "2024-01-01T00:00:00Z");
        // No sidecar: the source is unknown; the message says what to write.
        let err = Output::open(&path, Timeframe::M1, btc.clone())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sources.csv.meta is missing") && err.contains("source=binance BTCUSDT"),
            "{err}"
        );
        btc.write(&path).unwrap();
        let eth = wanted("binance ETHUSDT", "2024-01-01T00:00:00Z");
        let err = Output::open(&path, Timeframe::M1, eth)
            .unwrap_err()
            .to_string();
        assert!(err.contains("it holds binance BTCUSDT 1m bars"), "{err}");
        let earlier = wanted("binance BTCUSDT", "2023-12-01T00:00:00Z");
        let err = Output::open(&path, Timeframe::M1, earlier)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the bars from --from 2023-12-01T00:00:00Z to 2024-01-01T00:00:00Z would be missing"),
            "{err}"
        );
        // None of it changed the file (the torn row is still there).
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let (_, existing) = Output::open(&path, Timeframe::M1, btc).unwrap();
        assert!(existing.torn);
        let _ = std::fs::remove_file(meta::path_of(&path));
        let _ = std::fs::remove_file(&path);
    }
}
