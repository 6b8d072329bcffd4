//! Records as MongoDB documents: the specification's fields, with decimals (prices,
//! quantities, money) as `Decimal128` and times as BSON dates, so that they stay exact and sort,
//! filter and chart as numbers and dates in mongosh, Compass or Grafana.

use crate::StoreError;
use mongodb::bson::{self, doc, Bson, DateTime, Decimal128, Document};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::str::FromStr;
use tradegraph_core::{Candle, Decimal, Symbol, Timeframe, Timestamp};

/// Decimal and date fields of each record type.
pub(crate) struct Shape {
    pub(crate) decimals: &'static [&'static str],
    pub(crate) times: &'static [&'static str],
}

pub(crate) const DECISION: Shape = Shape {
    decimals: &[],
    times: &["timestamp"],
};
pub(crate) const LESSON: Shape = Shape {
    decimals: &[],
    times: &["timestamp"],
};
pub(crate) const ALERT: Shape = Shape {
    decimals: &[],
    times: &["timestamp"],
};
pub(crate) const PROMPT: Shape = Shape {
    decimals: &[],
    times: &["timestamp"],
};
pub(crate) const OPERATOR_ACTION: Shape = Shape {
    decimals: &[],
    times: &["timestamp"],
};
pub(crate) const TRADE: Shape = Shape {
    decimals: &[
        "entry_price",
        "quantity",
        "stop_loss",
        "take_profit",
        "exit_price",
        "realized_pnl",
    ],
    times: &["entry_timestamp", "exit_timestamp"],
};

pub(crate) fn date(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.millis())
}

pub(crate) fn decimal(what: &str, d: Decimal) -> Result<Bson, StoreError> {
    Decimal128::from_str(&d.to_string())
        .map(Bson::Decimal128)
        .map_err(|e| StoreError::encode(what, format!("{d} as Decimal128: {e}")))
}

fn parse_decimal(what: &str, d: &Decimal128) -> Result<Decimal, StoreError> {
    let text = d.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|e| StoreError::decode(what, format!("Decimal128 {text}: {e}")))
}

/// A record as a document, with its decimals and times converted.
pub(crate) fn to_doc<T: Serialize>(
    value: &T,
    what: &str,
    shape: &Shape,
) -> Result<Document, StoreError> {
    let mut doc = bson::to_document(value).map_err(|e| StoreError::encode(what, e))?;
    for &field in shape.decimals {
        if let Some(Bson::String(text)) = doc.get(field) {
            let d = Decimal::from_str(text)
                .map_err(|e| StoreError::encode(what, format!("{field}: {e}")))?;
            doc.insert(field, decimal(what, d)?);
        }
    }
    for &field in shape.times {
        if let Some(Bson::String(text)) = doc.get(field) {
            let t = Timestamp::from_str(text)
                .map_err(|e| StoreError::encode(what, format!("{field}: {e}")))?;
            doc.insert(field, date(t));
        }
    }
    Ok(doc)
}

/// The version field of the history and log documents: see the write-behind queue.
pub(crate) const VERSION: &str = "_v";

/// A document back as a record (`_id` and the version dropped).
pub(crate) fn from_doc<T: DeserializeOwned>(
    mut doc: Document,
    what: &str,
    shape: &Shape,
) -> Result<T, StoreError> {
    doc.remove("_id");
    doc.remove(VERSION);
    for &field in shape.decimals {
        if let Some(Bson::Decimal128(d)) = doc.get(field) {
            let text = parse_decimal(what, d)?.to_string();
            doc.insert(field, text);
        }
    }
    for &field in shape.times {
        if let Some(Bson::DateTime(t)) = doc.get(field) {
            let millis = t.timestamp_millis();
            doc.insert(field, millis);
        }
    }
    bson::from_document(doc).map_err(|e| StoreError::decode(what, e))
}

/// The filter selecting a candle's document: the unique key.
pub(crate) fn candle_key(
    instrument: &Symbol,
    timeframe: Timeframe,
    open_time: Timestamp,
) -> Document {
    doc! { "instrument": instrument.as_str(), "timeframe": timeframe.key(), "timestamp": date(open_time) }
}

