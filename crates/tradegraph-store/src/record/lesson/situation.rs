//! The market situation a lesson came from.

use serde::{Deserialize, Serialize};

/// The market situation a lesson came from, as a few comparable figures: lessons are retrieved
/// for the situations nearest the current one.
///
/// ```
/// use tradegraph_store::Situation;
/// let calm = Situation { rsi: 50.0, trend_pct: 0.0, volatility_pct: 0.2, sentiment: 0.0 };
/// let hot = Situation { rsi: 78.0, trend_pct: 2.5, volatility_pct: 1.1, sentiment: 0.6 };
/// assert_eq!(calm.distance(&calm), 0.0);
/// assert!(calm.distance(&hot) > calm.distance(&Situation { rsi: 55.0, ..calm }));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Situation {
    /// RSI of the decision timeframe, 0..100.
    pub rsi: f64,
    /// Trend: (close - SMA) / SMA, in percent.
    pub trend_pct: f64,
    /// Volatility: ATR / close, in percent.
    pub volatility_pct: f64,
    /// News sentiment, -1..1.
    pub sentiment: f64,
}

impl Situation {
    /// Distance to another situation on the market's figures alone (RSI, trend, volatility,
    /// scaled as in [`distance`](Self::distance)), leaving the sentiment out: what a decision
    /// knows when it recalls lessons, before its sentiment analyst has spoken.
    ///
    /// ```
    /// use tradegraph_store::Situation;
    /// let calm = Situation { rsi: 50.0, trend_pct: 0.0, volatility_pct: 0.5, sentiment: 0.0 };
    /// let cheered = Situation { sentiment: 0.9, ..calm };
    /// assert_eq!(calm.market_distance(&cheered), 0.0);
    /// assert!(calm.distance(&cheered) > 1.0);
    /// ```
    pub fn market_distance(&self, other: &Situation) -> f64 {
        Situation {
            sentiment: other.sentiment,
            ..*self
        }
        .distance(other)
    }

    /// Distance to another situation, each figure scaled to a comparable range (infinite when a
    /// figure is not finite, so such a situation is never the nearest).
    pub fn distance(&self, other: &Situation) -> f64 {
        let d = [
            (self.rsi - other.rsi) / 20.0,
            (self.trend_pct - other.trend_pct) / 2.0,
            (self.volatility_pct - other.volatility_pct) / 0.5,
            (self.sentiment - other.sentiment) / 0.5,
        ];
        let sum: f64 = d.iter().map(|x| x * x).sum();
        if sum.is_finite() {
            sum.sqrt()
        } else {
            f64::INFINITY
        }
    }
}
