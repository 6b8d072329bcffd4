//! Opening a replay file: the format, and for CSV the header, before anything streams.

use super::{LineParser, ReplayConfig, ReplayFormat};
use crate::MarketError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// An opened file, positioned at its first data line.
#[derive(Debug)]
pub(super) struct Opened {
    pub(super) file: File,
    pub(super) parser: LineParser,
    /// Lines before the data (blank lines and the CSV header).
    pub(super) lines_before: u64,
}

/// Opens the file and, unless the configuration or the extension says JSONL, reads up to its
/// first non-blank line: `{` makes the file JSONL (when the format is not given), anything
/// else is the CSV header.
pub(super) fn open(config: &ReplayConfig) -> Result<Opened, MarketError> {
    let path = &config.path;
    let io = |source| MarketError::Io {
        path: path.clone(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let format = config.format.or_else(|| ReplayFormat::from_path(path));
    if format == Some(ReplayFormat::Jsonl) {
        return Ok(jsonl(file));
    }
    let max = ReplayConfig::MAX_LINE_BYTES;
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = BufReader::new(file);
    let mut offset = 0u64;
    let mut number = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if read == 0 {
            if format.is_none() {
                // Nothing but blank lines: an empty recording.
                return Ok(jsonl(reader.into_inner()));
            }
            return Err(MarketError::Malformed {
                origin: path.display().to_string(),
                reason: "the CSV file is empty: expected a header such as \
                         timestamp,open,high,low,close,volume, then one row per line"
                    .to_owned(),
            });
        }
        number += 1;
        offset += u64::try_from(read).unwrap_or(u64::MAX);
        let malformed = |reason: String| MarketError::Malformed {
            origin: format!("{}:{number}", path.display()),
            reason,
        };
        if buf.last() != Some(&b'\n') && buf.len() > max {
            return Err(malformed(format!(
                "the first line is longer than {max} bytes: not a CSV header"
            )));
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| malformed("the header is not UTF-8 text".to_owned()))?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        if format.is_none() && text.starts_with('{') {
            let mut file = reader.into_inner();
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            return Ok(jsonl(file));
        }
        let parser = LineParser::csv(text, config.symbol.clone(), config.timeframe)
            .map_err(|e| malformed(e.to_string()))?;
        let mut file = reader.into_inner();
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        return Ok(Opened {
            file,
            parser,
            lines_before: number,
        });
    }
}

fn jsonl(file: File) -> Opened {
    Opened {
        file,
        parser: LineParser::jsonl(),
        lines_before: 0,
    }
}