/// `{instrument, timestamp, timeframe, open, high, low, close, volume}` plus `trades`, and an
/// exchange's kline's `quote_volume`, `taker_buy_volume` and `taker_buy_quote_volume` when it
/// gave them.
pub(crate) fn candle_doc(instrument: &Symbol, c: &Candle) -> Result<Document, StoreError> {
    let what = "ohlc_history";
    let mut doc = doc! {
        "instrument": instrument.as_str(),
        "timestamp": date(c.open_time),
        "timeframe": c.timeframe.key(),
        "open": decimal(what, c.open)?,
        "high": decimal(what, c.high)?,
        "low": decimal(what, c.low)?,
        "close": decimal(what, c.close)?,
        "volume": decimal(what, c.volume)?,
        "trades": i64::try_from(c.trades).unwrap_or(i64::MAX),
    };
    for (field, value) in [
        ("quote_volume", c.quote_volume),
        ("taker_buy_volume", c.taker_buy_volume),
        ("taker_buy_quote_volume", c.taker_buy_quote_volume),
    ] {
        if let Some(value) = value {
            doc.insert(field, decimal(what, value)?);
        }
    }
    Ok(doc)
}

pub(crate) fn candle_from(doc: &Document) -> Result<Candle, StoreError> {
    // which document, as far as it says
    let what = format!(
        "ohlc_history document of {} {} at {}",
        doc.get_str("instrument").unwrap_or("?"),
        doc.get_str("timeframe").unwrap_or("?"),
        doc.get_datetime("timestamp")
            .map_or_else(|_| "?".to_owned(), |t| t.to_string()),
    );
    let what = what.as_str();
    let bad =
        |field: &str, e: &dyn std::fmt::Display| StoreError::decode(what, format!("{field}: {e}"));
    let dec = |field: &str| match doc.get(field) {
        Some(Bson::Decimal128(d)) => parse_decimal(what, d),
        Some(Bson::Double(f)) => Decimal::try_from(*f).map_err(|e| bad(field, &e)),
        Some(Bson::String(s)) => Decimal::from_str(s).map_err(|e| bad(field, &e)),
        other => Err(bad(field, &format!("expected a decimal, found {other:?}"))),
    };
    let optional = |field: &str| match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => dec(field).map(Some),
    };
    Ok(Candle {
        open_time: Timestamp::from_millis(
            doc.get_datetime("timestamp")
                .map_err(|e| bad("timestamp", &e))?
                .timestamp_millis(),
        ),
        timeframe: Timeframe::from_str(doc.get_str("timeframe").map_err(|e| bad("timeframe", &e))?)
            .map_err(|e| bad("timeframe", &e))?,
        open: dec("open")?,
        high: dec("high")?,
        low: dec("low")?,
        close: dec("close")?,
        volume: dec("volume")?,
        trades: trade_count(doc).map_err(|e| bad("trades", &e))?,
        quote_volume: optional("quote_volume")?,
        taker_buy_volume: optional("taker_buy_volume")?,
        taker_buy_quote_volume: optional("taker_buy_quote_volume")?,
    })
}

