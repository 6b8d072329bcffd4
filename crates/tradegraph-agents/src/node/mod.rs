//! The agents as graph nodes, and the registry that lets `graphs/*.yaml` name them.
//!
//! Every model-facing agent runs the same way: render its prompt, ask the [`ReportModel`] when
//! one is configured, check the answer against the report's JSON Schema, and fall back to rule
//! mode when there is no model, the model fails, or its answer breaks the schema. The report
//! records which mode produced it and the prompt version, so every decision is auditable.
//!
//! [`ReportModel`]: crate::model::ReportModel

mod agents;
mod brain;
mod desk;
mod execution;
mod guard;
mod learning;
mod registry;

pub use agents::AgentNode;
pub use brain::Brain;
pub use desk::{Desk, MarketNow};
pub use execution::ExecutionNode;
pub use guard::{proposal, GuardNode};
pub use learning::LearningNode;
pub use registry::{registry, registry_with, CustomKinds, DEBATE_ROUND, DEFAULT_GRAPH};
