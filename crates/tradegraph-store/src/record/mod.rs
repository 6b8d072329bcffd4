//! What the logs store: decisions, trades and lessons, with the fields of the specification's
//! MongoDB documents (names are part of the contract: fields are added, never renamed).

mod decision;
mod lesson;
mod trade;

pub use decision::{AgentDecision, DecisionRecord};
pub use lesson::Lesson;
pub use trade::{TradeRecord, TradeStatus};

/// Extra fields carried by a record (flattened into its document), for data a later version or
/// an embedder adds without a schema change.
pub type Extra = serde_json::Map<String, serde_json::Value>;
