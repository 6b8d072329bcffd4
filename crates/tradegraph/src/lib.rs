#![doc = include_str!("docs/lib.md")]

pub mod cli;

pub use tradegraph_graph as graph;
