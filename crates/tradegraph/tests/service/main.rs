//! The bot as a service, as a user runs it: `tradegraph run` on a local Binance-format feed
//! and a local model server, its HTTP service on a loopback port, driven with real HTTP: every
//! read endpoint and its paging, the event stream and a reconnect with `Last-Event-ID`, 401 on
//! every control endpoint, the kill switch across a restart, pause, close all, cancel all, and
//! the approval of entries (approve, reject, expire, superseded, across a restart), and the
//! periodic health checks through a Redis, MongoDB, model and feed outage.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod approval;
mod control;
mod dashboard;
mod dashboard_browser;
mod harness;
mod health;
mod live_binance;
mod read_api;
mod reconcile;
mod replay;
mod resume;
