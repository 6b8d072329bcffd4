//! The candle aggregator of a bot (the engine's, the ingest's): longer candles joined in
//! progress are dropped ([`JoinedCandles::Drop`]), and after a restart the minutes the hot cache
//! kept of the candles still in progress are given back, so that those come out whole.

use tradegraph_core::{Candle, Instrument, Timeframe, Timestamp};
use tradegraph_market::aggregate::{
    bucket_start, AggregatorPolicy, CandleAggregator, EmptyMinutes, JoinedCandles,
};
use tradegraph_store::HotCache;

/// Stored minutes resume the candles in progress only when the last of them ended at most this
/// long before now: a bot away longer missed minutes of them, which stay unknown (those
/// candles are dropped).
const RESUME_REACH_MS: i64 = 2 * 60_000;

/// A day of minutes, and a few more: the longest candle in progress (the day) at most.
const DAY_OF_MINUTES: usize = 24 * 60 + 5;

/// The aggregator of a bot on `instrument`; with `now` (a bot on the wall clock, or a worker
/// taking a job over at its start), resumed from the minutes `hot` kept of the candles in
/// progress at `now`.
pub(crate) async fn aggregator(
    instrument: &Instrument,
    hot: &dyn HotCache,
    now: Option<Timestamp>,
    empty: EmptyMinutes,
) -> CandleAggregator {
    let policy = AggregatorPolicy {
        joined: JoinedCandles::Drop,
        empty_minutes: empty,
    };
    let mut aggregator = CandleAggregator::with_policy(
        instrument.symbol.clone(),
        instrument.session.clone(),
        policy,
    );
    let Some(now) = now else {
        return aggregator;
    };
    let symbol = &instrument.symbol;
    let stored = match hot
        .recent_candles(symbol, Timeframe::M1, DAY_OF_MINUTES)
        .await
    {
        Ok(stored) => stored,
        Err(e) => {
            tracing::warn!(%symbol, error = %e, "store: the candles in progress are not resumed from the hot cache; those begun before the start are dropped");
            return aggregator;
        }
    };
    let minutes = in_progress(&instrument.session, stored, now);
    if !minutes.is_empty() {
        tracing::info!(%symbol, minutes = minutes.len(), from = %minutes[0].open_time, "the candles in progress resumed from the hot cache");
        aggregator.resume(&minutes);
    }
    aggregator
}

/// The minutes of `stored` that belong to the candles in progress at `now` (from the start of
/// the day's candle) and ended before it, when they reach up to `now`; none otherwise. (A
/// worker's `now` is its job's first event, a minute that ended then: the job brings it.)
fn in_progress(
    session: &tradegraph_core::TradingSession,
    mut stored: Vec<Candle>,
    now: Timestamp,
) -> Vec<Candle> {
    let Some((day_start, _)) = bucket_start(session, Timeframe::D1, now) else {
        return Vec::new();
    };
    stored.retain(|c| c.open_time >= day_start && c.open_time.add_millis(60_000) < now);
    stored.sort_by_key(|c| c.open_time);
    let reaches = stored
        .last()
        .is_some_and(|last| last.open_time.add_millis(60_000 + RESUME_REACH_MS) >= now);
    if reaches {
        stored
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_store::MemoryHotCache;

    fn minute(at: &str, price: i64) -> Candle {
        Candle::opening(at.parse().unwrap(), Timeframe::M1, price.into(), 1.into())
    }

    /// Restarted at 14:07 after a fall from 110 to 104 in 14:00-14:06: the 14:00 quarter-hour
    /// the restarted bot closes holds the fall (it was its last minutes only).
    #[tokio::test]
    async fn a_restart_resumes_the_candles_in_progress_from_the_hot_cache() {
        let btc = Instrument::btc_usdt();
        let hot = MemoryHotCache::new();
        for (m, price) in [110, 109, 108, 107, 106, 105, 104].into_iter().enumerate() {
            let at = format!("2024-01-01T14:0{m}:00Z");
            hot.put_candle(&btc.symbol, &minute(&at, price))
                .await
                .unwrap();
        }
        let now: Timestamp = "2024-01-01T14:07:30Z".parse().unwrap();
        let mut agg = aggregator(&btc, &hot, Some(now), EmptyMinutes::Fill).await;
        let mut out = Vec::new();
        agg.on_price(now, 103.into(), 1.into(), None, &mut out);
        agg.advance("2024-01-01T14:15:00Z".parse().unwrap(), &mut out);
        let quarter = out.iter().find(|c| c.timeframe == Timeframe::M15).unwrap();
        assert_eq!(quarter.open, 110.into(), "{quarter:?}");
        assert_eq!(quarter.high, 110.into());
        assert_eq!(quarter.low, 103.into());
        // Away for longer (the last stored minute is 14:06, the start 14:37): nothing is
        // resumed, and the candles begun before the start are dropped.
        let later: Timestamp = "2024-01-01T14:37:30Z".parse().unwrap();
        let mut agg = aggregator(&btc, &hot, Some(later), EmptyMinutes::Fill).await;
        let mut out = Vec::new();
        agg.on_price(later, 103.into(), 1.into(), None, &mut out);
        agg.advance("2024-01-01T15:00:00Z".parse().unwrap(), &mut out);
        let quarters: Vec<_> = out
            .iter()
            .filter(|c| c.timeframe == Timeframe::M15)
            .collect();
        assert_eq!(quarters.len(), 1, "{quarters:#?}");
        assert_eq!(
            quarters[0].open_time,
            "2024-01-01T14:45:00Z".parse().unwrap()
        );
        assert!(out.iter().all(|c| c.timeframe != Timeframe::H1), "{out:#?}");
    }
}
