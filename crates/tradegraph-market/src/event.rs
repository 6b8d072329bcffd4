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

    /// The time at which the event was fully known: a final candle's end, otherwise
    /// [`ts`](Self::ts) (an in-progress candle tells only that its period has begun: taken
    /// for its end, it would move the exchange time the runtime closes candles on up to a
    /// period ahead). Replay never hands out an event before the clock reaches this.
    pub fn known_at(&self) -> Timestamp {
        match self {
            Self::Candle {
                candle,
                closed: true,
                ..
            } => candle.open_time.add_millis(candle.timeframe.millis()),
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
    /// The connection was replaced by a successor that was already streaming, with nothing
    /// lost (Binance's planned replacement before the 24-hour limit): not a hole in the data.
    Replaced {
        /// Which connection replaced which, and why.
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

impl FeedNotice {
    /// Whether the notice means a hole in the data (a disconnection, a reconnection attempt,
    /// a gap): what comes until data is back is unknown, not a quiet market, and is not filled
    /// with flat candles ([`CandleAggregator::data_gap`](crate::aggregate::CandleAggregator::data_gap)).
    pub fn is_hole(&self) -> bool {
        matches!(
            self,
            Self::Disconnected { .. } | Self::Reconnecting { .. } | Self::Gap { .. }
        )
    }
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

#[cfg(test)]
mod tests {
    //! The line format of recordings: events with every field round trip, and lines written
    //! before the exchanges' extra fields were carried read back unchanged.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::feed::replay::LineParser;
    use rust_decimal::Decimal;
    use tradegraph_core::{DayStats, Side, Timeframe};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Lines as recordings held them before ticks had `day`, trades their id range and
    /// candles their quote and taker volumes.
    const OLD_LINES: [&str; 3] = [
        r#"{"type":"trade","symbol":"BTCUSDT","ts":"2025-01-01T00:00:00Z","price":"93512.10000000","quantity":"0.00123000","aggressor":"SELL","trade_id":7}"#,
        r#"{"type":"tick","symbol":"BANKNIFTY-FUT","ts":"2025-01-01T00:00:00.005Z","price":"51234.05","volume":"30","bid":"51234.00","ask":"51234.10","day_volume":"1234567","total_buy_quantity":"10","total_sell_quantity":"20","open_interest":"77"}"#,
        r#"{"type":"candle","symbol":"BTCUSDT","open_time":"2025-01-01T00:00:00Z","timeframe":"1min","open":"93500.00","high":"93520.00","low":"93490.00","close":"93512.10","volume":"12.50000000","trades":101,"closed":false}"#,
    ];

    #[test]
    fn old_recording_lines_parse_and_round_trip_unchanged() {
        let parser = LineParser::jsonl();
        for line in OLD_LINES {
            let event = parser.parse(line).unwrap();
            assert_eq!(serde_json::to_string(&event).unwrap(), line);
        }
        let MarketEvent::Tick { tick, .. } = parser.parse(OLD_LINES[1]).unwrap() else {
            unreachable!()
        };
        assert_eq!(tick.day, None);
    }

    #[test]
    fn events_with_every_exchange_field_round_trip() {
        let ts = Timestamp::from_secs(1_718_359_199);
        let tick = Tick {
            day: Some(Box::new(DayStats {
                open: Some(d("51000.00")),
                high: Some(d("51400.00")),
                low: Some(d("50900.50")),
                previous_close: Some(d("51100.00")),
                change_pct: Some(d("0.2472916666666666666666666667")),
                average_price: Some(d("51200.12")),
                last_quantity: Some(d("75")),
                last_trade_time: Some(ts.add_millis(-1_000)),
                oi_day_high: Some(d("2450000")),
                oi_day_low: Some(d("2300000")),
                exchange_time: Some(ts),
            })),
            ..Tick::new(ts, d("51355.50"), d("25"))
        };
        let trade = Trade {
            first_trade_id: Some(100),
            last_trade_id: Some(105),
            ..Trade::new(ts, d("0.001"), d("100"), Side::Sell, 12345)
        };
        let candle = Candle {
            quote_volume: Some(d("1.0000")),
            taker_buy_volume: Some(d("500")),
            taker_buy_quote_volume: Some(d("0.500")),
            ..Candle::opening(ts, Timeframe::M1, d("0.0010"), d("1000"))
        };
        let events = [
            MarketEvent::Tick {
                symbol: "NIFTY-FUT".into(),
                tick,
            },
            MarketEvent::Trade {
                symbol: "BNBBTC".into(),
                trade,
            },
            MarketEvent::Candle {
                symbol: "BNBBTC".into(),
                candle,
                closed: true,
            },
        ];
        let parser = LineParser::jsonl();
        for event in events {
            let line = serde_json::to_string(&event).unwrap();
            let again = parser.parse(&line).unwrap();
            assert_eq!(again, event, "{line}");
            // Exact: every decimal keeps its digits and scale.
            assert_eq!(serde_json::to_string(&again).unwrap(), line);
        }
    }

    /// An in-progress kline is not known at its end: the exchange time it implies is its
    /// open, so a stall after it cannot close its minute early.
    #[test]
    fn only_a_final_candle_is_known_at_its_end() {
        let open = Timestamp::from_secs(600);
        let candle = Candle::opening(open, Timeframe::M1, d("100"), d("1"));
        let event = |closed| MarketEvent::Candle {
            symbol: "BTCUSDT".into(),
            candle: candle.clone(),
            closed,
        };
        assert_eq!(event(true).known_at(), Timestamp::from_secs(660));
        assert_eq!(event(false).known_at(), open);
    }

    #[test]
    fn the_day_is_one_nested_object_of_a_tick_line() {
        let tick = Tick {
            day: Some(Box::new(DayStats {
                previous_close: Some(d("24000.00")),
                change_pct: Some(d("0.5")),
                ..DayStats::default()
            })),
            ..Tick::new(Timestamp::EPOCH, d("24120.00"), Decimal::ZERO)
        };
        let line = serde_json::to_string(&MarketEvent::Tick {
            symbol: "NIFTY 50".into(),
            tick,
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"type":"tick","symbol":"NIFTY 50","ts":"1970-01-01T00:00:00Z","price":"24120.00","volume":"0","day":{"previous_close":"24000.00","change_pct":"0.5"}}"#
        );
    }
}
