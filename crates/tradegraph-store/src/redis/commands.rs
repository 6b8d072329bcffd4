//! The commands behind the hot cache: pipelined writes, and one script that reads the last N
//! entries of an index in a single round trip.

use super::value::{encode_candle, encode_tick};
use super::Keys;
use crate::{HotLimits, LatestPrice};
use redis::{Pipeline, Script};
use std::sync::LazyLock;
use tradegraph_core::{Candle, Symbol, Tick, Timestamp};

/// Reads the newest `ARGV[2]` members of the index `KEYS[1]` and the values of the keys
/// `ARGV[1] .. member`, skipping expired ones. Returns `[score, value, score, value, ...]`,
/// oldest first.
static RECENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local entries = redis.call('ZRANGE', KEYS[1], -tonumber(ARGV[2]), -1, 'WITHSCORES')
local out = {}
local chunk = 500
for start = 1, #entries, 2 * chunk do
  local keys, scores = {}, {}
  for i = start, math.min(start + 2 * chunk - 1, #entries), 2 do
    keys[#keys + 1] = ARGV[1] .. entries[i]
    scores[#scores + 1] = entries[i + 1]
  end
  local values = redis.call('MGET', unpack(keys))
  for i = 1, #keys do
    if values[i] then
      out[#out + 1] = scores[i]
      out[#out + 1] = values[i]
    end
  end
end
return out
",
    )
});

pub(crate) fn recent_script() -> &'static Script {
    &RECENT
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
