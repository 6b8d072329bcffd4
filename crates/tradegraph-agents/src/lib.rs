//! The ten trading agents of tradegraph, as graph nodes.
//!
//! | module | what |
//! |---|---|
//! | [`reports`] | each agent's typed report; its JSON Schema is what a model's answer must pass |
//! | [`state`] | [`TradingState`], what one decision cycle reads and writes |
//! | [`book`] | the book the agents decide on: working orders and what the risk guard allows now |
//! | [`rules`] | rule mode: deterministic logic that fills every report from the same inputs |
//! | [`prompt`] | the prompt templates (embedded, overridable from a directory) and their rendering |
//! | [`fixture`] | a complete decision state from bundled data, for snapshots and the CLI |
//! | [`model`] | [`model::ReportModel`], the one narrow trait agents ask a model through |
//! | [`deadline`] | a deadline per decision cycle, shared out among the agents that ask a model |
//! | [`node`] | the agents as graph nodes (model with schema check, rule fallback) and the YAML registry |
//! | [`learning`] | hit rates, agent weights and lessons from closed positions; prompt versions the learning agent proposes and a shadow evaluation adopts |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `llm` | yes | [`model::LlmModel`]: agents answered through `tradegraph-llm`'s fallback chain |

mod agent;
pub mod book;
mod builder;
pub mod deadline;
mod error;
pub mod fixture;
pub mod learning;
pub mod model;
pub mod node;
pub mod prompt;
pub mod reports;
pub mod rules;
mod snapshot;
pub mod state;

pub use agent::{AgentName, UnknownAgent};
pub use builder::SnapshotBuilder;
pub use error::{AgentError, PromptTemplate};
pub use snapshot::{ExternalInputs, MarketSnapshot};
pub use state::{DebateEntry, TradingState};
