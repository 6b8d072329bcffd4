//! Guides: how to extend tradegraph, each step a doctest that compiles (and runs) against the
//! real APIs of this crate.
//!
//! | guide | what it shows |
//! |---|---|
//! | [`agent`] | write your own agent: its prompt, the model's answer checked against the report's schema, the rule fallback, registered under a node kind, wired into a graph and run in the bot engine |
//! | [`graph`] | write your own graph: a typed state, nodes, edges, a join and a loop, in Rust and in YAML with a registry; the trading graph's registry |
//! | [`broker`] | add a broker: the [`Broker`](crate::broker::Broker) contract, an implementation, and a check of it against the paper broker's behaviour |
//!
//! The modules hold no code: they are pages of documentation.

#[doc = include_str!("agent.md")]
pub mod agent {}

#[doc = include_str!("graph.md")]
pub mod graph {}

#[doc = include_str!("broker.md")]
pub mod broker {}
