//! The node kinds `graphs/*.yaml` can name: the built-in ones, and a user's own.

use super::{AgentNode, Brain, Desk, ExecutionNode, GuardNode, LearningNode};
use crate::{AgentError, AgentName, TradingState};
use std::fmt;
use std::sync::Arc;
use tradegraph_graph::yaml::{NoConfig, Registry};
use tradegraph_graph::{node_fn, Command};

/// The kind of a node that opens or closes a debate round whose sides speak at once (the
/// default graph's `debate_round` and `debate_round_end`): it changes nothing.
pub const DEBATE_ROUND: &str = "debate_round";

/// The default trading graph, `graphs/trading.yaml`, embedded.
pub const DEFAULT_GRAPH: &str = include_str!("../../graphs/trading.yaml");

/// A registry with every agent as a node kind named after it (`technical`, ...,
/// `portfolio_manager`, `execution`, `learning`) plus `risk_guard` and [`DEBATE_ROUND`],
/// sharing `brain` and `desk`.
pub fn registry(brain: &Brain, desk: &Desk) -> Registry<TradingState> {
    let mut registry = Registry::new();
    add_built_in(&mut registry, brain, desk);
    registry
}

/// The built-in kinds of [`registry`] plus `custom`'s, in one registry (what the bot engine
/// compiles its graph against).
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_agents::node::{registry_with, AgentNode, Brain, CustomKinds, Desk};
/// use tradegraph_agents::{AgentError, AgentName};
/// use tradegraph_broker::paper::{PaperBroker, PaperConfig};
/// use tradegraph_core::{Decimal, Instrument};
/// use tradegraph_graph::yaml::NoConfig;
///
/// let broker = PaperBroker::new(PaperConfig::new(Instrument::btc_usdt(), Decimal::from(10_000)))?;
/// let (brain, desk) = (Brain::rules_only()?, Desk::new(Arc::new(broker)));
///
/// // A second technical analyst under a kind of its own.
/// let custom = CustomKinds::new().with(|kinds, brain, _desk| {
///     let brain = brain.clone();
///     kinds.node("second_opinion", move |_: NoConfig| AgentNode::new(AgentName::Technical, brain.clone()));
/// });
/// let kinds = registry_with(&brain, &desk, &custom)?;
/// assert!(kinds.kinds().any(|k| k == "second_opinion"));
/// assert!(kinds.kinds().any(|k| k == "portfolio_manager"));
///
/// // A built-in kind cannot be taken.
/// let clash = CustomKinds::new().with(|kinds, brain, _desk| {
///     let brain = brain.clone();
///     kinds.node("technical", move |_: NoConfig| AgentNode::new(AgentName::Technical, brain.clone()));
/// });
/// let err = registry_with(&brain, &desk, &clash).unwrap_err();
/// assert!(matches!(&err, AgentError::KindTaken { kind, .. } if kind == "technical"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`AgentError::KindTaken`] when `custom` registers a node kind that is built in;
/// [`AgentError::NameTwice`] when two of `custom`'s adders register the same node kind, router,
/// condition or send (the second would silently replace the first).
pub fn registry_with(
    brain: &Brain,
    desk: &Desk,
    custom: &CustomKinds,
) -> Result<Registry<TradingState>, AgentError> {
    let mut registry = Registry::new();
    add_built_in(&mut registry, brain, desk);
    let built_in: Vec<String> = registry.kinds().map(str::to_owned).collect();
    let mut seen: Vec<(&'static str, String)> = Vec::new();
    for add in &custom.adders {
        let mut scratch = Registry::new();
        add(&mut scratch, brain, desk);
        if let Some(kind) = scratch.kinds().find(|k| built_in.iter().any(|b| b == k)) {
            return Err(AgentError::KindTaken {
                kind: kind.to_owned(),
                built_in,
            });
        }
        let names = (scratch.kinds().map(|n| ("node kind", n)))
            .chain(scratch.routers().map(|n| ("router", n)))
            .chain(scratch.conditions().map(|n| ("condition", n)))
            .chain(scratch.sends().map(|n| ("send", n)))
            .map(|(what, name)| (what, name.to_owned()))
            .collect::<Vec<_>>();
        if let Some((what, name)) = names.iter().find(|n| seen.contains(n)) {
            return Err(AgentError::NameTwice {
                what,
                name: name.clone(),
            });
        }
        seen.extend(names);
        add(&mut registry, brain, desk);
    }
    Ok(registry)
}

/// Registers a user's node kinds, given the brain and the desk the built-in nodes share.
type AddKinds = dyn Fn(&mut Registry<TradingState>, &Brain, &Desk) + Send + Sync;

/// Node kinds of your own, registered next to the built-in ones by [`registry_with`] (the bot
/// engine takes them from its configuration's `kinds`). Each function receives the registry,
/// and the [`Brain`] and [`Desk`] that the engine's nodes share, so a node of yours may ask the
/// configured model or read the broker and the guard as the built-in ones do.
#[derive(Clone, Default)]
pub struct CustomKinds {
    adders: Vec<Arc<AddKinds>>,
}

impl CustomKinds {
    /// No kinds of your own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `add`, which registers node kinds (and any routers, conditions or sends they need).
    #[must_use]
    pub fn with(
        mut self,
        add: impl Fn(&mut Registry<TradingState>, &Brain, &Desk) + Send + Sync + 'static,
    ) -> Self {
        self.adders.push(Arc::new(add));
        self
    }

    /// Whether no kinds were added.
    pub fn is_empty(&self) -> bool {
        self.adders.is_empty()
    }
}

impl fmt::Debug for CustomKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomKinds")
            .field("adders", &self.adders.len())
            .finish()
    }
}

