//! [`IndicatorConfig`]: the periods of an [`IndicatorSet`](super::IndicatorSet).

use super::VwapReset;
use serde::{Deserialize, Serialize};

/// The periods of an [`IndicatorSet`](super::IndicatorSet); the defaults are the usual ones.
/// Deserializes from a partial map (missing fields keep their defaults).
///
/// ```
/// use tradegraph_market::indicators::IndicatorConfig;
///
/// let config: IndicatorConfig = serde_json::from_str(r#"{"sma": 50, "rsi": 7}"#)?;
/// assert_eq!((config.sma, config.rsi, config.ema), (50, 7, 20));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorConfig {
    /// SMA period (20).
    pub sma: usize,
    /// EMA period (20).
    pub ema: usize,
    /// RSI period (14).
    pub rsi: usize,
    /// MACD fast EMA period (12).
    pub macd_fast: usize,
    /// MACD slow EMA period (26).
    pub macd_slow: usize,
    /// MACD signal EMA period (9).
    pub macd_signal: usize,
    /// Bollinger period (20).
    pub bollinger: usize,
    /// Bollinger width in standard deviations (2).
    pub bollinger_k: f64,
    /// ATR period (14).
    pub atr: usize,
    /// Stochastic fast %K period (14).
    pub stoch_k: usize,
    /// Stochastic slow %K smoothing (3).
    pub stoch_slow_k: usize,
    /// Stochastic %D smoothing (3).
    pub stoch_d: usize,
    /// ADX period (14).
    pub adx: usize,
    /// When the VWAP session restarts (each UTC day).
    pub vwap_reset: VwapReset,
}

impl Default for IndicatorConfig {
    fn default() -> Self {
        Self {
            sma: 20,
            ema: 20,
            rsi: 14,
            macd_fast: 12,
            macd_slow: 26,
            macd_signal: 9,
            bollinger: 20,
            bollinger_k: 2.0,
            atr: 14,
            stoch_k: 14,
            stoch_slow_k: 3,
            stoch_d: 3,
            adx: 14,
            vwap_reset: VwapReset::UtcDay,
        }
    }
}