/// A candle's trade count as any tool writes it: a 64- or 32-bit integer (mongosh and pymongo
/// write small numbers as 32-bit), or an integral double (JavaScript); none (or null) is 0.
fn trade_count(doc: &Document) -> Result<u64, String> {
    let negative = |n: i64| format!("{n} is negative");
    match doc.get("trades") {
        None | Some(Bson::Null) => Ok(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).map_err(|_| negative(*n)),
        Some(Bson::Int32(n)) => u64::try_from(*n).map_err(|_| negative(i64::from(*n))),
        // Exactly an integer, and within what a double holds exactly.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(Bson::Double(f))
            if f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(f) =>
        {
            Ok(*f as u64)
        }
        Some(other) => Err(format!("expected a whole number of trades, found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentDecision, TradeRecord};
    use tradegraph_core::Side;

    #[test]
    fn trades_store_decimals_and_dates_and_come_back_equal() {
        let at = Timestamp::from_millis(1_704_103_200_250);
        let mut t = TradeRecord::new(
            "t-1",
            "BTCUSDT".into(),
            Side::Buy,
            at,
            "45000.50".parse().unwrap(),
            "0.00000001".parse().unwrap(),
        );
        t.agent_decisions.insert(
            "risk".into(),
            AgentDecision::new("APPROVE", 0.9, "within limits"),
        );
        t.realized_pnl = Some("-12.5".parse().unwrap());
        let doc = to_doc(&t, "t", &TRADE).unwrap();
        assert_eq!(
            doc.get("entry_price"),
            Some(&Bson::Decimal128("45000.50".parse().unwrap()))
        );
        assert_eq!(
            doc.get("entry_timestamp"),
            Some(&Bson::DateTime(DateTime::from_millis(at.millis())))
        );
        assert_eq!(doc.get_str("status").unwrap(), "open");
        assert!(doc.get("exit_price").is_none());
        let back: TradeRecord = from_doc(doc, "t", &TRADE).unwrap();
        assert_eq!(back, t);
    }

    /// Extra fields named like the document's own `_id` and version come back, and neither
    /// becomes the document's id nor is overwritten by the version the write adds.
    #[test]
    fn extras_named_like_the_documents_own_fields_come_back() {
        let mut d = crate::DecisionRecord::new("BTCUSDT".into(), Timestamp::from_millis(60_000));
        d.extra.insert("_id".into(), "theirs".into());
        d.extra.insert("_v".into(), 1.into());
        let mut doc = to_doc(&d, "d", &DECISION).unwrap();
        assert!(doc.get("_id").is_none(), "{doc}");
        doc.insert(VERSION, 99_i64);
        let back: crate::DecisionRecord = from_doc(doc, "d", &DECISION).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn candles_round_trip() {
        let c = Candle::opening(
            Timestamp::from_secs(60),
            Timeframe::M15,
            "1.5".parse().unwrap(),
            "2".parse().unwrap(),
        );
        let doc = candle_doc(&Symbol::new("NIFTY50"), &c).unwrap();
        assert_eq!(doc.get_str("timeframe").unwrap(), "15min");
        assert_eq!(candle_from(&doc).unwrap(), c);
        assert!(!doc.contains_key("quote_volume"), "{doc}");
        // a kline's figures come back
        let mut kline = c.clone();
        kline.quote_volume = Some("3.25".parse().unwrap());
        kline.taker_buy_volume = Some("1.125".parse().unwrap());
        kline.taker_buy_quote_volume = Some("1.6875".parse().unwrap());
        let mut doc = candle_doc(&Symbol::new("BTCUSDT"), &kline).unwrap();
        assert_eq!(candle_from(&doc).unwrap(), kline);
        // a trade count written by another tool (mongosh, pymongo: a 32-bit integer for a
        // small number, a double from JavaScript) is read, not taken for 0; a bad one is named
        for count in [Bson::Int32(310), Bson::Int64(310), Bson::Double(310.0)] {
            doc.insert("trades", count.clone());
            assert_eq!(candle_from(&doc).unwrap().trades, 310, "{count:?}");
        }
        doc.remove("trades");
        assert_eq!(candle_from(&doc).unwrap().trades, 0, "none said");
        for bad in [
            Bson::Int32(-1),
            Bson::Double(1.5),
            Bson::String("many".into()),
        ] {
            doc.insert("trades", bad.clone());
            let err = candle_from(&doc).unwrap_err().to_string();
            assert!(err.contains("trades"), "{bad:?}: {err}");
        }
        doc.insert("trades", 310_i64);
        // a bad one is named
        doc.insert("open", "abc");
        let err = candle_from(&doc).unwrap_err().to_string();
        assert!(err.contains("BTCUSDT 15min at 1970-01-01"), "{err}");
        assert!(err.contains("open"), "{err}");
    }
}