/// The one place that registers the built-in kinds.
fn add_built_in(registry: &mut Registry<TradingState>, brain: &Brain, desk: &Desk) {
    for agent in AgentName::ALL {
        if matches!(agent, AgentName::Execution | AgentName::Learning) {
            continue;
        }
        let brain = brain.clone();
        registry.node(agent.as_str(), move |_: NoConfig| {
            AgentNode::new(agent, brain.clone())
        });
    }
    // Opens or closes a round of a debate whose sides speak at once: a node that changes
    // nothing, where the graph fans out to both sides or where the loop decides.
    registry.node(DEBATE_ROUND, |_: NoConfig| {
        Ok(node_fn(|_: Arc<TradingState>, _| async {
            Ok(Command::empty())
        }))
    });
    let (d, tf) = (desk.clone(), brain.rules().timeframe);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_broker::paper::{PaperBroker, PaperConfig};
    use tradegraph_core::{Decimal, Instrument};

    fn parts() -> (Brain, Desk) {
        let config = PaperConfig::new(Instrument::btc_usdt(), Decimal::from(10_000));
        let broker = PaperBroker::new(config).expect("paper broker");
        (
            Brain::rules_only().expect("brain"),
            Desk::new(Arc::new(broker)),
        )
    }

    fn own(kinds: &mut Registry<TradingState>, brain: &Brain, _desk: &Desk) {
        let brain = brain.clone();
        kinds.node("own", move |_: NoConfig| {
            AgentNode::new(AgentName::Technical, brain.clone())
        });
    }

    #[test]
    fn two_adders_registering_the_same_kind_are_refused() {
        let (brain, desk) = parts();
        let custom = CustomKinds::new().with(own).with(own);
        let err = registry_with(&brain, &desk, &custom).expect_err("the same kind twice");
        assert!(
            matches!(&err, AgentError::NameTwice { what: "node kind", name } if name == "own"),
            "{err}"
        );
        assert!(err.to_string().contains("`own`"), "{err}");
    }

    #[test]
    fn distinct_adders_and_the_built_in_kinds_are_all_registered() {
        let (brain, desk) = parts();
        let other = |kinds: &mut Registry<TradingState>, brain: &Brain, _: &Desk| {
            let brain = brain.clone();
            kinds.node("other", move |_: NoConfig| {
                AgentNode::new(AgentName::Macro, brain.clone())
            });
        };
        let custom = CustomKinds::new().with(own).with(other);
        let kinds = registry_with(&brain, &desk, &custom).expect("distinct kinds");
        for kind in [
            "own",
            "other",
            "technical",
            "risk_guard",
            "execution",
            "learning",
        ] {
            assert!(kinds.kinds().any(|k| k == kind), "{kind} missing");
        }
    }
}
