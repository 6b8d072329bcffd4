//! The YAML format, as Rust types: what a graph file may contain. Unknown keys are errors
//! everywhere, so a typo is reported with the key's name and position.
//!
//! The doc comments here become the descriptions of the JSON Schema (`graphs/graph.schema.json`).

use super::located::{Located, NodeList, OrderedMap, Targets};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A tradegraph graph declared in YAML: nodes made by registered kinds, edges, loops, interrupts
/// and run limits. See the `tradegraph_graph::yaml` documentation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tradegraph graph")]
pub(crate) struct GraphSpec {
    /// The graph's name, shown in traces and pictures.
    pub(crate) name: Located<String>,
    /// Run limits guarding against runaway graphs.
    pub(crate) limits: Option<Located<LimitsSpec>>,
    /// The nodes, in declaration order (which is also the order in which one superstep's
    /// updates are merged).
    pub(crate) nodes: Located<Vec<NodeSpec>>,
    /// The edges, each of one shape: static (`from`, `to`), join (`join`, `to`), named router
    /// (`from`, `router`, `targets`), field route (`from`, `field`, `cases`) or send (`from`,
    /// `send`, `to`).
    pub(crate) edges: Located<Vec<Located<EdgeSpec>>>,
    /// Declared loops with a round limit (the bull/bear debate is one).
    #[serde(default)]
    pub(crate) loops: Vec<LoopSpec>,
    /// Nodes to pause before or after, for a person to approve.
    pub(crate) interrupts: Option<InterruptsSpec>,
}

/// Run limits.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Limits")]
pub(crate) struct LimitsSpec {
    /// Supersteps allowed in one run (default 100).
    #[schemars(range(min = 1))]
    pub(crate) max_steps: Option<u64>,
    /// Times the head of a cycle may run in one run, unless set per head (default 25).
    #[schemars(range(min = 1))]
    pub(crate) default_loop_limit: Option<u32>,
    /// Per cycle head (node name): times it may run in one run.
    pub(crate) loop_limits: Option<OrderedMap<Located<String>, u32>>,
    /// Nodes running at once within a superstep (default unlimited).
    #[schemars(range(min = 1))]
    pub(crate) max_concurrency: Option<Located<usize>>,
}

/// A node: a registered kind, its configuration and its options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Node")]
pub(crate) struct NodeSpec {
    /// The node's name, unique in the graph (`start` and `end` are reserved).
    pub(crate) name: Located<String>,
    /// The registered kind that makes the node.
    pub(crate) kind: Located<String>,
    /// The kind's own configuration; the kind's factory checks it. Absent (or null) is read as
    /// an empty mapping.
    pub(crate) config: Option<Located<Value>>,
    /// Per-attempt timeout in milliseconds.
    #[schemars(range(min = 1))]
    pub(crate) timeout_ms: Option<Located<u64>>,
    /// Retry policy: exponential backoff.
    pub(crate) retry: Option<Located<RetrySpec>>,
    /// The nodes this node may send the run to with `goto`.
    pub(crate) routes: Option<Vec<Located<String>>>,
}

/// Exponential backoff: `initial_ms * multiplier^(attempt-1)`, capped at `max_ms`, with jitter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Retry")]
pub(crate) struct RetrySpec {
    /// Attempts in all, the first included.
    #[schemars(range(min = 1))]
    pub(crate) max_attempts: Located<u32>,
    /// The first delay in milliseconds (default 100).
    pub(crate) initial_ms: Option<u64>,
    /// The largest delay in milliseconds (default 10000).
    pub(crate) max_ms: Option<u64>,
    /// The growth factor, at least 1 (default 2).
    #[schemars(range(min = 1.0))]
    pub(crate) multiplier: Option<Located<f64>>,
    /// `full` (a uniform delay between zero and the computed one; default) or `none`.
    pub(crate) jitter: Option<JitterSpec>,
    /// Which errors are retried (default `transient`).
    pub(crate) retry_on: Option<RetryOnSpec>,
}

/// Jitter of the retry delays.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Jitter")]
pub(crate) enum JitterSpec {
    /// A uniform delay between zero and the computed delay.
    Full,
    /// Exactly the computed delay.
    None,
}

/// Which errors are retried.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "RetryOn")]
pub(crate) enum RetryOnSpec {
    /// Transient failures and timeouts.
    Transient,
    /// Every error but cancellation, schema violations included.
    AnyButCancelled,
    /// Transient failures, timeouts and schema violations.
    TransientOrInvalidOutput,
}

/// An edge. Every key is optional here; the loader checks that the keys form exactly one shape
/// (see `schema.rs` for the shapes as the JSON Schema states them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgeSpec {
    pub(crate) from: Option<Located<String>>,
    pub(crate) to: Option<Located<NodeList>>,
    pub(crate) join: Option<Located<Vec<Located<String>>>>,
    pub(crate) router: Option<Located<String>>,
    pub(crate) targets: Option<Located<Targets>>,
    pub(crate) field: Option<Located<String>>,
    pub(crate) pointer: Option<Located<String>>,
    pub(crate) cases: Option<Located<Vec<Located<CaseSpec>>>>,
    pub(crate) default: Option<Located<String>>,
    pub(crate) send: Option<Located<String>>,
}

/// One case of a field route: exactly one comparison, and the node it leads to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseSpec {
    pub(crate) to: Located<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) equals: Option<Located<Value>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) not_equals: Option<Located<Value>>,
    #[serde(rename = "in")]
    pub(crate) in_: Option<Located<Vec<Value>>>,
    pub(crate) gt: Option<Located<f64>>,
    pub(crate) gte: Option<Located<f64>>,
    pub(crate) lt: Option<Located<f64>>,
    pub(crate) lte: Option<Located<f64>>,
    pub(crate) truthy: Option<Located<bool>>,
}

/// `equals: null` compares with null rather than meaning "no `equals`".
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Located<Value>>, D::Error> {
    Located::deserialize(deserializer).map(Some)
}

/// A declared loop: after `tail` runs, go back to `head` until `max_rounds` rounds are done (or
/// the `while` condition fails), then go to `exit`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Loop")]
pub(crate) struct LoopSpec {
    /// The loop's name, unique in the graph.
    pub(crate) name: Located<String>,
    /// The node each round starts at.
    pub(crate) head: Located<String>,
    /// The node each round ends at; the loop decides where it goes, so it has no edges of its own.
    pub(crate) tail: Located<String>,
    /// The most rounds.
    #[schemars(range(min = 1))]
    pub(crate) max_rounds: Located<u32>,
    /// Where the run goes when the loop ends (default `end`).
    pub(crate) exit: Option<Located<String>>,
    /// A registered condition: go round again only while it holds.
    #[serde(rename = "while")]
    pub(crate) while_: Option<Located<String>>,
}

/// Static interrupts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Interrupts")]
pub(crate) struct InterruptsSpec {
    /// Pause before these nodes run; resuming runs them.
    #[serde(default)]
    pub(crate) before: Vec<Located<String>>,
    /// Pause after the superstep in which these nodes ran.
    #[serde(default)]
    pub(crate) after: Vec<Located<String>>,
}
