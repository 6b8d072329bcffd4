//! Ready configurations for the instruments tradegraph ships bots for.

use super::book::BookConfig;
use super::config::SyntheticConfig;
use super::regime::{RegimeConfig, RegimeParams};
use super::size::SizeModel;
use rust_decimal::Decimal;
use tradegraph_core::{Instrument, Quantity, Timestamp, TradingSession};

/// Monday 6 January 2025, 00:00 UTC: the presets' start.
const START: Timestamp = Timestamp::from_millis(1_736_121_600_000);
const MINUTE: f64 = 60_000.0;

/// What differs between the presets.
struct Profile {
    start_price: Decimal,
    mean_interval_ms: f64,
    /// (volatility, drift) of calm, normal, turbulent.
    vols: [(f64, f64); 3],
    /// Trade-rate multipliers of calm, normal, turbulent.
    activity: [f64; 3],
    mean_duration_ms: f64,
    overnight_gap: f64,
    spread_ticks: u32,
    /// (median steps, dispersion, max steps) of a trade.
    trade: (f64, f64, u64),
    /// (median steps, dispersion, max steps) of a book level.
    level: (f64, f64, u64),
}

impl SyntheticConfig {
    /// A preset for `instrument`, keeping its symbol, tick, lot and session:
    ///
    /// | instrument | start price | trades | volatility calm / normal / turbulent | regime mean | overnight gap |
    /// |---|---|---|---|---|---|
    /// | `BTCUSDT` | 95 000 | every 100 ms | 30 % / 55 % / 110 % | 4 h | none (24/7) |
    /// | `NIFTY50` | 24 000 | every 250 ms | 9 % / 14 % / 30 % | 90 min of trading | 0.6 % a day |
    /// | `BANKNIFTY` | 52 000 | every 250 ms | 11 % / 17 % / 36 % | 90 min of trading | 0.8 % a day |
    ///
    /// Other instruments get the Bitcoin profile when they trade 24/7 and the Nifty 50 profile
    /// otherwise, starting at 100 (or 1000 ticks, if more). Turbulent regimes trade 2 to 2.5
    /// times as often as normal ones, calm ones 0.6 times. Trades are whole lots (the
    /// instrument's `lot_size`); a top-5 book follows every 10th trade. The start is Monday
    /// 6 January 2025, 00:00 UTC; nothing ends the stream until you set
    /// [`end`](Self::end) or [`max_events`](Self::max_events).
    ///
    /// ```
    /// use tradegraph_core::Instrument;
    /// use tradegraph_market::feed::synthetic::SyntheticConfig;
    /// let config = SyntheticConfig::for_instrument(&Instrument::nifty_50(), 7);
    /// assert_eq!(config.start_price.to_string(), "24000");
    /// assert_eq!(config.size.step, Instrument::nifty_50().lot_size);
    /// ```
    pub fn for_instrument(instrument: &Instrument, seed: u64) -> Self {
        let profile = match instrument.symbol.as_str() {
            "BTCUSDT" => bitcoin(Decimal::from(95_000)),
            "BANKNIFTY" => bank_nifty(),
            "NIFTY50" => nifty(Decimal::from(24_000)),
            _ => {
                let start = (instrument.tick_size * Decimal::from(1_000)).max(Decimal::from(100));
                match instrument.session {
                    TradingSession::AlwaysOpen => bitcoin(start),
                    TradingSession::Exchange(_) => nifty(start),
                }
            }
        };
        build(instrument, seed, &profile)
    }

    /// [`for_instrument`](Self::for_instrument) of [`Instrument::btc_usdt`].
    pub fn btc_usdt(seed: u64) -> Self {
        Self::for_instrument(&Instrument::btc_usdt(), seed)
    }

    /// [`for_instrument`](Self::for_instrument) of [`Instrument::bank_nifty`].
    pub fn bank_nifty(seed: u64) -> Self {
        Self::for_instrument(&Instrument::bank_nifty(), seed)
    }

    /// [`for_instrument`](Self::for_instrument) of [`Instrument::nifty_50`].
    pub fn nifty_50(seed: u64) -> Self {
        Self::for_instrument(&Instrument::nifty_50(), seed)
    }
}

