//! Prompts: one template per agent in `prompts/`, embedded at compile time and overridable from
//! a directory at run time, rendered with [minijinja](https://docs.rs/minijinja).
//!
//! Each template has two blocks, `system` and `user`. Templates see a [`PromptContext`] built
//! from the [`TradingState`](crate::TradingState): the instrument and its kind (crypto or Indian
//! index futures), prices, indicators, the reports so far, the debate, lessons and weights, and
//! the JSON Schema the answer must follow. News and other third-party text go through the
//! `untrusted` filter and sit inside `<data>` tags that the system block declares to be data,
//! never instructions.

mod context;
mod filters;
mod library;

pub use context::PromptContext;
pub use library::{Prompts, RenderedPrompt};
