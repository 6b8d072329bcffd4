#![doc = include_str!("docs/lib.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "anthropic")]
pub mod anthropic;
pub mod budget;
pub mod cache;
mod client;
pub mod config;
pub mod cutoff;
mod error;
pub mod fallback;
#[cfg(feature = "gemini")]
pub mod gemini;
pub mod health;
#[cfg(feature = "http")]
mod http;
mod keys;
pub mod metrics;
#[cfg(feature = "ollama")]
pub mod ollama;
#[cfg(feature = "openai")]
pub mod openai;
pub mod provider;
pub mod record;
pub mod structured;
mod types;

pub use async_trait::async_trait;
pub use client::{Llm, LlmBuilder, ProviderOptions};
pub use error::{ErrorKind, FailedAttempt, LlmError};
#[cfg(feature = "http")]
pub use http::{http_client_builder, MAX_RESPONSE_BYTES};
pub use provider::{Provider, SchemaMode, ScriptedProvider};
pub use structured::{extract_json, PreparedSchema, Repair, RepairPolicy, Structured, Violation};
pub use tradegraph_core::redact::Secret;
pub use tradegraph_core::redact::{url as redact_url, MIN_SECRET_CHARS};
pub use types::{Content, FinishReason, Message, Request, Response, Role, Sampling, Usage};

/// `by` after `now`, never overflowing ([`tradegraph_core::time::later`] on the runtime's
/// clock): a wait of `1e19` s from a configuration means "practically forever", not a panic.
pub(crate) fn later(now: tokio::time::Instant, by: std::time::Duration) -> tokio::time::Instant {
    tokio::time::Instant::from_std(tradegraph_core::time::later(now.into_std(), by))
}
