//! The payloads of Binance's spot market streams, field for field as documented
//! (<https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams>).
//!
//! Text fields borrow from the frame: no allocation per message. Fields the feed does not use
//! are skipped by serde: `E` (event time: when Binance sent the event; the data carries its own
//! trade or kline time), `M` and `B` ("ignore"), and the kline's `T` (close time: its start plus
//! the interval, less 1 ms), `f` and `L` (first and last trade ids, which the trade stream
//! carries one by one).

use serde::Deserialize;

/// `<symbol>@trade`.
#[derive(Debug, Deserialize)]
pub(super) struct TradeMsg<'a> {
    /// Event type: `trade`.
    #[serde(rename = "e")]
    pub(super) event: &'a str,
    /// Symbol, upper case.
    #[serde(rename = "s")]
    pub(super) symbol: &'a str,
    /// Trade id.
    #[serde(rename = "t")]
    pub(super) id: u64,
    /// Price.
    #[serde(rename = "p")]
    pub(super) price: &'a str,
    /// Quantity.
    #[serde(rename = "q")]
    pub(super) quantity: &'a str,
    /// Trade time, ms.
    #[serde(rename = "T")]
    pub(super) time: i64,
    /// Is the buyer the market maker?
    #[serde(rename = "m")]
    pub(super) buyer_is_maker: bool,
}

/// `<symbol>@aggTrade`.
#[derive(Debug, Deserialize)]
pub(super) struct AggTradeMsg<'a> {
    /// Event type: `aggTrade`.
    #[serde(rename = "e")]
    pub(super) event: &'a str,
    /// Symbol, upper case.
    #[serde(rename = "s")]
    pub(super) symbol: &'a str,
    /// Aggregate trade id.
    #[serde(rename = "a")]
    pub(super) id: u64,
    /// Price.
    #[serde(rename = "p")]
    pub(super) price: &'a str,
    /// Quantity.
    #[serde(rename = "q")]
    pub(super) quantity: &'a str,
    /// First trade id.
    #[serde(rename = "f")]
    pub(super) first_trade_id: u64,
    /// Last trade id.
    #[serde(rename = "l")]
    pub(super) last_trade_id: u64,
    /// Trade time, ms.
    #[serde(rename = "T")]
    pub(super) time: i64,
    /// Is the buyer the market maker?
    #[serde(rename = "m")]
    pub(super) buyer_is_maker: bool,
}

/// `<symbol>@kline_<interval>`.
#[derive(Debug, Deserialize)]
pub(super) struct KlineMsg<'a> {
    /// Event type: `kline`.
    #[serde(rename = "e")]
    pub(super) event: &'a str,
    /// Symbol, upper case.
    #[serde(rename = "s")]
    pub(super) symbol: &'a str,
    /// The kline.
    #[serde(rename = "k", borrow)]
    pub(super) kline: Kline<'a>,
}

/// The `k` object of a kline event.
#[derive(Debug, Deserialize)]
pub(super) struct Kline<'a> {
    /// Start time, ms.
    #[serde(rename = "t")]
    pub(super) open_time: i64,
    /// Interval (`1m`).
    #[serde(rename = "i")]
    pub(super) interval: &'a str,
    /// Open price.
    #[serde(rename = "o")]
    pub(super) open: &'a str,
    /// Close price.
    #[serde(rename = "c")]
    pub(super) close: &'a str,
    /// High price.
    #[serde(rename = "h")]
    pub(super) high: &'a str,
    /// Low price.
    #[serde(rename = "l")]
    pub(super) low: &'a str,
    /// Base asset volume.
    #[serde(rename = "v")]
    pub(super) volume: &'a str,
    /// Number of trades.
    #[serde(rename = "n")]
    pub(super) trades: u64,
    /// Quote asset volume.
    #[serde(rename = "q", default, borrow)]
    pub(super) quote_volume: Option<&'a str>,
    /// Taker buy base asset volume.
    #[serde(rename = "V", default, borrow)]
    pub(super) taker_buy_volume: Option<&'a str>,
    /// Taker buy quote asset volume.
    #[serde(rename = "Q", default, borrow)]
    pub(super) taker_buy_quote_volume: Option<&'a str>,
    /// Is this kline closed?
    #[serde(rename = "x")]
    pub(super) closed: bool,
}

/// `<symbol>@depth<levels>[@100ms]`: a partial book snapshot (no event type, no symbol).
#[derive(Debug, Deserialize)]
pub(super) struct DepthMsg<'a> {
    /// Last update id.
    #[serde(rename = "lastUpdateId")]
    pub(super) last_update_id: u64,
    /// `[price, quantity]`, best first.
    #[serde(borrow)]
    pub(super) bids: Vec<[&'a str; 2]>,
    /// `[price, quantity]`, best first.
    #[serde(borrow)]
    pub(super) asks: Vec<[&'a str; 2]>,
}
