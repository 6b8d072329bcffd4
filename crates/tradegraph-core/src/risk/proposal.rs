//! The decision the guard judges, as a model (or a rule) produced it: nothing in it is trusted.

use super::number::{num, opt_num};
use crate::order::DecisionId;
use serde::{Deserialize, Serialize};
use std::fmt;

// This type's and each variant's doc comment are descriptions the portfolio manager's model reads
// in its answer's JSON Schema: keep each on one line (a wrapped line reaches the model as a line
// break) and know that changing one changes the prompt version.
/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    /// Open or add to a long position (or, holding a short, close it).
    Buy,
    /// Open or add to a short position (or, holding a long, close it; where shorting is not allowed, only sell what is held).
    Sell,
    /// Do nothing.
    Hold,
    /// Close the open position in this instrument.
    Close,
}

impl Action {
    /// `BUY`, `SELL`, `HOLD` or `CLOSE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
            Self::Hold => "HOLD",
            Self::Close => "CLOSE",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proposed trading decision, exactly as a model might produce it.
///
/// [`Action`] is the one action type of the workspace: the portfolio manager's report carries it
/// too, and with the `schemars` feature it derives `JsonSchema`, so its doc comments (one line
/// each: a line break would reach the model) are what the model is shown.
///
/// The numbers are raw `f64`s and may be anything (NaN, infinite, negative, huge); the guard
/// checks every one. `rationale` is kept for the log and **never read** by the guard: no text
/// can change a verdict.
///
/// ```
/// use tradegraph_core::order::DecisionId;
/// use tradegraph_core::risk::{Action, Proposal};
/// let p = Proposal::new(DecisionId::new("BTCUSDT-20240101T101500.000Z"), Action::Buy, 3.0)
///     .with_stop_loss(41_000.0)
///     .with_take_profit(46_000.0)
///     .with_confidence(0.7)
///     .with_rationale("breakout above the range, rising volume");
/// assert_eq!(p.size_pct, 3.0);
/// // NaN travels through JSON as text, so the log shows what was proposed.
/// let odd = Proposal::new(DecisionId::new("x"), Action::Buy, f64::NAN);
/// let json = serde_json::to_string(&odd)?;
/// assert!(json.contains("\"size_pct\":\"NaN\""));
/// assert!(serde_json::from_str::<Proposal>(&json)?.size_pct.is_nan());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The decision's id: the seed of the client order ids.
    pub decision_id: DecisionId,
    /// BUY, SELL, HOLD or CLOSE.
    pub action: Action,
    /// Position size as a percent of equity (`3.0` is 3%).
    #[serde(with = "num")]
    pub size_pct: f64,
    /// Stop-loss price.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<f64>,
    /// Take-profit price.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<f64>,
    /// Trailing-stop distance, in price units.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub trailing_distance: Option<f64>,
    /// Confidence, 0 to 1.
    #[serde(with = "num")]
    pub confidence: f64,
    /// Free text. Logged, never parsed.
    #[serde(default)]
    pub rationale: String,
}

impl Proposal {
    /// A proposal with no stops, confidence 1 and no rationale.
    pub fn new(decision_id: DecisionId, action: Action, size_pct: f64) -> Self {
        Self {
            decision_id,
            action,
            size_pct,
            stop_loss: None,
            take_profit: None,
            trailing_distance: None,
            confidence: 1.0,
            rationale: String::new(),
        }
    }

    /// A HOLD.
    pub fn hold(decision_id: DecisionId) -> Self {
        Self::new(decision_id, Action::Hold, 0.0)
    }

    /// Sets the stop-loss price.
    pub fn with_stop_loss(mut self, price: f64) -> Self {
        self.stop_loss = Some(price);
        self
    }

    /// Sets the take-profit price.
    pub fn with_take_profit(mut self, price: f64) -> Self {
        self.take_profit = Some(price);
        self
    }

    /// Sets the trailing-stop distance.
    pub fn with_trailing_distance(mut self, distance: f64) -> Self {
        self.trailing_distance = Some(distance);
        self
    }

    /// Sets the confidence.
    pub fn with_confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Sets the rationale.
    pub fn with_rationale(mut self, text: impl Into<String>) -> Self {
        self.rationale = text.into();
        self
    }
}
