//! Combined-stream frames into [`MarketEvent`]s.

use super::envelope::{Frame, Payload};
use super::messages::{AggTradeMsg, DepthMsg, KlineMsg, TradeMsg};
use crate::feed::check_prices;
use crate::{MarketError, MarketEvent};
use rust_decimal::Decimal;
use tradegraph_core::{Book, BookLevel, Candle, Side, Symbol, Timeframe, Timestamp, Trade};

/// What one text frame of the stream endpoint was.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decoded {
    /// A trade, a kline (as [`MarketEvent::Candle`]) or a top-5 book.
    Event(MarketEvent),
    /// A reply to a request, such as `{"result": null, "id": 1}` after a `SUBSCRIBE`.
    Reply,
    /// An error from the exchange, such as `{"code": 2, "msg": "Invalid request"}`.
    ExchangeError {
        /// Binance's error code.
        code: i64,
        /// The whole frame.
        frame: String,
    },
}

/// Decodes Binance combined-stream frames (`{"stream": "btcusdt@trade", "data": {...}}`).
///
/// Prices and quantities are parsed exactly from Binance's strings; `m` (buyer is maker) means
/// the seller crossed the spread, so the aggressor is [`Side::Sell`]. A frame that does not
/// match the documented payloads, or whose prices fail [`check_prices`] (a zero price, a kline
/// whose high is below its low), is an error naming the field, never a panic.
///
/// ```
/// use tradegraph_core::{Side, Timestamp};
/// use tradegraph_market::{feed::binance::{Decoded, Decoder}, MarketEvent};
///
/// let decoder = Decoder::new("BTCUSDT");
/// let frame = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT",
///     "t":12345,"p":"16500.10","q":"0.002","T":1672515782136,"m":true,"M":true}}"#;
/// let Decoded::Event(MarketEvent::Trade { trade, .. }) = decoder.decode(frame, Timestamp::EPOCH)?
/// else { unreachable!() };
/// assert_eq!(trade.price.to_string(), "16500.10");
/// assert_eq!((trade.trade_id, trade.aggressor), (12345, Side::Sell));
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    symbol: Symbol,
    lower: String,
}

impl Decoder {
    /// A decoder for frames about `symbol` (any case). Frames about other symbols decode too.
    pub fn new(symbol: &str) -> Self {
        let symbol = symbol.trim();
        Self {
            symbol: Symbol::new(symbol.to_ascii_uppercase()),
            lower: symbol.to_ascii_lowercase(),
        }
    }

