//! What a replay reads and how fast it goes.

use crate::{MarketError, SimulatedClock};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tradegraph_core::{Symbol, Timeframe};

/// The kind of file a replay reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplayFormat {
    /// Comma-separated values with a header: candles (`timestamp,open,high,low,close,volume`)
    /// or ticks (`timestamp,price,volume`, optionally `bid`, `ask`).
    Csv,
    /// One JSON [`MarketEvent`](crate::MarketEvent) per line, as the recorder writes them.
    Jsonl,
}

impl ReplayFormat {
    /// The format a file name implies: `.csv` is CSV; `.jsonl`, `.ndjson` and `.json` are
    /// JSONL; anything else is unknown (`None`), and the replay looks at the first line.
    ///
    /// ```
    /// use tradegraph_market::feed::replay::ReplayFormat;
    /// assert_eq!(ReplayFormat::from_path("ticks.CSV".as_ref()), Some(ReplayFormat::Csv));
    /// assert_eq!(ReplayFormat::from_path("btc.jsonl".as_ref()), Some(ReplayFormat::Jsonl));
    /// assert_eq!(ReplayFormat::from_path("data.txt".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// How fast a replay hands out events.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ReplaySpeed {
    /// No waiting at all: backtests and tests.
    #[default]
    AsFastAsPossible,
    /// Event time runs this many times faster than the wall clock (`1.0` is real time, `60.0`
    /// plays a minute per second). Each pause is capped by
    /// [`ReplayConfig::max_pause`], so weekends and nights do not stall the replay.
    Multiple(f64),
}

/// Configuration of a [`Replay`](super::Replay).
///
/// ```
/// use tradegraph_core::Timeframe;
/// use tradegraph_market::feed::replay::{ReplayConfig, ReplaySpeed};
/// use tradegraph_market::SimulatedClock;
///
/// let clock = SimulatedClock::default();
/// let config = ReplayConfig {
///     speed: ReplaySpeed::Multiple(60.0),
///     timeframe: Timeframe::M5,
///     clock: clock.clone(),
///     ..ReplayConfig::new("examples/data/nifty50-1m.csv", "NIFTY50")
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// The file to read.
    pub path: PathBuf,
    /// The instrument of a CSV file's rows. JSONL lines name their own instrument and keep it.
    pub symbol: Symbol,
    /// The file's kind; `None` decides by the extension, then by the first line (`{` starts
    /// JSONL).
    pub format: Option<ReplayFormat>,
    /// The timeframe of a CSV candle file's rows, unless the file has a `timeframe` column.
    /// Candles are stamped with their open time and become known at their end, so the
    /// timeframe decides when the clock lets a consumer see them. Default: one minute.
    pub timeframe: Timeframe,
    /// How fast to go.
    pub speed: ReplaySpeed,
    /// The longest wall-clock pause between two events at a [`ReplaySpeed::Multiple`]; longer
    /// gaps in event time are cut to this. Default: 60 s (a one-minute candle file plays in
    /// real time at `Multiple(1.0)`, and a night is one minute).
    pub max_pause: Duration,
    /// The simulated clock the replay drives: it is moved to each event's
    /// [`known_at`](crate::MarketEvent::known_at) before the event is handed out. Keep a clone
    /// to read "now" elsewhere (a backtest's broker, the decision cadence).
    pub clock: SimulatedClock,
}

impl ReplayConfig {
    /// Lines longer than this (bytes, without the line break) are skipped as malformed, so a
    /// file without line breaks cannot exhaust memory.
    pub const MAX_LINE_BYTES: usize = 1 << 20;

    /// Replays `path` as fast as possible; CSV rows are `symbol` and one-minute candles; a new
    /// clock at the epoch.
    pub fn new(path: impl Into<PathBuf>, symbol: impl Into<Symbol>) -> Self {
        Self {
            path: path.into(),
            symbol: symbol.into(),
            format: None,
            timeframe: Timeframe::M1,
            speed: ReplaySpeed::AsFastAsPossible,
            max_pause: Duration::from_secs(60),
            clock: SimulatedClock::default(),
        }
    }

    /// Checks what cannot work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] for a speed multiple that is not a positive finite number.
    pub fn validate(&self) -> Result<(), MarketError> {
        if let ReplaySpeed::Multiple(multiple) = self.speed {
            if !(multiple.is_finite() && multiple > 0.0) {
                return Err(MarketError::Config(format!(
                    "replay.speed {multiple}: give a positive multiple of real time, e.g. 1.0 \
                     or 60.0, or AsFastAsPossible"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_must_be_positive_and_finite() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let config = ReplayConfig {
                speed: ReplaySpeed::Multiple(bad),
                ..ReplayConfig::new("x.csv", "X")
            };
            let message = config.validate().err().map(|e| e.to_string());
            assert!(message.is_some_and(|m| m.contains("replay.speed")), "{bad}");
        }
        let config = ReplayConfig {
            speed: ReplaySpeed::Multiple(0.5),
            ..ReplayConfig::new("x.csv", "X")
        };
        assert!(config.validate().is_ok());
    }
}
