//! Learning from closed positions: per-agent hit rates and weights, and lessons.

mod learner;
mod weights;

pub use learner::{rule_lesson, ClosedTrade, Learner, Recall, TradeOutcome};
/// The lesson and its situation are the lesson log's own types: what the learner keeps is what
/// the `lessons` collection stores.
pub use tradegraph_store::{Lesson, Situation};
pub use weights::{AgentWeights, HitRecord};
