#![doc = include_str!("docs/lib.md")]

#[cfg(feature = "service")]
pub mod alerts;
pub mod audit;
pub mod backtest;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod engine;
pub mod guide;
pub mod prelude;
#[cfg(feature = "service")]
pub mod service;
pub mod telemetry;
#[cfg(feature = "redis")]
pub mod workers;

pub use tradegraph_agents as agents;
pub use tradegraph_broker as broker;
pub use tradegraph_core as core;
pub use tradegraph_graph as graph;
pub use tradegraph_llm as llm;
pub use tradegraph_market as market;
pub use tradegraph_store as store;
