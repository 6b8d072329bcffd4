//! Writes held back while Redis is away, to be written when it returns. Keyed like Redis
//! (one tick per second, one candle per open time), so a long outage costs at most one entry per
//! key; bounded, dropping the oldest ticks first.

use std::collections::{BTreeMap, HashMap, HashSet};
use tradegraph_core::{Candle, Symbol, Tick, Timeframe};

#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Instruments whose latest price changed.
    pub(crate) latest: HashSet<Symbol>,
    /// By (second, instrument): the oldest come first.
    pub(crate) ticks: BTreeMap<(i64, Symbol), Tick>,
    pub(crate) candles: HashMap<(Symbol, Timeframe, i64), Candle>,
    /// Entries dropped because the buffer was full.
    pub(crate) dropped: u64,
}

impl Pending {
    pub(crate) fn len(&self) -> usize {
        self.ticks.len() + self.candles.len() + self.latest.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The instrument's latest price changed: the writer writes the newest one it holds then.
    pub(crate) fn latest(&mut self, instrument: &Symbol, cap: usize) {
        self.latest.insert(instrument.clone());
        self.bound(cap);
    }

    /// A tick under its second (the latest price is recorded apart, with [`Self::latest`]).
    pub(crate) fn tick(&mut self, instrument: &Symbol, tick: &Tick, cap: usize) {
        self.ticks
            .insert((tick.ts.secs(), instrument.clone()), tick.clone());
        self.bound(cap);
    }

    pub(crate) fn candle(&mut self, instrument: &Symbol, candle: &Candle, cap: usize) {
        let key = (
            instrument.clone(),
            candle.timeframe,
            candle.open_time.millis(),
        );
        self.candles.insert(key, candle.clone());
        self.bound(cap);
    }

    /// Puts back entries that could not be written; what was held back since is newer and wins.
    pub(crate) fn restore(&mut self, older: Pending, cap: usize) {
        self.latest.extend(older.latest);
        for (k, v) in older.ticks {
            self.ticks.entry(k).or_insert(v);
        }
        for (k, v) in older.candles {
            self.candles.entry(k).or_insert(v);
        }
        self.dropped += older.dropped;
        self.bound(cap);
    }

    fn bound(&mut self, cap: usize) {
        while self.len() > cap.max(1) {
            if self.ticks.pop_first().is_none() {
                // Only candles (and latest prices) left: drop the oldest candle.
                let oldest = self.candles.keys().min_by_key(|k| k.2).cloned();
                match oldest {
                    Some(k) => {
                        self.candles.remove(&k);
                    }
                    None => return,
                }
            }
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Timestamp;

    #[test]
    fn keeps_one_entry_per_key_and_drops_the_oldest_ticks() {
        let btc = Symbol::new("BTC");
        let mut p = Pending::default();
        for ms in [1_000, 1_500, 2_000, 3_000] {
            p.latest(&btc, 3);
            p.tick(
                &btc,
                &Tick::new(Timestamp::from_millis(ms), ms.into(), 1.into()),
                3,
            );
        }
        // Seconds 1, 2, 3 (1_500 replaced 1_000) and the latest price: 4 > 3, so second 1 went.
        assert_eq!(p.ticks.len(), 2);
        assert_eq!(p.dropped, 1);
        assert_eq!(p.ticks.keys().next().map(|k| k.0), Some(2));
        assert_eq!(p.latest.len(), 1, "one latest price per instrument");
        let mut older = Pending::default();
        older.tick(
            &btc,
            &Tick::new(Timestamp::from_millis(3_100), 9.into(), 1.into()),
            10,
        );
        p.restore(older, 10);
        assert_eq!(
            p.ticks[&(3, btc)].price,
            3_000.into(),
            "the newer entry wins"
        );
    }
}
