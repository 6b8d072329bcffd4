//! Replay of recorded or downloaded market data: a CSV or JSONL file as a [`Feed`](crate::feed::Feed)
//! that drives a [`SimulatedClock`](crate::SimulatedClock).
//!
//! | file | header | each line becomes |
//! |---|---|---|
//! | CSV candles | `timestamp,open,high,low,close,volume` (+ optional `timeframe`) | a closed [`MarketEvent::Candle`](crate::MarketEvent::Candle) of the configured symbol, stamped with its open time; the timeframe is [`ReplayConfig::timeframe`] (default 1m) unless the row says |
//! | CSV ticks | `timestamp,price` (+ optional `volume`, `bid`, `ask`; other columns ignored) | a [`MarketEvent::Tick`](crate::MarketEvent::Tick) |
//! | JSONL | none | the [`MarketEvent`](crate::MarketEvent) on the line (`serde_json`, tag `type`), exactly as the [recorder](crate::feed::record) wrote it |
//!
//! CSV timestamps are RFC 3339 or integer milliseconds since the epoch; numbers are exact
//! decimals. The timeframe of a candle file is configured rather than guessed from the spacing
//! of the rows: gaps (nights, weekends, missing minutes) make guesses wrong, and a wrong
//! timeframe would let a consumer see a candle before it closed.
//!
//! **Time.** Before each event is handed out, the replay advances the clock to the event's
//! [`known_at`](crate::MarketEvent::known_at) (a candle's end, otherwise its time), and never
//! further: whoever reads the clock while holding an event sees "now" at or after everything
//! handed out so far and before anything still in the file. At
//! [`ReplaySpeed::Multiple`] the replay also sleeps (tokio time) between events in proportion to
//! the gap in event time.
//!
//! **Bad input.** A malformed line is skipped, counted in [`ReplayStats`], logged with
//! `tracing::warn!` naming `file:line`, and handed out as a
//! [`FeedNotice::Malformed`](crate::FeedNotice::Malformed) from feed `replay:<file name>`; the
//! replay goes on. Blank lines are skipped silently. Files are read line by line (lines of at
//! most [`ReplayConfig::MAX_LINE_BYTES`]), never whole.
//!
//! ```
//! use futures::StreamExt;
//! use tradegraph_market::feed::replay::{Replay, ReplayConfig};
//! use tradegraph_market::{Clock, MarketEvent, SimulatedClock};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tradegraph_market::MarketError> {
//! let clock = SimulatedClock::default();
//! let config = ReplayConfig {
//!     clock: clock.clone(),
//!     ..ReplayConfig::new("../../examples/data/banknifty-1m.csv", "BANKNIFTY")
//! };
//! let replay = Replay::new(config)?;
//! let stats = replay.stats();
//! let mut events = replay.stream();
//! while let Some(event) = events.next().await {
//!     assert!(matches!(event, MarketEvent::Candle { .. }));
//!     assert!(event.known_at() <= clock.now());
//! }
//! assert_eq!((stats.events(), stats.malformed()), (1875, 0));
//! # Ok(()) }
//! ```

mod config;
mod csv;
mod error;
mod lines;
mod open;
mod pace;
mod parse;
mod stats;
mod stream;
mod value;

pub use config::{ReplayConfig, ReplayFormat, ReplaySpeed};
pub use csv::{CsvKind, CsvLayout};
pub use error::LineError;
pub use parse::LineParser;
pub use stats::ReplayStats;
pub use stream::Replay;
pub use value::parse_timestamp;
