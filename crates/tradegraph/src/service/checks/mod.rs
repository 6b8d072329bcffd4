#![doc = include_str!("checks.md")]

mod bot;
mod checker;
mod llm;
mod probe;
mod stores;

pub use crate::config::HealthConfig;
pub use checker::{Checker, CheckerTask};
pub use llm::LlmProbe;
pub use probe::{Outcome, Probe};
pub use stores::{MongoProbe, RedisProbe};

#[cfg(test)]
mod tests;
