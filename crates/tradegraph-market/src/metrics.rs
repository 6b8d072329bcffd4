//! The feeds' metrics, recorded through the [`metrics`] facade: nothing is kept when no
//! recorder is installed, and the application chooses the exporter (the `tradegraph` runtime
//! installs a Prometheus one). Every feed of this crate records them; [`metered`] gives a feed
//! of your own the same.
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `tradegraph_feed_last_event_timestamp_seconds` | gauge | `feed`, `symbol` | the time stamped on the newest market event (exchange time; a candle's open time), in Unix seconds |
//! | `tradegraph_feed_events_total` | counter | `feed`, `symbol` | market events (trades, ticks, books, candles) |
//! | `tradegraph_feed_connected` | gauge | `feed` | 1 while connected, 0 after a disconnection |
//! | `tradegraph_feed_reconnects_total` | counter | `feed` | reconnection attempts |
//! | `tradegraph_feed_gaps_total` | counter | `feed`, `kind` | data known to be missing: `trade_ids` or `time` |
//! | `tradegraph_feed_malformed_total` | counter | `feed` | input skipped because it could not be used (frames, lines) |
//!
//! `feed` is `binance`, `kite`, `replay` or `synthetic` (the name given to [`metered`]);
//! `symbol` is the instrument's symbol, one of the few a bot subscribes to.
//!
//! ```
//! use tradegraph_market::metrics;
//! // Registers the descriptions and units with the installed recorder (none here: a no-op).
//! metrics::describe();
//! assert!(metrics::ALL.iter().any(|(name, kind, _)| {
//!     *name == metrics::LAST_EVENT_TIMESTAMP_SECONDS && *kind == "gauge"
//! }));
//! ```

use crate::event::{FeedNotice, GapKind};
use crate::feed::Feed;
use crate::MarketEvent;
use futures::{Stream, StreamExt};
use metrics::{Counter, Gauge, Label, SharedString, Unit};
use tradegraph_core::{Symbol, Timestamp};

/// Gauge: the newest market event's time, in Unix seconds (`feed`, `symbol`): when it was
/// fully known (a closed candle's end), never going back.
pub const LAST_EVENT_TIMESTAMP_SECONDS: &str = "tradegraph_feed_last_event_timestamp_seconds";
/// Counter: market events (`feed`, `symbol`).
pub const EVENTS_TOTAL: &str = "tradegraph_feed_events_total";
/// Gauge: 1 while connected, 0 after a disconnection (`feed`).
pub const CONNECTED: &str = "tradegraph_feed_connected";
/// Counter: reconnection attempts (`feed`).
pub const RECONNECTS_TOTAL: &str = "tradegraph_feed_reconnects_total";
/// Counter: gaps, by kind (`feed`, `kind`).
pub const GAPS_TOTAL: &str = "tradegraph_feed_gaps_total";
/// Counter: malformed input skipped (`feed`).
pub const MALFORMED_TOTAL: &str = "tradegraph_feed_malformed_total";

/// Every metric of this crate: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (LAST_EVENT_TIMESTAMP_SECONDS, "gauge", &["feed", "symbol"]),
    (EVENTS_TOTAL, "counter", &["feed", "symbol"]),
    (CONNECTED, "gauge", &["feed"]),
    (RECONNECTS_TOTAL, "counter", &["feed"]),
    (GAPS_TOTAL, "counter", &["feed", "kind"]),
    (MALFORMED_TOTAL, "counter", &["feed"]),
];

/// Registers every metric's description and unit with the installed recorder. Call it once
/// after installing the recorder; recording works without it.
pub fn describe() {
    metrics::describe_gauge!(
        LAST_EVENT_TIMESTAMP_SECONDS,
        Unit::Seconds,
        "Time stamped on the newest market event (exchange time), in Unix seconds."
    );
    metrics::describe_counter!(EVENTS_TOTAL, Unit::Count, "Market events received.");
    metrics::describe_gauge!(
        CONNECTED,
        "1 while the feed is connected, 0 after a disconnection."
    );
    metrics::describe_counter!(RECONNECTS_TOTAL, Unit::Count, "Feed reconnection attempts.");
    metrics::describe_counter!(
        GAPS_TOTAL,
        Unit::Count,
        "Gaps in the feed's data (trade ids or time)."
    );
    metrics::describe_counter!(
        MALFORMED_TOTAL,
        Unit::Count,
        "Feed input skipped because it could not be used."
    );
}