    /// Decodes one text frame. `received` stamps the book snapshots, which carry no time.
    ///
    /// # Errors
    ///
    /// [`MarketError::Malformed`] saying what is wrong, with the start of the frame.
    pub fn decode(&self, text: &str, received: Timestamp) -> Result<Decoded, MarketError> {
        let frame = match serde_json::from_str::<Frame<'_>>(text) {
            Ok(frame) => frame,
            Err(e) => return Err(malformed(text, &e.to_string())),
        };
        let event = match frame {
            Frame::Event { symbol, payload } => match payload {
                Payload::Trade(msg) => self.trade(&msg),
                Payload::AggTrade(msg) => self.agg_trade(&msg),
                Payload::Kline(msg) => self.kline(&msg),
                Payload::Depth(msg) => self.depth(&msg, symbol, received),
            },
            Frame::Reply => return Ok(Decoded::Reply),
            Frame::Error(code) => {
                let frame = text.to_owned();
                return Ok(Decoded::ExchangeError { code, frame });
            }
        };
        match event.and_then(|event| check_prices(&event).map(|()| event)) {
            Ok(event) => Ok(Decoded::Event(event)),
            Err(reason) => Err(malformed(text, &reason)),
        }
    }

    fn symbol(&self, upper: &str) -> Symbol {
        if upper == self.symbol.as_str() {
            self.symbol.clone()
        } else {
            Symbol::new(upper)
        }
    }

    fn trade(&self, msg: &TradeMsg<'_>) -> Result<MarketEvent, String> {
        expect_event(msg.event, "trade")?;
        let trade = trade(
            msg.id,
            msg.price,
            msg.quantity,
            msg.time,
            msg.buyer_is_maker,
        )?;
        Ok(MarketEvent::Trade {
            symbol: self.symbol(msg.symbol),
            trade,
        })
    }

    fn agg_trade(&self, msg: &AggTradeMsg<'_>) -> Result<MarketEvent, String> {
        expect_event(msg.event, "aggTrade")?;
        if msg.first_trade_id > msg.last_trade_id {
            return Err(format!(
                "aggTrade first trade id {} is after last trade id {}",
                msg.first_trade_id, msg.last_trade_id
            ));
        }
        let mut trade = trade(
            msg.id,
            msg.price,
            msg.quantity,
            msg.time,
            msg.buyer_is_maker,
        )?;
        trade.first_trade_id = Some(msg.first_trade_id);
        trade.last_trade_id = Some(msg.last_trade_id);
        Ok(MarketEvent::Trade {
            symbol: self.symbol(msg.symbol),
            trade,
        })
    }

    fn kline(&self, msg: &KlineMsg<'_>) -> Result<MarketEvent, String> {
        expect_event(msg.event, "kline")?;
        let k = &msg.kline;
        let timeframe = match k.interval {
            "1m" => Timeframe::M1,
            "5m" => Timeframe::M5,
            "15m" => Timeframe::M15,
            "1h" => Timeframe::H1,
            "1d" => Timeframe::D1,
            other => return Err(format!("kline interval `{other}` is not supported")),
        };
        let candle = Candle {
            open_time: time(k.open_time, "k.t")?,
            timeframe,
            open: decimal(k.open, "k.o")?,
            high: decimal(k.high, "k.h")?,
            low: decimal(k.low, "k.l")?,
            close: decimal(k.close, "k.c")?,
            volume: decimal(k.volume, "k.v")?,
            trades: k.trades,
            quote_volume: optional(k.quote_volume, "k.q")?,
            taker_buy_volume: optional(k.taker_buy_volume, "k.V")?,
            taker_buy_quote_volume: optional(k.taker_buy_quote_volume, "k.Q")?,
        };
        Ok(MarketEvent::Candle {
            symbol: self.symbol(msg.symbol),
            candle,
            closed: k.closed,
        })
    }

    fn depth(
        &self,
        msg: &DepthMsg<'_>,
        lower: &str,
        received: Timestamp,
    ) -> Result<MarketEvent, String> {
        let symbol = if lower == self.lower {
            self.symbol.clone()
        } else {
            Symbol::new(lower.to_ascii_uppercase())
        };
        Ok(MarketEvent::Book {
            symbol,
            book: Book {
                ts: received,
                bids: levels(&msg.bids, "bids")?,
                asks: levels(&msg.asks, "asks")?,
                update_id: Some(msg.last_update_id),
            },
        })
    }
}

fn trade(id: u64, price: &str, qty: &str, ts: i64, maker: bool) -> Result<Trade, String> {
    let price = decimal(price, "p")?;
    if price.is_zero() {
        return Err("p: a trade price of zero".to_owned());
    }
    let aggressor = if maker { Side::Sell } else { Side::Buy };
    Ok(Trade::new(
        time(ts, "T")?,
        price,
        decimal(qty, "q")?,
        aggressor,
        id,
    ))
}

fn levels(raw: &[[&str; 2]], side: &str) -> Result<Vec<BookLevel>, String> {
    raw.iter()
        .take(Book::DEPTH)
        .map(|[price, qty]| {
            Ok(BookLevel {
                price: decimal(price, side)?,
                quantity: decimal(qty, side)?,
                orders: None,
            })
        })
        .collect()
}

fn expect_event(found: &str, expected: &str) -> Result<(), String> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("e: `{found}` on a {expected} stream"))
    }
}

/// Milliseconds within years 0000 to 9999.
fn time(millis: i64, field: &str) -> Result<Timestamp, String> {
    Timestamp::try_from_millis(millis).map_err(|e| format!("{field}: {e}"))
}

/// An exact, non-negative decimal, when the field is there.
fn optional(text: Option<&str>, field: &str) -> Result<Option<Decimal>, String> {
    text.map(|text| decimal(text, field)).transpose()
}

/// An exact, non-negative decimal.
fn decimal(text: &str, field: &str) -> Result<Decimal, String> {
    let value = Decimal::from_str_exact(text).map_err(|e| format!("{field} `{text}`: {e}"))?;
    if value.is_sign_negative() {
        return Err(format!("{field} `{text}` is negative"));
    }
    Ok(value)
}

fn malformed(text: &str, reason: &str) -> MarketError {
    const SHOWN: usize = 80;
    let end = (0..=SHOWN.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let more = if end < text.len() { "..." } else { "" };
    MarketError::Malformed {
        origin: "binance frame".to_owned(),
        reason: format!("{reason}; frame: `{}{more}`", text.get(..end).unwrap_or("")),
    }
}
