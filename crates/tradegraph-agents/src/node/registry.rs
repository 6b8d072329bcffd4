//! The node kinds `graphs/*.yaml` can name.

use super::{AgentNode, Brain, Desk, ExecutionNode, GuardNode, LearningNode};
use crate::{AgentName, TradingState};
use tradegraph_graph::yaml::{NoConfig, Registry};

/// The default trading graph, `graphs/trading.yaml`, embedded.
pub const DEFAULT_GRAPH: &str = include_str!("../../graphs/trading.yaml");

/// A registry with every agent as a node kind named after it (`technical`, ...,
/// `portfolio_manager`, `execution`, `learning`) plus `risk_guard`, sharing `brain` and `desk`.
pub fn registry(brain: &Brain, desk: &Desk) -> Registry<TradingState> {
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
    let (d, tf) = (desk.clone(), brain.rules.timeframe);
    registry.node("risk_guard", move |_: NoConfig| {
        Ok(GuardNode::new(d.clone(), tf))
    });
    let d = desk.clone();
    registry.node("execution", move |_: NoConfig| {
        Ok(ExecutionNode::new(d.clone()))
    });
    let (d, b) = (desk.clone(), brain.clone());
    registry.node("learning", move |_: NoConfig| {
        Ok(LearningNode::new(d.clone(), b.clone()))
    });
    registry
}
