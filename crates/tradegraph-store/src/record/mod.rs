//! What the logs store: decisions, trades, lessons, operator actions, alerts and prompts, with the fields of
//! the specification's MongoDB documents (names are part of the contract: fields are added,
//! never renamed).

mod alert;
mod decision;
mod extra;
mod lesson;
mod operator;
mod prompt;
mod run;
mod trade;

pub use alert::AlertRecord;
pub use decision::{AgentDecision, DecisionRecord};
pub use extra::CLASHING_EXTRA;
pub use lesson::{Lesson, Situation};
pub use operator::{ActionOutcome, OperatorAction};
pub use prompt::PromptRecord;
pub use run::RunId;
pub use trade::{TradeRecord, TradeStatus};

/// Extra fields carried by a record (flattened into its document), for data a later version or
/// an embedder adds without a schema change. One named like a field of its record (or like
/// `_id` and `_v`, which the store keeps in every document) is kept under [`CLASHING_EXTRA`] in
/// the document, so it neither overwrites nor duplicates that field.
pub type Extra = serde_json::Map<String, serde_json::Value>;
