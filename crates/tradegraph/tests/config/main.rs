//! The bot configuration: precedence of flags, environment, `.env.<name>`, `.env`, the TOML file
//! and defaults; unknown keys; custom instruments; `config show` and secrets; logging.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod deploy;
mod file;
mod inputs;
mod instruments;
mod logging;
mod paper;
mod precedence;
mod redaction;
mod show;
mod support;
mod switches;
