//! The audit trail, read back: a stored decision replayed from what it recorded.
//!
//! Every decision keeps, per agent, the prompt version, the prompt (by its hash, the text in
//! the prompt log) and the model's answer as it came. [`replay`] takes a stored decision and
//! reads every recorded answer through its agent's report schema again (no model call), or
//! asks a model the recorded prompts again, and says agent by agent whether the reports come
//! out as the decision recorded them.

mod replay;

pub use replay::{replay, DecisionReplay, ReplayError, ReplayMode, Replayed};
