//! Rule mode: deterministic logic over the same inputs an agent's model sees, filling the same
//! report type. Used when no provider is configured or every provider failed, and as the
//! baseline a model must beat.
//!
//! Every function here is pure: the same state gives the same report, bit for bit.

mod analysts;
mod debate;
mod decide;
mod text;

pub use analysts::{fundamental, macro_view, sentiment, technical};
pub use debate::debate_turn;
pub use decide::{portfolio, risk};

use serde::{Deserialize, Serialize};
use tradegraph_core::Timeframe;

/// The knobs of rule mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// The timeframe whose indicators drive the technical view.
    pub timeframe: Timeframe,
    /// Longest position the risk manager suggests, in percent of equity (the guard caps it
    /// again, at 5% by default).
    pub max_position_pct: f64,
    /// Below this combined score (in `[0, 1]`) the portfolio manager holds.
    pub entry_threshold: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            timeframe: Timeframe::M15,
            max_position_pct: 5.0,
            entry_threshold: 0.2,
        }
    }
}

fn clamp_unit(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-1.0, 1.0)
    }
}

/// A small finance word list: `+1` per positive word, `-1` per negative, scaled to `[-1, 1]`.
fn text_sentiment(headline: &str, summary: &str) -> f64 {
    const POSITIVE: [&str; 14] = [
        "surge", "rally", "gain", "gains", "record", "beat", "beats", "upgrade", "bullish", "rise",
        "rises", "soar", "inflows", "approval",
    ];
    const NEGATIVE: [&str; 14] = [
        "plunge",
        "crash",
        "fall",
        "falls",
        "loss",
        "losses",
        "miss",
        "downgrade",
        "bearish",
        "selloff",
        "sell-off",
        "outflows",
        "ban",
        "hack",
    ];
    let text = format!("{headline} {summary}").to_lowercase();
    let mut score = 0.0;
    for word in text.split(|c: char| !c.is_alphanumeric() && c != '-') {
        if POSITIVE.contains(&word) {
            score += 1.0;
        } else if NEGATIVE.contains(&word) {
            score -= 1.0;
        }
    }
    clamp_unit(score / 3.0)
}
