//! Historical bars from the venues into the candle CSV that replay and `tradegraph backtest`
//! read (feature `history`; a backtest replays one-minute bars).
//!
//! | venue | endpoint | one request |
//! |---|---|---|
//! | Binance spot | `GET /api/v3/klines?symbol=..&interval=..&startTime=..&endTime=..&limit=1000` | 1,000 bars ([`KLINES_LIMIT`]) |
//! | Kite Connect | `GET /instruments/historical/{token}/{interval}?from=..&to=..` (`Authorization: token key:access`, `X-Kite-Version: 3`) | a window of [`kite_window_days`] (60 days of minute bars ... 2,000 days of day bars) |
//!
//! [`download`] fetches the range in order and appends each page to the file as whole rows,
//! once the page is checked whole: rows as the venue documents them ([`parse_klines`],
//! [`parse_kite_candles`], errors naming the row and column), bars in increasing order inside
//! the range asked, on the interval's boundaries (Binance), prices above zero and open and close
//! within low and high. Nothing is filled in: where the venue has no bars, the [`Gap`] is
//! reported (Binance: any missing bar; Kite: a missing bar inside an IST trading day, as the
//! market closes at night) in [`DownloadSummary::gaps`], for the caller to show. Only bars
//! closed by [`DownloadConfig::now`] are fetched.
//!
//! **Resuming.** An existing file is continued after its last row, so an interrupted download
//! is finished by running it again; a torn last line (a row cut short) is cut off and fetched
//! again. The result is the file an uninterrupted run writes. Beside the file, `FILE.meta`
//! records its source (venue, symbol or token, interval) and the start it was downloaded
//! from; a run asking for another source, or for bars before that start (which would leave
//! them missing), is refused before anything is fetched or changed. A file that is not ours
//! (another header) is never changed. The file (and its `.meta`) is created with the first
//! page, so a request that fails at once leaves nothing behind.
//!
//! **Where ranges start.** Binance's bars open on the interval's boundaries, so a `from`
//! between two is moved up to the next; Kite's day candles are stamped at 00:00 IST, so
//! for day candles a `from` inside a day is moved up to the next midnight in India.
//!
//! **Rate limits.** A 429 or 418 waits as its `Retry-After` says
//! ([`tradegraph_core::retry_after`]; Binance bans a client that asks earlier), 5xx and
//! transport failures (while sending, or while reading the answer) wait by
//! [`DownloadConfig::backoff`] ([`tradegraph_core::backoff`]), up to
//! [`DownloadConfig::retries`] times; a `Retry-After` longer than
//! [`DownloadConfig::max_retry_after`] (Binance's 418 is an IP ban that can last hours) stops
//! the download with [`HistoryError::RetryLater`], saying when to run it again; Binance's `X-MBX-USED-WEIGHT-1M` is kept under
//! [`DownloadConfig::weight_budget`] by pausing to the next minute, and Kite's requests are
//! spaced by [`DownloadConfig::min_spacing`] (Kite allows 3 historical requests a second).
//!
//! **The file.** [`HEADER`] (`timestamp,open,high,low,close,volume,timeframe`), one bar per row
//! stamped with its open time (RFC 3339, UTC), the venue's decimals as sent, the interval in
//! `timeframe` (`1m`, `5m`, `15m`, `1h`, `1d`):
//!
//! ```text
//! timestamp,open,high,low,close,volume,timeframe
//! 2024-12-02T00:00:00Z,95000.00,95007.90,94970.52,95000.09,13.60413,1m
//! ```
//!
//! ```no_run
//! use tradegraph_core::Timeframe;
//! use tradegraph_market::history::{download, DownloadConfig, HistorySource};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let source = HistorySource::Binance {
//!     api_url: "https://api.binance.com".into(),
//!     symbol: "BTCUSDT".into(),
//! };
//! let config = DownloadConfig::new(
//!     source,
//!     Timeframe::M1,
//!     "2024-12-01T00:00:00Z".parse()?,
//!     "2024-12-02T00:00:00Z".parse()?,
//!     "btcusdt-1m.csv",
//! );
//! let summary = download(&config, |p| eprintln!("{} bars", p.bars)).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

mod bar;
mod binance;
mod download;
mod error;
mod fetch;
mod file;
mod kite;
mod meta;
#[cfg(test)]
mod proptests;

pub use bar::{interval_label, HistoryBar};
pub use binance::{parse_klines, KLINES_LIMIT};
pub use download::{download, DownloadSummary, Gap, Progress};
pub use error::{HistoryError, PageError};
pub use file::HEADER;
pub use kite::{kite_window_days, parse_kite_candles, IST_OFFSET_MS};

use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Timeframe, Timestamp};

/// Where the bars come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistorySource {
    /// Binance spot klines (public: no key needed).
    Binance {
        /// The REST base URL (`https://api.binance.com`, or `BINANCE_API_URL`).
        api_url: String,
        /// The symbol, as Binance writes it (`BTCUSDT`).
        symbol: String,
    },
    /// Kite Connect historical candles (the historical data add-on).
    Kite {
        /// The REST base URL (`https://api.kite.trade`, or `KITE_API_URL`).
        api_url: String,
        /// The instrument token (256265 is NIFTY 50, 260105 NIFTY BANK).
        token: u32,
        /// The Kite Connect app's key.
        api_key: Secret,
        /// The day's access token.
        access_token: Secret,
    },
}

/// What to download, where to, and how patiently.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadConfig {
    /// The venue and instrument.
    pub source: HistorySource,
    /// The bars' interval.
    pub timeframe: Timeframe,
    /// Bars opening at or after this time...
    pub from: Timestamp,
    /// ...and before this one.
    pub to: Timestamp,
    /// The CSV file: continued when it exists.
    pub out: PathBuf,
    /// Bars that have not closed by this time are not fetched (default: the wall clock).
    pub now: Timestamp,
    /// Retries of one request after a rate limit, a 5xx or a transport failure (default 6).
    pub retries: u32,
    /// The delays between retries when the venue names none (default 1 s doubling to 60 s).
    pub backoff: Backoff,
    /// Binance: pause to the next minute once `X-MBX-USED-WEIGHT-1M` reaches this (default
    /// 4,800 of the 6,000 Binance allows, leaving room for a bot on the same address).
    pub weight_budget: u32,
    /// The least time between two requests (default: none for Binance, 340 ms for Kite).
    pub min_spacing: Duration,
    /// The timeout of one request (default 30 s).
    pub timeout: Duration,
    /// The longest `Retry-After` waited for (default 5 minutes): a longer one stops the
    /// download with [`HistoryError::RetryLater`].
    pub max_retry_after: Duration,
}

impl DownloadConfig {
    /// Bars of `timeframe` opening in `[from, to)` from `source` into `out`, with the defaults.
    pub fn new(
        source: HistorySource,
        timeframe: Timeframe,
        from: Timestamp,
        to: Timestamp,
        out: impl Into<PathBuf>,
    ) -> Self {
        let min_spacing = match source {
            HistorySource::Binance { .. } => Duration::ZERO,
            HistorySource::Kite { .. } => Duration::from_millis(340),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            source,
            timeframe,
            from,
            to,
            out: out.into(),
            now: Timestamp::from_millis(now),
            retries: 6,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            weight_budget: 4_800,
            min_spacing,
            timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}
