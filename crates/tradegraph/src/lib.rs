#![doc = include_str!("docs/lib.md")]

pub mod cli;
pub mod runtime;

pub use tradegraph_graph as graph;
