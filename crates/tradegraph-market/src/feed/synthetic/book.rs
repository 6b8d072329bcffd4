//! Top-of-book snapshots around the current bid and ask.

use super::grid::Grid;
use super::random::Sampler;
use super::size::{SizeModel, Sizes};
use crate::MarketError;
use tradegraph_core::{Book, BookLevel, Timestamp};

/// Whether and how the generator emits [`MarketEvent::Book`](crate::MarketEvent::Book)
/// snapshots.
///
/// After every `every_trades`-th trade comes a book with the same timestamp: `levels` bids
/// from the best bid down and `levels` asks from the best ask up, `level_gap_ticks` apart on
/// the tick grid, each with a size drawn from `size` (deeper levels rest more: on average half a
/// draw more per level). The last trade sits at the best bid (a sell) or the best ask (a buy).
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph_market::feed::synthetic::{BookConfig, SizeModel};
/// let book = BookConfig {
///     every_trades: 10,
///     levels: 5,
///     level_gap_ticks: 1,
///     size: SizeModel { step: Decimal::from(75), median_steps: 20.0, dispersion: 0.7, max_steps: 2_000 },
/// };
/// assert!(book.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BookConfig {
    /// A snapshot after every this many trades (at least 1).
    pub every_trades: u32,
    /// Levels per side, 1 to [`Book::DEPTH`].
    pub levels: usize,
    /// Ticks between adjacent levels of a side (at least 1).
    pub level_gap_ticks: u32,
    /// Resting size at a level.
    pub size: SizeModel,
}

impl BookConfig {
    /// Checks that the configuration can work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field (`synthetic.book.levels`).
    pub fn validate(&self) -> Result<(), MarketError> {
        if self.every_trades == 0 {
            return Err(MarketError::Config(
                "synthetic.book.every_trades 0 cannot work: give at least 1, or no book".into(),
            ));
        }
        if !(1..=Book::DEPTH).contains(&self.levels) {
            return Err(MarketError::Config(format!(
                "synthetic.book.levels {} cannot work: give 1 to {}",
                self.levels,
                Book::DEPTH
            )));
        }
        if self.level_gap_ticks == 0 {
            return Err(MarketError::Config(
                "synthetic.book.level_gap_ticks 0 cannot work: give at least 1".into(),
            ));
        }
        self.size.validate("synthetic.book.size")
    }
}

/// A validated [`BookConfig`], ready to build snapshots.
#[derive(Debug, Clone, Copy)]
pub(super) struct BookMaker {
    pub(super) every_trades: u32,
    levels: i64,
    gap: i64,
    sizes: Sizes,
}

impl BookMaker {
    /// The maker of `config`, or the configuration error.
    pub(super) fn new(config: &BookConfig) -> Result<Self, MarketError> {
        config.validate()?;
        Ok(Self {
            every_trades: config.every_trades,
            levels: i64::try_from(config.levels).unwrap_or(1),
            gap: i64::from(config.level_gap_ticks),
            sizes: Sizes::new(&config.size, "synthetic.book.size")?,
        })
    }

    /// A snapshot with the best bid at `bid` ticks and the best ask at `ask` ticks
    /// (`0 < bid < ask`). Levels that would fall to zero or off the grid are left out.
    pub(super) fn snapshot(
        &self,
        ts: Timestamp,
        update_id: u64,
        bid: i64,
        ask: i64,
        ticks: &Grid,
        sampler: &mut Sampler,
    ) -> Book {
        let mut bids = Vec::with_capacity(Book::DEPTH);
        let mut asks = Vec::with_capacity(Book::DEPTH);
        for depth in 0..self.levels {
            let offset = depth * self.gap;
            if bid - offset >= 1 {
                bids.push(self.level(ticks.value(bid - offset), depth, sampler));
            }
            if ask + offset <= ticks.max_count() {
                asks.push(self.level(ticks.value(ask + offset), depth, sampler));
            }
        }
        Book {
            ts,
            bids,
            asks,
            update_id: Some(update_id),
        }
    }

    fn level(&self, price: tradegraph_core::Price, depth: i64, sampler: &mut Sampler) -> BookLevel {
        let mut quantity = self.sizes.draw(sampler);
        // Deeper levels rest more: on average half a draw more per level of depth.
        for _ in 0..depth.min(4) {
            if sampler.uniform() < 0.5 {
                quantity += self.sizes.draw(sampler);
            }
        }
        BookLevel {
            price,
            quantity,
            orders: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal::Decimal;

    fn config() -> BookConfig {
        BookConfig {
            every_trades: 1,
            levels: 5,
            level_gap_ticks: 2,
            size: SizeModel {
                step: Decimal::from(30),
                median_steps: 10.0,
                dispersion: 0.5,
                max_steps: 1_000,
            },
        }
    }

    #[test]
    fn levels_step_away_from_the_touch() {
        let maker = BookMaker::new(&config()).unwrap();
        let ticks = Grid::new(Decimal::new(5, 2)).unwrap();
        let mut sampler = Sampler::new(5, "");
        let book = maker.snapshot(
            Timestamp::EPOCH,
            9,
            1_000_000,
            1_000_001,
            &ticks,
            &mut sampler,
        );
        let bids: Vec<String> = book.bids.iter().map(|l| l.price.to_string()).collect();
        let asks: Vec<String> = book.asks.iter().map(|l| l.price.to_string()).collect();
        assert_eq!(
            bids,
            ["50000.00", "49999.90", "49999.80", "49999.70", "49999.60"]
        );
        assert_eq!(
            asks,
            ["50000.05", "50000.15", "50000.25", "50000.35", "50000.45"]
        );
        assert!(book
            .bids
            .iter()
            .chain(&book.asks)
            .all(|l| l.quantity > Decimal::ZERO));
        assert_eq!(book.update_id, Some(9));
    }

    #[test]
    fn no_level_at_or_below_zero() {
        let maker = BookMaker::new(&config()).unwrap();
        let ticks = Grid::new(Decimal::new(5, 2)).unwrap();
        let book = maker.snapshot(Timestamp::EPOCH, 1, 3, 4, &ticks, &mut Sampler::new(1, ""));
        assert_eq!(book.bids.len(), 2, "3 and 1 ticks; -1 is dropped");
        assert_eq!(book.asks.len(), 5);
    }

    #[test]
    fn bad_books_are_named() {
        let deep = BookConfig {
            levels: 6,
            ..config()
        };
        let message = deep.validate().err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("synthetic.book.levels 6")));
        let never = BookConfig {
            every_trades: 0,
            ..config()
        };
        assert!(never.validate().is_err());
    }
}
