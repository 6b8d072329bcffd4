//! Lessons: short notes from closed trades, kept with the situation they came from.

use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// The market situation a lesson came from, as a few comparable figures.
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
    /// Distance to another situation, each figure scaled to a comparable range.
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

/// A short lesson from a closed position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// When the position closed.
    pub ts: Timestamp,
    /// Instrument symbol.
    pub instrument: String,
    /// The situation at entry.
    pub situation: Situation,
    /// What to remember, one or two sentences.
    pub text: String,
    /// Return of the trade, in percent.
    pub return_pct: f64,
}
