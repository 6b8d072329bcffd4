//! What a feed yields: market data, and the feed's own news (gaps, reconnects, bad input).

use serde::{Deserialize, Serialize};
use tradegraph_core::{Book, Candle, Symbol, Tick, Timestamp, Trade};

/// One item of a feed's stream.
///
/// Feeds never hide trouble: a reconnect, a gap in trade ids or a malformed frame is an event in
/// the stream, so a consumer (and a recording) sees exactly what happened. Serialized with a
/// `type` tag; that is the line format of recordings (JSONL) that replay reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarketEvent {
    /// An executed trade.
    Trade {
        /// Instrument.
        symbol: Symbol,
        /// The trade.
        #[serde(flatten)]
        trade: Trade,
    },
    /// A price update.
    Tick {
        /// Instrument.
        symbol: Symbol,
        /// The tick.
        #[serde(flatten)]
        tick: Tick,
    },
    /// A top-of-book snapshot.
    Book {
        /// Instrument.
        symbol: Symbol,
        /// The book.
        #[serde(flatten)]
        book: Book,
    },
    /// A candle: from the exchange (Binance klines, replayed candle files) or closed by the
    /// aggregator.
    Candle {
        /// Instrument.
        symbol: Symbol,
        /// The candle.
        #[serde(flatten)]
        candle: Candle,
        /// Whether the candle is final (`false` for an exchange's in-progress kline).
        closed: bool,
    },
    /// Something about the feed itself.
    Notice {
        /// Which feed (`binance`, `kite`, `replay:file.csv`).
        feed: String,
        /// When the feed noticed it (its clock).
        ts: Timestamp,
        /// What.
        #[serde(flatten)]
        notice: FeedNotice,
    },
}

impl MarketEvent {
    /// The instrument, for market data.
    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            Self::Trade { symbol, .. }
            | Self::Tick { symbol, .. }
            | Self::Book { symbol, .. }
            | Self::Candle { symbol, .. } => Some(symbol),
            Self::Notice { .. } => None,
        }
    }

    /// The time the event is stamped with (for a candle, its open time).
    pub fn ts(&self) -> Timestamp {
        match self {
            Self::Trade { trade, .. } => trade.ts,
            Self::Tick { tick, .. } => tick.ts,
            Self::Book { book, .. } => book.ts,
            Self::Candle { candle, .. } => candle.open_time,
            Self::Notice { ts, .. } => *ts,
        }
    }

    /// The time at which the event was fully known: a candle's end for a candle, otherwise
    /// [`ts`](Self::ts). Replay never hands out an event before the clock reaches this.
    pub fn known_at(&self) -> Timestamp {
        match self {
            Self::Candle { candle, .. } => candle.open_time.add_millis(candle.timeframe.millis()),
            other => other.ts(),
        }
    }
}

/// What a feed has to say about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedNotice {
    /// Connected (first time or again) and subscribed.
    Connected {
        /// The endpoint.
        url: String,
    },
    /// The connection dropped or is being replaced; the feed will retry.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// Waiting before the next connection attempt.
    Reconnecting {
        /// 1-based attempt number since the last successful connection.
        attempt: u32,
        /// How long the feed waits first.
        delay_ms: u64,
    },
    /// Data is known to be missing.
    Gap {
        /// Instrument.
        symbol: String,
        /// What is missing.
        #[serde(flatten)]
        kind: GapKind,
    },
    /// Input that could not be used was skipped.
    Malformed {
        /// Where it came from (`frame 12`, `file.csv:40`).
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// A text message from the exchange (Kite errors and messages, order updates).
    Message {
        /// The message kind (`error`, `message`, `order`).
        kind: String,
        /// The payload.
        payload: String,
    },
}

/// What a gap is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum GapKind {
    /// Trade ids jumped: ids `first_missing..=last_missing` never arrived.
    TradeIds {
        /// First id not seen.
        first_missing: u64,
        /// Last id not seen.
        last_missing: u64,
    },
    /// No data between two times (a disconnection, a silent feed).
    Time {
        /// Last data before the gap.
        from: Timestamp,
        /// First data after it.
        to: Timestamp,
    },
}