fn bitcoin(start_price: Decimal) -> Profile {
    Profile {
        start_price,
        mean_interval_ms: 100.0,
        vols: [(0.30, 0.0), (0.55, 0.10), (1.10, -0.20)],
        activity: [0.6, 1.0, 2.5],
        mean_duration_ms: 240.0 * MINUTE,
        overnight_gap: 0.0,
        spread_ticks: 1,
        // 0.004 BTC typical, up to 5 BTC; levels of 0.05 BTC typical.
        trade: (400.0, 1.6, 500_000),
        level: (5_000.0, 1.2, 2_000_000),
    }
}

fn nifty(start_price: Decimal) -> Profile {
    Profile {
        start_price,
        mean_interval_ms: 250.0,
        vols: [(0.09, 0.0), (0.14, 0.08), (0.30, -0.15)],
        activity: [0.6, 1.0, 2.0],
        mean_duration_ms: 90.0 * MINUTE,
        overnight_gap: 0.006,
        spread_ticks: 1,
        // Two lots typical, at most 60; levels of 15 lots typical.
        trade: (2.0, 0.9, 60),
        level: (15.0, 0.8, 2_000),
    }
}

fn bank_nifty() -> Profile {
    Profile {
        start_price: Decimal::from(52_000),
        vols: [(0.11, 0.0), (0.17, 0.08), (0.36, -0.15)],
        overnight_gap: 0.008,
        spread_ticks: 2,
        ..nifty(Decimal::ZERO)
    }
}

fn build(instrument: &Instrument, seed: u64, p: &Profile) -> SyntheticConfig {
    let step: Quantity = if instrument.lot_size > Decimal::ZERO {
        instrument.lot_size
    } else {
        Decimal::ONE
    };
    let regime = |i: usize| RegimeParams {
        volatility: p.vols[i].0,
        drift: p.vols[i].1,
        activity: p.activity[i],
    };
    let size = |(median_steps, dispersion, max_steps): (f64, f64, u64)| SizeModel {
        step,
        median_steps,
        dispersion,
        max_steps,
    };
    SyntheticConfig {
        instrument: instrument.clone(),
        seed,
        start: START,
        start_price: instrument.round_to_tick(p.start_price).normalize(),
        mean_interval_ms: p.mean_interval_ms,
        regimes: RegimeConfig::new(regime(0), regime(1), regime(2), p.mean_duration_ms),
        overnight_gap: p.overnight_gap,
        spread_ticks: p.spread_ticks,
        size: size(p.trade),
        book: Some(BookConfig {
            every_trades: 10,
            levels: 5,
            level_gap_ticks: 1,
            size: size(p.level),
        }),
        end: None,
        max_events: None,
        first_trade_id: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::{ExchangeSession, Symbol};

    #[test]
    fn presets_keep_the_instrument_and_its_price_scale() {
        let btc = SyntheticConfig::btc_usdt(1);
        assert_eq!(btc.start_price, Decimal::from(95_000));
        assert_eq!(btc.size.step, Decimal::new(1, 5));
        assert_eq!(btc.start.to_string(), "2025-01-06T00:00:00Z");
        assert_eq!(
            SyntheticConfig::bank_nifty(1).start_price,
            Decimal::from(52_000)
        );
        assert_eq!(SyntheticConfig::nifty_50(1).size.step, Decimal::from(75));
        assert!(SyntheticConfig::bank_nifty(1).overnight_gap > 0.0);
    }

    #[test]
    fn other_instruments_get_a_profile_by_session() {
        let mut stock = Instrument::nifty_50();
        stock.symbol = Symbol::new("RELIANCE");
        stock.tick_size = Decimal::new(5, 1);
        stock.session = TradingSession::Exchange(ExchangeSession::nse());
        let config = SyntheticConfig::for_instrument(&stock, 1);
        assert_eq!(config.start_price, Decimal::from(500));
        assert!(config.overnight_gap > 0.0);
        assert!(config.validate().is_ok());
        let mut coin = Instrument::btc_usdt();
        coin.symbol = Symbol::new("ETHUSDT");
        let config = SyntheticConfig::for_instrument(&coin, 1);
        assert_eq!(config.start_price, Decimal::from(100));
        assert!(config.validate().is_ok());
    }
}
