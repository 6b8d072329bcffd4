//! [`Input`]: what the rules observe.

use super::Sample;
use crate::engine::BotEvent;
use tradegraph_llm::fallback::LlmEvent;
use tradegraph_store::StoreEvent;

/// One thing the rules look at: a bot event (from the event hub: decisions, trading state,
/// feed, health changes, the engine's own alerts), a store event (`Stores.alerts`), a model
/// chain event (`Llm::subscribe`) or a periodic [`Sample`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Input<'a> {
    /// A bot event.
    Bot(&'a BotEvent),
    /// A store event.
    Store(&'a StoreEvent),
    /// A model chain event.
    Llm(&'a LlmEvent),
    /// The periodic sample.
    Sample(&'a Sample),
}
