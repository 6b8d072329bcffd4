#![doc = include_str!("docs/lib.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

// Lets `#[derive(GraphState)]` (which names `::tradegraph_graph`) work inside this crate too.
#[cfg(any(test, feature = "conformance"))]
extern crate self as tradegraph_graph;

mod builder;
pub mod checkpoint;
mod compile;
mod error;
mod event;
pub mod metrics;
pub mod node;
pub mod render;
pub mod retry;
pub mod router;
mod run;
pub mod schema;
mod state;
mod subgraph;
#[cfg(feature = "yaml")]
pub mod yaml;

pub use async_trait::async_trait;
pub use builder::{Limits, Loop, NodeOptions, StateGraph, END, START};
pub use checkpoint::{Checkpoint, CheckpointId, Checkpointer, MemoryCheckpointer};
pub use compile::{CompiledGraph, CycleInfo, EdgeInfo, EdgeKind, LoopInfo, NodeInfo, Topology};
pub use error::{BuildError, BuildErrors, GraphError};
pub use event::{Event, LoopExitReason};
pub use node::{
    map_fn, node_fn, Command, Goto, MapNode, Node, NodeContext, NodeError, NodeResult,
    StructuredNode, Validated,
};
pub use router::{Route, Router};
pub use run::{Resume, RunConfig, RunOutput, RunStatus, RunStream};
pub use state::{
    reducer, FieldSpec, GraphState, MergeError, NodeName, ReducerKind, StateUpdate, Write,
};
pub use subgraph::Subgraph;
pub use tokio_util::sync::CancellationToken;
#[cfg(feature = "derive")]
pub use tradegraph_graph_macros::GraphState;

/// Used by the code that `#[derive(GraphState)]` generates. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::state::merge_support::{check_map_keys, check_overwrite, present};
    pub use serde;
    pub use serde_json;
}
