//! Keeping a [`MarketSnapshot`] current from a feed's events.

use crate::MarketSnapshot;
use std::collections::{BTreeMap, VecDeque};
use tradegraph_core::{Candle, Timeframe, TradingSession};
use tradegraph_market::flow::OrderFlowTracker;
use tradegraph_market::indicators::{IndicatorConfig, IndicatorSet};
use tradegraph_market::{MarketError, MarketEvent};

/// Folds market events (with the aggregator's closed candles, see
/// [`with_candles`](tradegraph_market::aggregate::with_candles)) into the snapshot the agents
/// read: the last `keep` closed candles and the indicators of every timeframe, the latest book,
/// the session's order flow and the last price. Only what has happened is in it, so a snapshot
/// taken at any point of a replay is what a trader could have known then.
#[derive(Debug)]
pub struct SnapshotBuilder {
    keep: usize,
    config: IndicatorConfig,
    indicators: BTreeMap<Timeframe, IndicatorSet>,
    /// The last `keep` closed candles per timeframe (a ring: a new minute drops the oldest
    /// without moving the rest); [`snapshot`](Self::snapshot) lays them out.
    candles: BTreeMap<Timeframe, VecDeque<Candle>>,
    flow: OrderFlowTracker,
    /// Everything else the snapshot holds (its `candles` stay empty here).
    snapshot: MarketSnapshot,
}

impl SnapshotBuilder {
    /// A builder keeping `keep` candles per timeframe, with the default indicator settings.
    pub fn new(session: TradingSession, keep: usize) -> Self {
        Self {
            keep: keep.max(1),
            config: IndicatorConfig::default(),
            indicators: BTreeMap::new(),
            candles: BTreeMap::new(),
            flow: OrderFlowTracker::new(session),
            snapshot: MarketSnapshot::default(),
        }
    }

    /// Folds one event in. Returns the candle when the event is a closed candle.
    ///
    /// # Errors
    /// [`MarketError`] when the indicator settings are invalid (only with a custom config).
    pub fn on_event(&mut self, event: &MarketEvent) -> Result<Option<Candle>, MarketError> {
        self.flow.on_event(event);
        match event {
            MarketEvent::Trade { trade, .. } => self.price(trade.price, trade.ts),
            MarketEvent::Tick { tick, .. } => self.price(tick.price, tick.ts),
            MarketEvent::Book { book, .. } => self.snapshot.book = Some(book.clone()),
            MarketEvent::Candle {
                candle,
                closed: true,
                ..
            } => {
                self.on_candle(candle)?;
                return Ok(Some(candle.clone()));
            }
            _ => {}
        }
        Ok(None)
    }

    fn price(&mut self, price: rust_decimal::Decimal, ts: tradegraph_core::Timestamp) {
        self.snapshot.price = price;
        self.snapshot.as_of = self.snapshot.as_of.max(ts);
    }

    fn on_candle(&mut self, candle: &Candle) -> Result<(), MarketError> {
        // A candle the view already has (a restarted bot's warm-up, then the feed again) or an
        // older one is not counted twice.
        let seen = self
            .candles
            .get(&candle.timeframe)
            .and_then(VecDeque::back)
            .is_some_and(|last| last.open_time >= candle.open_time);
        if seen {
            return Ok(());
        }
        let set = match self.indicators.entry(candle.timeframe) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(IndicatorSet::new(self.config)?)
            }
        };
        self.snapshot
            .indicators
            .insert(candle.timeframe, set.update_candle(candle));
        let list = self.candles.entry(candle.timeframe).or_default();
        if list.len() >= self.keep {
            list.pop_front();
        }
        list.push_back(candle.clone());
        let end = candle.open_time.add_millis(candle.timeframe.millis());
        if end >= self.snapshot.as_of {
            self.snapshot.as_of = end;
            self.snapshot.price = candle.close;
        }
        Ok(())
    }

    /// The snapshot as of now, with the session's order flow once trades or ticks have come
    /// (a feed of candles alone has none).
    pub fn snapshot(&self) -> MarketSnapshot {
        let mut snapshot = self.snapshot.clone();
        snapshot.candles = self
            .candles
            .iter()
            .map(|(timeframe, list)| (*timeframe, list.iter().cloned().collect()))
            .collect();
        if self.flow.stats().sessions > 0 {
            snapshot.flow = Some(self.flow.session());
        }
        snapshot
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal::Decimal;
    use tradegraph_core::Timestamp;

    fn closed(minute: i64, price: i64) -> MarketEvent {
        MarketEvent::Candle {
            symbol: "BTCUSDT".into(),
            candle: Candle::opening(
                Timestamp::from_millis(minute * 60_000),
                Timeframe::M1,
                Decimal::from(price),
                Decimal::ONE,
            ),
            closed: true,
        }
    }

    fn window(builder: &SnapshotBuilder) -> Vec<(i64, Decimal)> {
        builder
            .snapshot()
            .candles(Timeframe::M1)
            .iter()
            .map(|c| (c.open_time.millis() / 60_000, c.close))
            .collect()
    }

    #[test]
    fn the_window_keeps_the_newest_candles_in_order_and_skips_seen_ones() {
        let mut builder = SnapshotBuilder::new(TradingSession::AlwaysOpen, 3);
        assert!(
            builder.snapshot().candles.is_empty(),
            "no timeframe before a candle"
        );
        for minute in 0..5 {
            builder.on_event(&closed(minute, 100 + minute)).unwrap();
        }
        let newest = vec![
            (2, Decimal::from(102)),
            (3, Decimal::from(103)),
            (4, Decimal::from(104)),
        ];
        assert_eq!(window(&builder), newest);
        // the last minute again (a restart's warm-up, then the feed) and an older one
        builder.on_event(&closed(4, 999)).unwrap();
        builder.on_event(&closed(1, 999)).unwrap();
        assert_eq!(window(&builder), newest, "neither is counted again");
        builder.on_event(&closed(5, 105)).unwrap();
        assert_eq!(
            window(&builder),
            [
                (3, Decimal::from(103)),
                (4, Decimal::from(104)),
                (5, Decimal::from(105))
            ]
        );
        let snapshot = builder.snapshot();
        assert_eq!(snapshot.price, Decimal::from(105));
        assert_eq!(snapshot.as_of, Timestamp::from_millis(6 * 60_000));
        assert_eq!(
            snapshot.candles.len(),
            1,
            "only the timeframe that had candles"
        );
    }
}
