//! The sidecar `FILE.meta` beside a downloaded file: where its bars come from (venue,
//! instrument, interval) and from when they were asked. The CSV stays the plain candle file
//! replay reads; the sidecar lets a later run refuse to mix another source into it or to
//! continue it while leaving the bars before it undownloaded.
//!
//! ```text
//! # where the bars of btcusdt-1m.csv come from (tradegraph data download); keep it beside the file
//! source=binance BTCUSDT
//! interval=1m
//! from=2024-12-02T00:00:00Z
//! ```

use super::bar::{interval_label, shorten};
use super::{HistoryError, HistorySource};
use std::path::{Path, PathBuf};
use tradegraph_core::{Timeframe, Timestamp};

/// What a file's sidecar records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meta {
    /// `binance BTCUSDT` or `kite 256265`.
    pub(crate) source: String,
    /// `1m`, `5m`, `15m`, `1h`, `1d`.
    pub(crate) interval: String,
    /// The start of the range the file was first downloaded from: it holds every bar the venue
    /// has from here on, up to its last row.
    pub(crate) from: Timestamp,
}

/// The sidecar of `csv`: its path with `.meta` added (`btcusdt-1m.csv.meta`).
pub(crate) fn path_of(csv: &Path) -> PathBuf {
    let mut name = csv.as_os_str().to_owned();
    name.push(".meta");
    PathBuf::from(name)
}

impl Meta {
    /// What a download of `source` at `timeframe` from `from` records.
    pub(crate) fn new(source: &HistorySource, timeframe: Timeframe, from: Timestamp) -> Self {
        let source = match source {
            HistorySource::Binance { symbol, .. } => format!("binance {symbol}"),
            HistorySource::Kite { token, .. } => format!("kite {token}"),
        };
        Self {
            source,
            interval: interval_label(timeframe).to_owned(),
            from,
        }
    }

    /// The sidecar's text.
    pub(crate) fn text(&self, csv: &Path) -> String {
        let name = csv.file_name().map_or_else(
            || csv.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!(
            "# where the bars of {name} come from (tradegraph data download); keep it beside the file\n\
             source={}\ninterval={}\nfrom={}\n",
            self.source, self.interval, self.from
        )
    }

    /// The sidecar of `csv`, or `None` when there is none.
    pub(crate) fn read(csv: &Path) -> Result<Option<Self>, HistoryError> {
        let path = path_of(csv);
        let fail = |reason: String| HistoryError::File {
            path: path.clone(),
            reason,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        };
        Self::parse(&text).map(Some).map_err(|reason| {
            fail(format!(
                "{reason}: it should say where the bars of {} come from; delete it only when \
                 the file holds no bars",
                csv.display()
            ))
        })
    }

    /// Parses the sidecar's text, naming the line at fault.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (mut source, mut interval, mut from) = (None, None, None);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!(
                    "line {}: `{}` is not key=value",
                    i + 1,
                    shorten(line)
                ));
            };
            let value = value.trim();
            match key.trim() {
                "source" => source = Some(value.to_owned()),
                "interval" => interval = Some(value.to_owned()),
                "from" => {
                    from = Some(value.parse::<Timestamp>().map_err(|_| {
                        format!("line {}: from `{}` is not a time", i + 1, shorten(value))
                    })?);
                }
                other => return Err(format!("line {}: unknown key `{}`", i + 1, shorten(other))),
            }
        }
        match (source, interval, from) {
            (Some(source), Some(interval), Some(from)) => Ok(Self {
                source,
                interval,
                from,
            }),
            _ => Err("it lacks one of source=, interval=, from=".into()),
        }
    }

    /// Writes the sidecar of `csv`.
    pub(crate) fn write(&self, csv: &Path) -> Result<(), HistoryError> {
        let path = path_of(csv);
        std::fs::write(&path, self.text(csv)).map_err(|e| HistoryError::File {
            path,
            reason: format!("cannot write: {e}"),
        })
    }

    /// Why a run asking for `wanted` cannot continue the file this sidecar describes.
    pub(crate) fn refusal(&self, wanted: &Self) -> Option<String> {
        if self.source != wanted.source || self.interval != wanted.interval {
            return Some(format!(
                "it holds {} {} bars (its .meta says so), not {} {}: give another --out",
                self.source, self.interval, wanted.source, wanted.interval
            ));
        }
        (wanted.from < self.from).then(|| {
            format!(
                "it holds the bars from {} on, so the bars from --from {} to {} would be missing: \
                 give another --out for them, or --from {} (or later) to continue this file",
                self.from, wanted.from, self.from, self.from
            )
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn meta(source: &str, interval: &str, from: &str) -> Meta {
        Meta {
            source: source.into(),
            interval: interval.into(),
            from: from.parse().unwrap(),
        }
    }

    #[test]
    fn the_text_reads_back_and_errors_name_the_line() {
        let m = meta("binance BTCUSDT", "1m", "2024-12-02T00:00:00Z");
        let text = m.text(Path::new("dir/btcusdt-1m.csv"));
        assert!(text.starts_with("# where the bars of btcusdt-1m.csv come from"));
        assert_eq!(Meta::parse(&text).unwrap(), m);
        assert_eq!(
            path_of(Path::new("dir/b.csv")),
            PathBuf::from("dir/b.csv.meta")
        );
        assert!(Meta::parse("source=x\nnonsense")
            .unwrap_err()
            .starts_with("line 2:"));
        assert!(Meta::parse("from=yesterday")
            .unwrap_err()
            .contains("line 1: from"));
        assert!(Meta::parse("source=x\n").unwrap_err().contains("lacks"));
    }

    #[test]
    fn another_source_or_an_earlier_start_is_refused() {
        let file = meta("binance BTCUSDT", "1m", "2024-02-01T00:00:00Z");
        assert_eq!(file.refusal(&file), None);
        let later = meta("binance BTCUSDT", "1m", "2024-03-01T00:00:00Z");
        assert_eq!(file.refusal(&later), None);
        let eth = meta("binance ETHUSDT", "1m", "2024-02-01T00:00:00Z");
        let why = file.refusal(&eth).unwrap();
        assert!(why.contains("binance BTCUSDT 1m bars"), "{why}");
        let earlier = meta("binance BTCUSDT", "1m", "2024-01-01T00:00:00Z");
        let why = file.refusal(&earlier).unwrap();
        assert!(
            why.contains("--from 2024-02-01T00:00:00Z (or later)"),
            "{why}"
        );
    }
}
