//! The node kinds `graphs/*.yaml` can name.

use super::{AgentNode, Brain};
use crate::{AgentName, TradingState};
use tradegraph_graph::yaml::{NoConfig, Registry};

/// The default trading graph, `graphs/trading.yaml`, embedded.
pub const DEFAULT_GRAPH: &str = include_str!("../../../../graphs/trading.yaml");

/// A registry with every agent as a node kind named after it (`technical`, ..., `portfolio_manager`),
/// all sharing `brain`.
pub fn registry(brain: &Brain) -> Registry<TradingState> {
    let mut registry = Registry::new();
    for agent in AgentName::ALL {
        if matches!(agent, AgentName::Execution | AgentName::Learning) {
            continue;
        }
        let brain = brain.clone();
        registry.node(agent.as_str(), move |_: NoConfig| {
            AgentNode::new(agent, brain.clone())
        });
    }
    registry
}
