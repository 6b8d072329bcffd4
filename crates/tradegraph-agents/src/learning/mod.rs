//! Learning from closed positions: per-agent hit rates and weights, lessons, and refined
//! prompts.

mod learner;
pub mod refine;
mod weights;

pub use learner::{rule_lesson, ClosedTrade, Learner, Recall, TradeOutcome};
pub use refine::{
    AdoptedAmendment, Amendment, Call, Decider, PromptRef, PromptVersion, PromptVersions,
    RefinePolicy, Score, Shadow, ShadowCase, VersionStatus,
};
/// The lesson and its situation are the lesson log's own types: what the learner keeps is what
/// the `lessons` collection stores.
pub use tradegraph_store::{Lesson, Situation};
pub use weights::{AgentWeights, HitRecord};
