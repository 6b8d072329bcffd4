#![doc = include_str!("alerts.md")]
//!
//! ## Webhook bodies
//!
#![doc = include_str!("webhooks.md")]

mod alerter;
mod dedup;
mod error;
mod input;
mod recent;
pub mod rule;
mod sample;
mod service;
pub mod sink;

pub use crate::config::{AlertsConfig, WebhookConfig, WebhookFormat};
pub use crate::telemetry::{error_count, ErrorCounter};
pub use alerter::Alerter;
pub use dedup::{Admission, AlertClock, Dedup, WallClock};
pub use error::AlertError;
pub use input::Input;
pub use recent::{RecentAlerts, RECENT_KEPT};
pub use sample::{resident_memory_mb, Sample, WinWindow, MIN_SHARPE_POINTS, SHARPE_POINTS};
pub use service::{AlertService, AlertSources};

#[cfg(test)]
mod tests;
