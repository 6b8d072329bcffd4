//! What the synthetic market looks like.

use super::book::BookConfig;
use super::grid::Grid;
use super::regime::RegimeConfig;
use super::size::SizeModel;
use crate::MarketError;
use tradegraph_core::{Instrument, Price, Timestamp, TradingSession};

/// Configuration of a [`SyntheticGenerator`](super::SyntheticGenerator).
///
/// Start from a preset ([`for_instrument`](Self::for_instrument), [`btc_usdt`](Self::btc_usdt),
/// [`bank_nifty`](Self::bank_nifty), [`nifty_50`](Self::nifty_50)) and change what you need;
/// every field is public.
///
/// ```
/// use tradegraph_core::Timestamp;
/// use tradegraph_market::feed::synthetic::SyntheticConfig;
///
/// let config = SyntheticConfig {
///     mean_interval_ms: 1_000.0, // one trade a second on average
///     book: None,                // trades only
///     ..SyntheticConfig::bank_nifty(42)
/// }
/// .with_start("2025-03-10T00:00:00Z".parse()?)
/// .with_max_events(10_000);
/// assert!(config.validate().is_ok());
/// assert_eq!(config.instrument.symbol.as_str(), "BANKNIFTY");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// The instrument: its symbol goes on every event, prices sit on its tick grid, and trades
    /// happen only while its session is open.
    pub instrument: Instrument,
    /// The seed. The same seed and configuration give the same events; the symbol is mixed in,
    /// so instruments sharing a seed still get independent markets.
    pub seed: u64,
    /// When the market starts; for an exchange outside its hours, the first session after it.
    pub start: Timestamp,
    /// The price at the start.
    pub start_price: Price,
    /// Mean time between trades in [`Normal`](super::Regime::Normal) activity, in milliseconds
    /// (arrivals are a Poisson process; each regime scales the rate by its `activity`).
    pub mean_interval_ms: f64,
    /// The volatility regimes and the chain between them.
    pub regimes: RegimeConfig,
    /// Standard deviation of the log price change across a closed day (an overnight gap is
    /// scaled by the square root of the closed time in days). `0` for no gaps.
    pub overnight_gap: f64,
    /// Ticks between the best bid and the best ask (at least 1): sells trade at the bid, buys
    /// at the ask.
    pub spread_ticks: u32,
    /// Trade sizes.
    pub size: SizeModel,
    /// Top-of-book snapshots, if any.
    pub book: Option<BookConfig>,
    /// No event at or after this time (the generator ends there).
    pub end: Option<Timestamp>,
    /// At most this many events (trades and books together).
    pub max_events: Option<u64>,
    /// The id of the first trade; ids then count up by one.
    pub first_trade_id: u64,
}

impl SyntheticConfig {
    /// The same configuration with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same configuration starting at `start`.
    pub fn with_start(mut self, start: Timestamp) -> Self {
        self.start = start;
        self
    }

    /// The same configuration ending before `end`.
    pub fn with_end(mut self, end: Timestamp) -> Self {
        self.end = Some(end);
        self
    }

    /// The same configuration stopping after `max_events` events.
    pub fn with_max_events(mut self, max_events: u64) -> Self {
        self.max_events = Some(max_events);
        self
    }

    /// Checks that the configuration can work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field (`synthetic.mean_interval_ms`) and what to give
    /// instead; [`MarketError::Core`] for an exchange session that cannot work.
    pub fn validate(&self) -> Result<(), MarketError> {
        let ticks = Grid::new(self.instrument.tick_size).ok_or_else(|| {
            MarketError::Config(format!(
                "synthetic.instrument.tick_size {} of {} cannot work: give a positive tick size",
                self.instrument.tick_size, self.instrument.symbol
            ))
        })?;
        if let TradingSession::Exchange(session) = &self.instrument.session {
            session.validate()?;
        }
        let units = ticks.count(self.start_price).unwrap_or(0);
        if self.start_price <= Price::ZERO || units < 1 || units > ticks.max_count() / 2 {
            return Err(MarketError::Config(format!(
                "synthetic.start_price {} cannot work: give a positive price of at least one tick \
                 ({})",
                self.start_price, self.instrument.tick_size
            )));
        }
        if !(self.mean_interval_ms.is_finite() && self.mean_interval_ms >= 0.001) {
            return Err(MarketError::Config(format!(
                "synthetic.mean_interval_ms {} cannot work: give at least 0.001 ms, e.g. 250",
                self.mean_interval_ms
            )));
        }
        self.regimes.validate()?;
        if !(self.overnight_gap.is_finite() && (0.0..=1.0).contains(&self.overnight_gap)) {
            return Err(MarketError::Config(format!(
                "synthetic.overnight_gap {} cannot work: give a value between 0 and 1, e.g. 0.006",
                self.overnight_gap
            )));
        }
        if self.spread_ticks == 0 {
            return Err(MarketError::Config(
                "synthetic.spread_ticks 0 cannot work: give at least 1".into(),
            ));
        }
        self.size.validate("synthetic.size")?;
        if let Some(book) = &self.book {
            book.validate()?;
        }
        if let Some(end) = self.end {
            if end <= self.start {
                return Err(MarketError::Config(format!(
                    "synthetic.end {end} cannot work: give a time after synthetic.start {}",
                    self.start
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn message(config: &SyntheticConfig) -> String {
        config
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn presets_are_valid() {
        for config in [
            SyntheticConfig::btc_usdt(1),
            SyntheticConfig::bank_nifty(1),
            SyntheticConfig::nifty_50(1),
        ] {
            assert_eq!(message(&config), "");
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let base = SyntheticConfig::nifty_50(1);
        let cases = [
            (
                SyntheticConfig {
                    start_price: Decimal::ZERO,
                    ..base.clone()
                },
                "synthetic.start_price 0",
            ),
            (
                SyntheticConfig {
                    mean_interval_ms: f64::NAN,
                    ..base.clone()
                },
                "synthetic.mean_interval_ms NaN",
            ),
            (
                SyntheticConfig {
                    spread_ticks: 0,
                    ..base.clone()
                },
                "synthetic.spread_ticks 0",
            ),
            (
                SyntheticConfig {
                    overnight_gap: -0.1,
                    ..base.clone()
                },
                "synthetic.overnight_gap -0.1",
            ),
            (
                base.clone().with_end(base.start),
                "synthetic.end 2025-01-06T00:00:00Z",
            ),
        ];
        for (config, expected) in cases {
            let got = message(&config);
            assert!(
                got.contains(expected),
                "{got:?} should contain {expected:?}"
            );
        }
        let mut no_tick = base;
        no_tick.instrument.tick_size = Decimal::ZERO;
        assert!(message(&no_tick).contains("synthetic.instrument.tick_size 0 of NIFTY50"));
    }
}
