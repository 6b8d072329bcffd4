//! What the market says: trades, ticks (and the day's figures that come with them), candles, the
//! top-5 book and order-flow figures.

mod day;

pub use day::DayStats;

use crate::{Price, Quantity, Timeframe, Timestamp};
use serde::{Deserialize, Serialize};

/// A side of the book, or the aggressor of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    /// Buying.
    Buy,
    /// Selling.
    Sell,
}

/// An executed trade as the exchange reports it (Binance `trade` or `aggTrade`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// Trade time.
    pub ts: Timestamp,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// Who crossed the spread: `Sell` when the buyer was the maker.
    pub aggressor: Side,
    /// The exchange's trade id (consecutive on Binance, so gaps show lost trades); for an
    /// aggregate trade, the aggregate trade id.
    pub trade_id: u64,
    /// For an aggregate trade (Binance `aggTrade`), the exchange id of the first trade it sums
    /// (`f`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_trade_id: Option<u64>,
    /// For an aggregate trade, the exchange id of the last trade it sums (`l`): it stands for
    /// `last_trade_id - first_trade_id + 1` trades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trade_id: Option<u64>,
}

impl Trade {
    /// A trade that is not an aggregate (no first and last trade ids).
    ///
    /// ```
    /// use tradegraph_core::{Decimal, Side, Timestamp, Trade};
    /// let t = Trade::new(Timestamp::EPOCH, Decimal::from(100), Decimal::ONE, Side::Buy, 7);
    /// assert_eq!((t.trade_id, t.first_trade_id), (7, None));
    /// ```
    pub fn new(
        ts: Timestamp,
        price: Price,
        quantity: Quantity,
        aggressor: Side,
        trade_id: u64,
    ) -> Self {
        Self {
            ts,
            price,
            quantity,
            aggressor,
            trade_id,
            first_trade_id: None,
            last_trade_id: None,
        }
    }
}

/// A price update (Kite's LTP/quote/full packets, or a trade seen as a tick).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Exchange time of the update.
    pub ts: Timestamp,
    /// Last traded price.
    pub price: Price,
    /// Quantity traded since the previous tick (0 when unknown or for an index).
    pub volume: Quantity,
    /// Best bid, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<Price>,
    /// Best ask, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<Price>,
    /// Volume traded in the session so far, when the exchange reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_volume: Option<Quantity>,
    /// Total quantity resting on the bid side (Kite's total buy quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_buy_quantity: Option<Quantity>,
    /// Total quantity resting on the ask side (Kite's total sell quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_sell_quantity: Option<Quantity>,
    /// Open interest, for derivatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_interest: Option<Quantity>,
    /// The day's figures that came with the update (Kite quote and full packets): session
    /// open, high and low, previous close, change, average price, last trade, open-interest
    /// range, exchange time. Boxed: most ticks have none, and ticks stay small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<Box<DayStats>>,
}

impl Tick {
    /// A tick with only a price and a volume.
    pub fn new(ts: Timestamp, price: Price, volume: Quantity) -> Self {
        Self {
            ts,
            price,
            volume,
            bid: None,
            ask: None,
            day_volume: None,
            total_buy_quantity: None,
            total_sell_quantity: None,
            open_interest: None,
            day: None,
        }
    }
}

impl From<&Trade> for Tick {
    fn from(trade: &Trade) -> Self {
        Self::new(trade.ts, trade.price, trade.quantity)
    }
}

/// An OHLCV candle.
///
/// Invariants the aggregator keeps: `low <= open, close <= high`, `volume >= 0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// Bucket start (inclusive).
    pub open_time: Timestamp,
    /// Its timeframe.
    pub timeframe: Timeframe,
    /// First price.
    pub open: Price,
    /// Highest price.
    pub high: Price,
    /// Lowest price.
    pub low: Price,
    /// Last price.
    pub close: Price,
    /// Quantity traded.
    pub volume: Quantity,
    /// Number of trades or ticks folded in.
    #[serde(default)]
    pub trades: u64,
    /// Value traded, in the quote asset (price times quantity summed: USDT for BTCUSDT), when
    /// the exchange reports it (Binance kline `q`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_volume: Option<Quantity>,
    /// Quantity bought by takers (aggressive buyers), in the base asset, when the exchange
    /// reports it (Binance kline `V`, "taker buy base asset volume").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_buy_volume: Option<Quantity>,
    /// Value bought by takers, in the quote asset, when the exchange reports it (Binance kline
    /// `Q`, "taker buy quote asset volume").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_buy_quote_volume: Option<Quantity>,
}

