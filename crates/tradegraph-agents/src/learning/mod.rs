//! Learning from closed positions: per-agent hit rates and weights, and lessons.

mod learner;
mod lessons;
mod weights;

pub use learner::{rule_lesson, ClosedTrade, Learner, TradeOutcome};
pub use lessons::{Lesson, Situation};
pub use weights::{AgentWeights, HitRecord};
