//! [`Registry`]: what the names in a YAML graph mean in Rust.

use crate::builder::{NodeOptions, StateGraph};
use crate::node::{MapNode, Node};
use crate::router::{Condition, Route, Router};
use crate::state::GraphState;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Why a kind could not make a node.
#[derive(Debug)]
pub(crate) enum NodeProblem {
    /// The `config` does not deserialize into the kind's config type.
    Config(String),
    /// The factory rejected the config.
    Factory(String),
}

type NodeAdder<S> = Arc<
    dyn Fn(&mut StateGraph<S>, &str, serde_json::Value, NodeOptions) -> Result<(), NodeProblem>
        + Send
        + Sync,
>;
type SendAdder<S> = Arc<dyn Fn(&mut StateGraph<S>, &str, &str, &str) + Send + Sync>;

struct Kind<S: GraphState> {
    map: bool,
    add: NodeAdder<S>,
}

impl<S: GraphState> Clone for Kind<S> {
    fn clone(&self) -> Self {
        Self {
            map: self.map,
            add: self.add.clone(),
        }
    }
}

/// Maps the names a YAML graph uses to Rust: node kinds to factories, router, condition and
/// send names to functions.
///
/// A kind's factory receives the node's `config`, deserialized into the kind's own config type
/// `C`; when a node has no `config` (or `config: null`), `C` is deserialized from an empty
/// mapping, so a config struct whose fields all have defaults works without one (and
/// [`NoConfig`] takes nothing at all). Registering a name again replaces the earlier entry.
///
/// ```
/// use std::sync::Arc;
/// use serde::{Deserialize, Serialize};
/// use tradegraph_graph::yaml::{NoConfig, Registry};
/// use tradegraph_graph::{node_fn, Command, GraphState};
///
/// #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// struct Doc { text: String, score: f64 }
///
/// #[derive(Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct ScorerConfig { #[serde(default)] weight: f64 }
///
/// let mut registry = Registry::<Doc>::new();
/// registry
///     .node("scorer", |config: ScorerConfig| {
///         let weight = config.weight;
///         Ok(node_fn(move |doc: Arc<Doc>, _ctx| async move {
///             Ok(Command::update(DocUpdate::default().score(weight * doc.text.len() as f64)))
///         }))
///     })
///     .node("noop", |_: NoConfig| Ok(node_fn(|_doc: Arc<Doc>, _ctx| async { Ok(Command::empty()) })))
///     .router("by_score", |doc: &Doc| if doc.score > 1.0 { "publish" } else { "rewrite" })
///     .condition("too_short", |doc: &Doc| doc.text.len() < 100);
/// assert_eq!(registry.kinds().collect::<Vec<_>>(), ["noop", "scorer"]);
/// ```
pub struct Registry<S: GraphState> {
    kinds: BTreeMap<String, Kind<S>>,
    routers: BTreeMap<String, Arc<dyn Router<S>>>,
    conditions: BTreeMap<String, Arc<dyn Condition<S>>>,
    sends: BTreeMap<String, SendAdder<S>>,
}

/// The config type of a kind that takes no configuration: accepts no `config`, `config: {}` or
/// `config: null`, and rejects any key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