impl Candle {
    /// A candle holding one price.
    pub fn opening(
        open_time: Timestamp,
        timeframe: Timeframe,
        price: Price,
        volume: Quantity,
    ) -> Self {
        Self {
            open_time,
            timeframe,
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
            trades: 1,
            quote_volume: None,
            taker_buy_volume: None,
            taker_buy_quote_volume: None,
        }
    }

    /// Whether the OHLC invariants hold.
    pub fn is_consistent(&self) -> bool {
        self.low <= self.open
            && self.low <= self.close
            && self.open <= self.high
            && self.close <= self.high
            && !self.volume.is_sign_negative()
    }

    /// Folds one more price in. A price that traded (`volume` not zero) makes the
    /// exchange-reported volumes (quote, taker buy) unknown: the price does not say them.
    #[inline]
    pub fn update(&mut self, price: Price, volume: Quantity) {
        if price > self.high {
            self.high = price;
        }
        if price < self.low {
            self.low = price;
        }
        self.close = price;
        self.volume = self.volume.saturating_add(volume);
        self.trades += 1;
        if !volume.is_zero() {
            self.quote_volume = None;
            self.taker_buy_volume = None;
            self.taker_buy_quote_volume = None;
        }
    }

    /// Folds a later candle of a shorter timeframe in. The exchange-reported volumes add up
    /// where both candles have them; a candle that traded nothing counts as zero for them;
    /// otherwise the sum is not known (`None`).
    #[inline]
    pub fn absorb(&mut self, later: &Candle) {
        if later.high > self.high {
            self.high = later.high;
        }
        if later.low < self.low {
            self.low = later.low;
        }
        self.close = later.close;
        let (mine, theirs) = (self.volume.is_zero(), later.volume.is_zero());
        let sum = |a: Option<Quantity>, b: Option<Quantity>| match (a, b) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (Some(a), None) if theirs => Some(a),
            (None, Some(b)) if mine => Some(b),
            _ => None,
        };
        self.quote_volume = sum(self.quote_volume, later.quote_volume);
        self.taker_buy_volume = sum(self.taker_buy_volume, later.taker_buy_volume);
        self.taker_buy_quote_volume =
            sum(self.taker_buy_quote_volume, later.taker_buy_quote_volume);
        self.volume = self.volume.saturating_add(later.volume);
        self.trades = self.trades.saturating_add(later.trades);
    }
}

/// One price level of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BookLevel {
    /// Price.
    pub price: Price,
    /// Quantity resting at it.
    pub quantity: Quantity,
    /// Number of orders, when the exchange says (Kite does, Binance does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<u32>,
}

/// The top levels of the order book (up to [`Book::DEPTH`] per side), best first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Book {
    /// When the snapshot was taken.
    pub ts: Timestamp,
    /// Bids, highest first.
    pub bids: Vec<BookLevel>,
    /// Asks, lowest first.
    pub asks: Vec<BookLevel>,
    /// The exchange's update id (Binance `lastUpdateId`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<u64>,
}

impl Book {
    /// Levels per side that feeds keep.
    pub const DEPTH: usize = 5;

    /// Best bid.
    pub fn best_bid(&self) -> Option<&BookLevel> {
        self.bids.first()
    }

    /// Best ask.
    pub fn best_ask(&self) -> Option<&BookLevel> {
        self.asks.first()
    }

    /// Mid price, when both sides have a level.
    pub fn mid(&self) -> Option<Price> {
        self.best_bid()?
            .price
            .checked_add(self.best_ask()?.price)?
            .checked_div(Price::TWO)
    }

    /// Book imbalance over the kept levels: `(bid qty - ask qty) / (bid qty + ask qty)`, in
    /// `[-1, 1]`; `None` for an empty book.
    pub fn imbalance(&self) -> Option<f64> {
        // Checked: quantities come from the wire, and a decimal overflow would panic.
        let sum = |levels: &[BookLevel]| {
            levels
                .iter()
                .try_fold(Quantity::ZERO, |acc, l| acc.checked_add(l.quantity))
        };
        let (bid, ask) = (sum(&self.bids)?, sum(&self.asks)?);
        let total = bid.checked_add(ask)?;
        if total.is_zero() {
            return None;
        }
        bid.checked_sub(ask)?.checked_div(total)?.try_into().ok()
    }
}

