//! The values stored under the hot-cache keys.
//!
//! A candle is JSON with decimal strings, exact and readable with `GET`:
//! `{"open":"45000.5","high":"45100","low":"44990","close":"45050.25","volume":"12.5","trades":310}`,
//! with an exchange's kline's `quote_volume`, `taker_buy_volume` and `taker_buy_quote_volume`
//! when it gave them.
//! A tick is the domain [`Tick`] as JSON: `{"ts":"2024-01-01T10:00:00.250Z","price":"45000.5",
//! "volume":"0.1","bid":"45000.4","ask":"45000.6",...}`.

use crate::StoreError;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Candle, Quantity, Tick, Timeframe, Timestamp};

#[derive(Serialize, Deserialize)]
struct Ohlc {
    open: tradegraph_core::Price,
    high: tradegraph_core::Price,
    low: tradegraph_core::Price,
    close: tradegraph_core::Price,
    volume: Quantity,
    #[serde(default)]
    trades: u64,
    /// An exchange's kline's figures, when it gave them (absent otherwise: the
    /// specification's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quote_volume: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taker_buy_volume: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taker_buy_quote_volume: Option<Quantity>,
}

pub(crate) fn encode_candle(candle: &Candle) -> String {
    let ohlc = Ohlc {
        open: candle.open,
        high: candle.high,
        low: candle.low,
        close: candle.close,
        volume: candle.volume,
        trades: candle.trades,
        quote_volume: candle.quote_volume,
        taker_buy_volume: candle.taker_buy_volume,
        taker_buy_quote_volume: candle.taker_buy_quote_volume,
    };
    // Decimals and integers always serialize.
    serde_json::to_string(&ohlc).unwrap_or_default()
}

pub(crate) fn decode_candle(
    key: &str,
    timeframe: Timeframe,
    open_time: Timestamp,
    json: &[u8],
) -> Result<Candle, StoreError> {
    let o: Ohlc = serde_json::from_slice(json).map_err(|e| StoreError::decode(key, e))?;
    Ok(Candle {
        open_time,
        timeframe,
        open: o.open,
        high: o.high,
        low: o.low,
        close: o.close,
        volume: o.volume,
        trades: o.trades,
        quote_volume: o.quote_volume,
        taker_buy_volume: o.taker_buy_volume,
        taker_buy_quote_volume: o.taker_buy_quote_volume,
    })
}

pub(crate) fn encode_tick(tick: &Tick) -> String {
    serde_json::to_string(tick).unwrap_or_default()
}

pub(crate) fn decode_tick(key: &str, json: &[u8]) -> Result<Tick, StoreError> {
    serde_json::from_slice(json).map_err(|e| StoreError::decode(key, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candles_are_json_with_exact_decimal_strings() {
        let mut c = Candle::opening(
            Timestamp::from_secs(60),
            Timeframe::M1,
            "45000.50".parse().unwrap(),
            "0.1".parse().unwrap(),
        );
        c.update("45100".parse().unwrap(), "1.25".parse().unwrap());
        let json = encode_candle(&c);
        assert_eq!(
            json,
            r#"{"open":"45000.50","high":"45100","low":"45000.50","close":"45100","volume":"1.35","trades":2}"#
        );
        let back = decode_candle("k", Timeframe::M1, c.open_time, json.as_bytes()).unwrap();
        assert_eq!(back, c);
        let err = decode_candle("ohlc:X:1min:T", Timeframe::M1, c.open_time, b"{}").unwrap_err();
        assert!(err.to_string().contains("ohlc:X:1min:T"), "{err}");
        // a kline's figures come back
        let mut kline = c.clone();
        kline.quote_volume = Some("60750.5".parse().unwrap());
        kline.taker_buy_volume = Some("0.7".parse().unwrap());
        kline.taker_buy_quote_volume = Some("31520.35".parse().unwrap());
        let json = encode_candle(&kline);
        assert!(json.contains(r#""taker_buy_volume":"0.7""#), "{json}");
        let back = decode_candle("k", Timeframe::M1, c.open_time, json.as_bytes()).unwrap();
        assert_eq!(back, kline);
    }

    #[test]
    fn ticks_round_trip() {
        let mut t = Tick::new(
            Timestamp::from_millis(1_704_103_200_250),
            "45000.5".parse().unwrap(),
            "0.1".parse().unwrap(),
        );
        t.bid = Some("45000.4".parse().unwrap());
        let json = encode_tick(&t);
        assert!(
            json.starts_with(r#"{"ts":"2024-01-01T10:00:00.250Z","price":"45000.5""#),
            "{json}"
        );
        assert_eq!(decode_tick("k", json.as_bytes()).unwrap(), t);
    }
}