impl<S: GraphState> Registry<S> {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            kinds: BTreeMap::new(),
            routers: BTreeMap::new(),
            conditions: BTreeMap::new(),
            sends: BTreeMap::new(),
        }
    }

    /// Registers node kind `kind`: `factory` makes a node from the node's `config`.
    ///
    /// A factory error (say, a config value out of range) is reported at the node's `config`.
    pub fn node<C, N, F>(&mut self, kind: impl Into<String>, factory: F) -> &mut Self
    where
        C: DeserializeOwned + Send + 'static,
        N: Node<S>,
        F: Fn(C) -> Result<N, String> + Send + Sync + 'static,
    {
        let add: NodeAdder<S> = Arc::new(move |graph, name, config, options| {
            let node = factory(decode::<C>(config)?).map_err(NodeProblem::Factory)?;
            graph.add_node_arc(name, Arc::new(node), options);
            Ok(())
        });
        self.kinds.insert(kind.into(), Kind { map: false, add });
        self
    }

    /// Registers map-node kind `kind` (a node run once per item of a `send` edge).
    pub fn map_node<C, M, F>(&mut self, kind: impl Into<String>, factory: F) -> &mut Self
    where
        C: DeserializeOwned + Send + 'static,
        M: MapNode<S>,
        F: Fn(C) -> Result<M, String> + Send + Sync + 'static,
    {
        let add: NodeAdder<S> = Arc::new(move |graph, name, config, options| {
            let node = factory(decode::<C>(config)?).map_err(NodeProblem::Factory)?;
            graph.add_map_node(name, node, options);
            Ok(())
        });
        self.kinds.insert(kind.into(), Kind { map: true, add });
        self
    }

    /// Registers a router that edges with `router: <name>` use.
    pub fn router(&mut self, name: impl Into<String>, router: impl Router<S>) -> &mut Self {
        self.routers.insert(name.into(), Arc::new(router));
        self
    }

    /// Registers a condition that loops with `while: <name>` use.
    pub fn condition(
        &mut self,
        name: impl Into<String>,
        condition: impl Condition<S>,
    ) -> &mut Self {
        self.conditions.insert(name.into(), Arc::new(condition));
        self
    }

    /// Registers the items of a dynamic fan-out that edges with `send: <name>` use; the target
    /// map node must take items of type `I`.
    pub fn send<I, F>(&mut self, name: impl Into<String>, items: F) -> &mut Self
    where
        I: Serialize + 'static,
        F: Fn(&S) -> Vec<I> + Send + Sync + 'static,
    {
        let items = Arc::new(items);
        let add: SendAdder<S> = Arc::new(move |graph, from, name, to| {
            let items = items.clone();
            graph.add_send(from, name, to, move |state: &S| items(state));
        });
        self.sends.insert(name.into(), add);
        self
    }

    /// The registered node kinds, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }

    /// The registered routers, sorted.
    pub fn routers(&self) -> impl Iterator<Item = &str> {
        self.routers.keys().map(String::as_str)
    }

    /// The registered conditions, sorted.
    pub fn conditions(&self) -> impl Iterator<Item = &str> {
        self.conditions.keys().map(String::as_str)
    }

    /// The registered sends, sorted.
    pub fn sends(&self) -> impl Iterator<Item = &str> {
        self.sends.keys().map(String::as_str)
    }

    /// Whether `kind` is registered, and as a map node (`Some(true)`) or a plain one.
    pub fn is_map_kind(&self, kind: &str) -> Option<bool> {
        self.kinds.get(kind).map(|k| k.map)
    }

    pub(crate) fn add_node(
        &self,
        graph: &mut StateGraph<S>,
        kind: &str,
        name: &str,
        config: serde_json::Value,
        options: NodeOptions,
    ) -> Option<Result<(), NodeProblem>> {
        self.kinds
            .get(kind)
            .map(|k| (k.add)(graph, name, config, options))
    }

    pub(crate) fn shared_router(&self, name: &str) -> Option<SharedRouter<S>> {
        self.routers.get(name).cloned().map(SharedRouter)
    }

    pub(crate) fn shared_condition(&self, name: &str) -> Option<SharedCondition<S>> {
        self.conditions.get(name).cloned().map(SharedCondition)
    }

    pub(crate) fn add_send(
        &self,
        graph: &mut StateGraph<S>,
        from: &str,
        name: &str,
        to: &str,
    ) -> bool {
        self.sends
            .get(name)
            .map(|add| add(graph, from, name, to))
            .is_some()
    }
}

fn decode<C: DeserializeOwned>(config: serde_json::Value) -> Result<C, NodeProblem> {
    serde_json::from_value(config).map_err(|e| NodeProblem::Config(e.to_string()))
}

impl<S: GraphState> Default for Registry<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: GraphState> Clone for Registry<S> {
    fn clone(&self) -> Self {
        Self {
            kinds: self.kinds.clone(),
            routers: self.routers.clone(),
            conditions: self.conditions.clone(),
            sends: self.sends.clone(),
        }
    }
}

impl<S: GraphState> fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .field("routers", &self.routers.keys().collect::<Vec<_>>())
            .field("conditions", &self.conditions.keys().collect::<Vec<_>>())
            .field("sends", &self.sends.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A registered router, shared by every edge that names it.
pub(crate) struct SharedRouter<S>(pub(crate) Arc<dyn Router<S>>);

impl<S: 'static> Router<S> for SharedRouter<S> {
    fn route(&self, state: &S) -> Route {
        self.0.route(state)
    }
}

/// A registered condition, shared by every loop that names it.
pub(crate) struct SharedCondition<S>(pub(crate) Arc<dyn Condition<S>>);

impl<S: 'static> Condition<S> for SharedCondition<S> {
    fn holds(&self, state: &S) -> bool {
        self.0.holds(state)
    }
}