/// Order-flow figures over a window (a candle, a session).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OrderFlow {
    /// Quantity bought by aggressors (takers lifting the ask).
    pub buy_volume: Quantity,
    /// Quantity sold by aggressors (takers hitting the bid).
    pub sell_volume: Quantity,
    /// Cumulative volume delta since the start of the session: bought minus sold.
    pub cumulative_delta: Quantity,
    /// Book imbalance of the latest book, in `[-1, 1]`.
    pub book_imbalance: Option<f64>,
    /// Imbalance of all resting orders, `(buy - sell) / (buy + sell)` in `[-1, 1]`, from the
    /// exchange's total buy and sell quantities (Kite), when it reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resting_imbalance: Option<f64>,
    /// Volume-weighted average price of the session so far.
    pub session_vwap: Option<Price>,
}

impl OrderFlow {
    /// Bought minus sold in this window.
    pub fn delta(&self) -> Quantity {
        self.buy_volume.saturating_sub(self.sell_volume)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn candles_track_high_low_close_and_volume() {
        let mut c = Candle::opening(Timestamp::EPOCH, Timeframe::M1, d("100"), d("1"));
        c.update(d("101.5"), d("2"));
        c.update(d("99.25"), d("0.5"));
        c.update(d("100.10"), d("1"));
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (d("100"), d("101.5"), d("99.25"), d("100.10"))
        );
        assert_eq!((c.volume, c.trades), (d("4.5"), 4));
        assert!(c.is_consistent());
    }

    #[test]
    fn exchange_volumes_add_up_only_where_known() {
        let kline = |minute: i64, volume: &str, quote: Option<&str>| Candle {
            quote_volume: quote.map(d),
            taker_buy_volume: quote.map(|_| d("1")),
            taker_buy_quote_volume: quote.map(|_| d("2")),
            ..Candle::opening(
                Timestamp::from_millis(minute * 60_000),
                Timeframe::M1,
                d("10"),
                d(volume),
            )
        };
        let mut five = kline(0, "3", Some("30"));
        five.absorb(&kline(1, "2", Some("20")));
        assert_eq!(
            (
                five.quote_volume,
                five.taker_buy_volume,
                five.taker_buy_quote_volume
            ),
            (Some(d("50")), Some(d("2")), Some(d("4")))
        );
        // A quiet minute (no volume, nothing reported) adds nothing.
        five.absorb(&kline(2, "0", None));
        assert_eq!(five.quote_volume, Some(d("50")));
        // A minute that traded without the figures makes the sum unknown.
        five.absorb(&kline(3, "1", None));
        assert_eq!((five.quote_volume, five.taker_buy_volume), (None, None));
        // A quiet first minute takes the next one's figures.
        let mut quiet = kline(0, "0", None);
        quiet.absorb(&kline(1, "2", Some("20")));
        assert_eq!(quiet.quote_volume, Some(d("20")));
        // A traded price says nothing of them either; a zero-volume update keeps them.
        let mut c = kline(0, "3", Some("30"));
        c.update(d("11"), Decimal::ZERO);
        assert_eq!(c.quote_volume, Some(d("30")));
        c.update(d("11"), d("1"));
        assert_eq!(c.quote_volume, None);
    }

    #[test]
    fn records_without_the_new_fields_read_back_and_write_the_same() {
        let old = r#"{"ts":"1970-01-01T00:00:00Z","price":"1","volume":"0","bid":"0.5"}"#;
        let tick: Tick = serde_json::from_str(old).unwrap();
        assert_eq!(tick.day, None);
        assert_eq!(serde_json::to_string(&tick).unwrap(), old);
        let old = r#"{"ts":"1970-01-01T00:00:00Z","price":"1","quantity":"2","aggressor":"BUY","trade_id":3}"#;
        let trade: Trade = serde_json::from_str(old).unwrap();
        assert_eq!(trade.first_trade_id, None);
        assert_eq!(serde_json::to_string(&trade).unwrap(), old);
        let old = r#"{"open_time":"1970-01-01T00:00:00Z","timeframe":"1min","open":"1","high":"1","low":"1","close":"1","volume":"0","trades":0}"#;
        let candle: Candle = serde_json::from_str(old).unwrap();
        assert_eq!(candle.quote_volume, None);
        assert_eq!(serde_json::to_string(&candle).unwrap(), old);
    }

    #[test]
    fn book_imbalance_and_mid() {
        let level = |p: &str, q: &str| BookLevel {
            price: d(p),
            quantity: d(q),
            orders: None,
        };
        let book = Book {
            ts: Timestamp::EPOCH,
            bids: vec![level("99", "3"), level("98", "1")],
            asks: vec![level("101", "1"), level("102", "1")],
            update_id: None,
        };
        assert_eq!(book.mid(), Some(d("100")));
        assert!((book.imbalance().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(Book::default().imbalance(), None);
    }
}
