//! `GET /instruments/historical/{token}/{interval}`: the candles a test set, in Kite's format,
//! within Kite's per-interval window limits.

use super::book::KiteFail;
use super::clock;
use crate::venue::VenueBar;
use serde_json::{json, Value};

/// Kite's intervals and the most days one request may span.
const LIMITS: [(&str, i64); 8] = [
    ("minute", 60),
    ("3minute", 100),
    ("5minute", 100),
    ("10minute", 100),
    ("15minute", 200),
    ("30minute", 200),
    ("60minute", 400),
    ("day", 2000),
];

fn input(message: &str) -> KiteFail {
    KiteFail::input(message)
}

/// The candles of `token` at `interval` opening in `[from, to]` (both inclusive, IST
/// `yyyy-mm-dd hh:mm:ss`), as `{"candles": [["2015-12-28T09:15:00+0530", o, h, l, c, v], ...]}`.
/// With `days_by_date`, day candles are chosen by their date only (from's date to to's date,
/// whatever the times say), as Kite may well do: a `from` of 05:30 IST then still answers
/// that day's candle, stamped 00:00 IST.
pub(crate) fn answer(
    series: &[(u32, String, Vec<VenueBar>)],
    days_by_date: bool,
    token: &str,
    interval: &str,
    query: &[(String, String)],
) -> Result<Value, KiteFail> {
    let Some(&(_, days)) = LIMITS.iter().find(|(name, _)| *name == interval) else {
        return Err(input("invalid interval"));
    };
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let from = param("from")
        .and_then(clock::ist_parse)
        .ok_or_else(|| input("invalid from date"))?;
    let to = param("to")
        .and_then(clock::ist_parse)
        .ok_or_else(|| input("invalid to date"))?;
    if from > to {
        return Err(input("from date should be before to date"));
    }
    if to - from > days * 86_400 {
        return Err(input(&format!("interval exceeds max limit: {days} days")));
    }
    let Ok(token) = token.parse::<u32>() else {
        return Err(input("invalid token"));
    };
    let bars = series
        .iter()
        .find(|(t, i, _)| *t == token && i == interval)
        .map_or(&[][..], |(_, _, bars)| bars.as_slice());
    let number = |d: rust_decimal::Decimal| {
        use rust_decimal::prelude::ToPrimitive;
        d.to_f64().map_or(Value::Null, Value::from)
    };
    let candles: Vec<Value> = bars
        .iter()
        .filter(|b| {
            let secs = b.open_time_ms.div_euclid(1000);
            if days_by_date && interval == "day" {
                let day = clock::ist_day(secs);
                return day >= clock::ist_day(from) && day <= clock::ist_day(to);
            }
            secs >= from && secs <= to
        })
        .map(|b| {
            let time = clock::ist_text(b.open_time_ms.div_euclid(1000)).replace(' ', "T") + "+0530";
            let volume = {
                use rust_decimal::prelude::ToPrimitive;
                b.volume.trunc().to_u64().unwrap_or(0)
            };
            json!([
                time,
                number(b.open),
                number(b.high),
                number(b.low),
                number(b.close),
                volume
            ])
        })
        .collect();
    Ok(json!({ "candles": candles }))
}
