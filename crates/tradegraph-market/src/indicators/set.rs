//! [`IndicatorSet`]: all ten indicators, updated together, one snapshot per bar.

use super::{
    Adx, Atr, Bar, Bollinger, Ema, Indicator, IndicatorConfig, Macd, Obv, Rsi, Sma, Stochastic,
    Vwap,
};
use crate::MarketError;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Candle, Timestamp};

/// Every indicator's value after one bar; `None` during an indicator's lead-in.
///
/// Serializes with these field names (`null` for `None`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct IndicatorValues {
    /// The bar's timestamp.
    pub ts: Timestamp,
    /// Simple moving average of the close.
    pub sma: Option<f64>,
    /// Exponential moving average of the close.
    pub ema: Option<f64>,
    /// Relative strength index.
    pub rsi: Option<f64>,
    /// MACD line.
    pub macd: Option<f64>,
    /// MACD signal line.
    pub macd_signal: Option<f64>,
    /// MACD histogram.
    pub macd_hist: Option<f64>,
    /// Upper Bollinger band.
    pub bb_upper: Option<f64>,
    /// Middle Bollinger band (the SMA over the Bollinger period).
    pub bb_middle: Option<f64>,
    /// Lower Bollinger band.
    pub bb_lower: Option<f64>,
    /// Average true range.
    pub atr: Option<f64>,
    /// Slow stochastic %K.
    pub stoch_k: Option<f64>,
    /// Slow stochastic %D.
    pub stoch_d: Option<f64>,
    /// Average directional index.
    pub adx: Option<f64>,
    /// On-balance volume.
    pub obv: Option<f64>,
    /// Session VWAP.
    pub vwap: Option<f64>,
}

/// All ten indicators, fed the same bars.
///
/// ```
/// use tradegraph_market::indicators::{Bar, IndicatorConfig, IndicatorSet};
/// use tradegraph_core::Timestamp;
///
/// let mut set = IndicatorSet::new(IndicatorConfig::default())?;
/// let mut last = None;
/// for i in 0..40 {
///     let c = 100.0 + f64::from(i % 7);
///     last = Some(set.update(&Bar::new(Timestamp::from_secs(60 * i64::from(i)), c, c + 1.0, c - 1.0, c, 10.0)));
/// }
/// let values = last.unwrap();
/// assert!(values.sma.is_some() && values.adx.is_some() && values.macd_signal.is_some());
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    config: IndicatorConfig,
    sma: Sma,
    ema: Ema,
    rsi: Rsi,
    macd: Macd,
    bollinger: Bollinger,
    atr: Atr,
    stochastic: Stochastic,
    adx: Adx,
    obv: Obv,
    vwap: Vwap,
}

impl IndicatorSet {
    /// Builds all ten; fails on a period TA-Lib would refuse.
    pub fn new(config: IndicatorConfig) -> Result<Self, MarketError> {
        Ok(Self {
            config,
            sma: Sma::new(config.sma)?,
            ema: Ema::new(config.ema)?,
            rsi: Rsi::new(config.rsi)?,
            macd: Macd::new(config.macd_fast, config.macd_slow, config.macd_signal)?,
            bollinger: Bollinger::new(config.bollinger, config.bollinger_k)?,
            atr: Atr::new(config.atr)?,
            stochastic: Stochastic::new(config.stoch_k, config.stoch_slow_k, config.stoch_d)?,
            adx: Adx::new(config.adx)?,
            obv: Obv::new(),
            vwap: Vwap::new(config.vwap_reset),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &IndicatorConfig {
        &self.config
    }

    /// Folds in the next bar; O(1), no allocation.
    #[inline]
    pub fn update(&mut self, bar: &Bar) -> IndicatorValues {
        let macd = self.macd.update(bar);
        let bands = self.bollinger.update(bar);
        let stoch = self.stochastic.update(bar);
        IndicatorValues {
            ts: bar.ts,
            sma: self.sma.update(bar),
            ema: self.ema.update(bar),
            rsi: self.rsi.update(bar),
            macd: macd.map(|m| m.macd),
            macd_signal: macd.map(|m| m.signal),
            macd_hist: macd.map(|m| m.histogram),
            bb_upper: bands.map(|b| b.upper),
            bb_middle: bands.map(|b| b.middle),
            bb_lower: bands.map(|b| b.lower),
            atr: self.atr.update(bar),
            stoch_k: stoch.map(|s| s.k),
            stoch_d: stoch.map(|s| s.d),
            adx: self.adx.update(bar),
            obv: self.obv.update(bar),
            vwap: self.vwap.update(bar),
        }
    }

    /// Folds in the next candle (its decimals converted to `f64` once).
    pub fn update_candle(&mut self, candle: &Candle) -> IndicatorValues {
        self.update(&Bar::from(candle))
    }

    /// Starts a new VWAP session at the next bar (the other indicators carry on).
    pub fn start_session(&mut self) {
        self.vwap.start_session();
    }

    /// Forgets every bar seen.
    pub fn reset(&mut self) {
        self.sma.reset();
        self.ema.reset();
        self.rsi.reset();
        self.macd.reset();
        self.bollinger.reset();
        self.atr.reset();
        self.stochastic.reset();
        self.adx.reset();
        self.obv.reset();
        self.vwap.reset();
    }

    /// The largest lookback: from this bar index on, every value is `Some` (VWAP aside, which
    /// needs volume).
    pub fn lookback(&self) -> usize {
        [
            self.sma.lookback(),
            self.ema.lookback(),
            self.rsi.lookback(),
            self.macd.lookback(),
            self.bollinger.lookback(),
            self.atr.lookback(),
            self.stochastic.lookback(),
            self.adx.lookback(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_lookback_is_macds_and_reset_restarts() {
        let mut set = IndicatorSet::new(IndicatorConfig::default()).unwrap();
        assert_eq!(set.lookback(), 33);
        let bar = Bar::new(Timestamp::EPOCH, 1.0, 2.0, 0.5, 1.5, 3.0);
        let values: Vec<_> = (0..34).map(|_| set.update(&bar)).collect();
        assert!(values[32].macd.is_none() && values[33].macd.is_some());
        set.reset();
        let first = set.update(&bar);
        assert_eq!((first.sma, first.obv), (None, Some(3.0)));
    }

    #[test]
    fn bad_periods_are_configuration_errors() {
        let config = IndicatorConfig {
            adx: 1,
            ..IndicatorConfig::default()
        };
        assert!(IndicatorSet::new(config)
            .unwrap_err()
            .to_string()
            .contains("ADX"));
        let parsed: IndicatorConfig = serde_json::from_str(r#"{"sma": 50}"#).unwrap();
        assert_eq!(parsed.sma, 50);
        assert_eq!(parsed.rsi, 14);
    }
}
