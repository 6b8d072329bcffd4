//! The commands behind the hot cache: pipelined writes, and reading the last N entries of an
//! index.

use super::value::{encode_candle, encode_tick};
use super::{run, Conn, Keys};
use crate::{HotLimits, LatestPrice, StoreError};
use redis::Pipeline;
use std::time::Duration;
use tradegraph_core::{Candle, Symbol, Tick, Timestamp};

/// A script whose body reads `now`, the server's clock in milliseconds (so that every process
/// sharing the keys agrees on time), defined before it.
pub(crate) fn at_server_time(body: &str) -> redis::Script {
    redis::Script::new(&format!(
        "local t = redis.call('TIME')\n\
         local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n{body}"
    ))
}

/// Values read per `MGET`.
const MGET_CHUNK: usize = 500;

/// The newest `n` members of the index `index` with their scores, and the values of the keys
/// `stem + member`, skipping expired ones: `(key, score, value)`, oldest first. Two round trips (the
/// index, then the values): no script builds a key name, so this runs unchanged on a Redis
/// Cluster, where the index and its keys share the instrument's hash tag and so one node.
pub(crate) async fn recent(
    conn: &Conn,
    operation: &'static str,
    timeout: Duration,
    index: &str,
    stem: &str,
    n: usize,
) -> Result<Vec<(String, f64, Vec<u8>)>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut conn = conn.clone();
    let first = i64::try_from(n).map_or(i64::MIN, |n| -n);
    let entries: Vec<(String, f64)> = run(
        operation,
        timeout,
        redis::cmd("ZRANGE")
            .arg(index)
            .arg(first)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn),
    )
    .await?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = entries.iter().map(|(m, _)| format!("{stem}{m}")).collect();
    let mut pipe = redis::pipe();
    for chunk in keys.chunks(MGET_CHUNK) {
        pipe.cmd("MGET").arg(chunk);
    }
    let values: Vec<Vec<Option<Vec<u8>>>> =
        run(operation, timeout, pipe.query_async(&mut conn)).await?;
    Ok(entries
        .into_iter()
        .zip(keys)
        .zip(values.into_iter().flatten())
        .filter_map(|(((_, score), key), value)| value.map(|v| (key, score, v)))
        .collect())
}

fn secs(d: std::time::Duration) -> u64 {
    d.as_secs().max(1)
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Adds an index entry and keeps the index within the window and the cap.
pub(crate) fn index(pipe: &mut Pipeline, key: &str, score: i64, member: &str, limits: &HotLimits) {
    let cap = i64::try_from(limits.max_entries).unwrap_or(i64::MAX).max(1);
    pipe.zadd(key, member, score).ignore();
    pipe.cmd("ZREMRANGEBYSCORE")
        .arg(key)
        .arg("-inf")
        .arg(format!("({}", score.saturating_sub(millis(limits.window))))
        .ignore();
    pipe.cmd("ZREMRANGEBYRANK")
        .arg(key)
        .arg(0)
        .arg(-cap - 1)
        .ignore();
    pipe.expire(key, i64::try_from(secs(limits.window)).unwrap_or(i64::MAX))
        .ignore();
}

/// The latest price and its time, 5 minutes each (a tick's or one put alone: the same keys).
pub(crate) fn latest(
    pipe: &mut Pipeline,
    keys: &Keys,
    instrument: &Symbol,
    latest: &LatestPrice,
    limits: &HotLimits,
) {
    let ttl = secs(limits.latest_ttl);
    pipe.set_ex(keys.latest(instrument), latest.price.to_string(), ttl)
        .ignore();
    pipe.set_ex(keys.latest_ts(instrument), latest.ts.to_string(), ttl)
        .ignore();
}

/// The tick under its second; returns its index entry `(index key, score, member)`.
pub(crate) fn tick(
    pipe: &mut Pipeline,
    keys: &Keys,
    instrument: &Symbol,
    tick: &Tick,
    limits: &HotLimits,
) -> (String, i64, String) {
    let second = Timestamp::from_secs(tick.ts.secs());
    pipe.set_ex(
        keys.tick(instrument, second),
        encode_tick(tick),
        secs(limits.window),
    )
    .ignore();
    (
        keys.tick_index(instrument),
        second.millis(),
        second.compact(),
    )
}

/// The candle under its open time; returns its index entry `(index key, score, member)`.
pub(crate) fn candle(
    pipe: &mut Pipeline,
    keys: &Keys,
    instrument: &Symbol,
    candle: &Candle,
    limits: &HotLimits,
) -> (String, i64, String) {
    let key = keys.ohlc(instrument, candle.timeframe, candle.open_time);
    pipe.set_ex(key, encode_candle(candle), secs(limits.window))
        .ignore();
    (
        keys.ohlc_index(instrument, candle.timeframe),
        candle.open_time.millis(),
        candle.open_time.compact(),
    )
}