/// `stream` as a [`Feed`] that records this module's metrics under the name `feed`.
///
/// ```
/// use futures::StreamExt;
/// use tradegraph_market::{metrics, MarketEvent};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mine = futures::stream::iter(Vec::<MarketEvent>::new());
/// let mut feed = metrics::metered("mine", mine);
/// assert!(feed.next().await.is_none());
/// # });
/// ```
pub fn metered(
    feed: &'static str,
    stream: impl Stream<Item = MarketEvent> + Send + 'static,
) -> Feed {
    let mut meter = FeedMeter::new(feed);
    stream
        .map(move |event| {
            meter.observe(&event);
            event
        })
        .boxed()
}

/// One symbol's handles.
struct SymbolMeter {
    symbol: Symbol,
    last: Gauge,
    /// What `last` shows: it never goes back (an exchange's closed kline comes after the
    /// trades of the next minute).
    newest: Timestamp,
    events: Counter,
}

/// Records one feed's events. Handles are registered once per symbol (and again if the
/// recorder in use changes), so a market event costs two atomic operations.
struct FeedMeter {
    feed: &'static str,
    recorder: usize,
    symbols: Vec<SymbolMeter>,
}

impl FeedMeter {
    fn new(feed: &'static str) -> Self {
        Self {
            feed,
            recorder: recorder_address(),
            symbols: Vec::new(),
        }
    }

    fn observe(&mut self, event: &MarketEvent) {
        if let MarketEvent::Notice { notice, .. } = event {
            self.notice(notice);
            return;
        }
        let Some(symbol) = event.symbol() else {
            return;
        };
        let recorder = recorder_address();
        if recorder != self.recorder {
            self.recorder = recorder;
            self.symbols.clear();
        }
        let meter = match self.symbols.iter().position(|m| &m.symbol == symbol) {
            Some(i) => &mut self.symbols[i],
            None => {
                let labels = || {
                    vec![
                        Label::from_static_parts("feed", self.feed),
                        Label::new("symbol", SharedString::from(symbol.as_str().to_owned())),
                    ]
                };
                self.symbols.push(SymbolMeter {
                    symbol: symbol.clone(),
                    last: metrics::gauge!(LAST_EVENT_TIMESTAMP_SECONDS, labels()),
                    newest: Timestamp::from_millis(i64::MIN),
                    events: metrics::counter!(EVENTS_TOTAL, labels()),
                });
                let newest = self.symbols.len() - 1;
                &mut self.symbols[newest]
            }
        };
        let known = event.known_at();
        if known > meter.newest {
            meter.newest = known;
            meter.last.set(known.millis() as f64 / 1000.0);
        }
        meter.events.increment(1);
    }

    fn notice(&self, notice: &FeedNotice) {
        let feed = || Label::from_static_parts("feed", self.feed);
        match notice {
            FeedNotice::Connected { .. } => metrics::gauge!(CONNECTED, vec![feed()]).set(1.0),
            FeedNotice::Disconnected { .. } => metrics::gauge!(CONNECTED, vec![feed()]).set(0.0),
            FeedNotice::Reconnecting { .. } => {
                metrics::counter!(RECONNECTS_TOTAL, vec![feed()]).increment(1);
            }
            FeedNotice::Gap { kind, .. } => {
                let kind = match kind {
                    GapKind::TradeIds { .. } => "trade_ids",
                    GapKind::Time { .. } => "time",
                };
                let labels = vec![feed(), Label::from_static_parts("kind", kind)];
                metrics::counter!(GAPS_TOTAL, labels).increment(1);
            }
            FeedNotice::Malformed { .. } => {
                metrics::counter!(MALFORMED_TOTAL, vec![feed()]).increment(1);
            }
            _ => {}
        }
    }
}

/// Tells recorders apart: the installed one lives in its own allocation, the no-op one is a
/// static.
fn recorder_address() -> usize {
    metrics::with_recorder(|recorder| (recorder as *const dyn metrics::Recorder).addr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        tradegraph_testkit::assert_metric_names("tradegraph_feed_", ALL);
    }

    #[test]
    fn one_handle_set_per_symbol() {
        let mut meter = FeedMeter::new("test");
        let tick = |symbol: &str| MarketEvent::Tick {
            symbol: symbol.into(),
            tick: tradegraph_core::Tick::new(
                tradegraph_core::Timestamp::from_secs(1),
                rust_decimal::Decimal::ONE,
                rust_decimal::Decimal::ONE,
            ),
        };
        for symbol in ["A", "B", "A", "A"] {
            meter.observe(&tick(symbol));
        }
        let symbols: Vec<&str> = meter.symbols.iter().map(|m| m.symbol.as_str()).collect();
        assert_eq!(symbols, ["A", "B"]);
    }
}
