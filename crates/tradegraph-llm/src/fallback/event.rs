//! Typed events: alerts (a disabled provider, a spent budget) and the chain's state changes.

use crate::{ErrorKind, Usage};
use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Something the chain did or saw. Subscribe with [`Llm::subscribe`](crate::Llm::subscribe)
/// or register a callback with [`LlmBuilder::on_event`](crate::LlmBuilder::on_event). Events
/// carry names, kinds and figures — never keys or prompts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LlmEvent {
    /// Alert: the provider's key was rejected (401/403); it is disabled for the life of the
    /// chain.
    ProviderDisabled {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
    },
    /// The provider's breaker opened (repeated failures, or a 429 with `Retry-After`).
    CircuitOpened {
        /// Provider name.
        provider: String,
        /// Until a probe is let through.
        #[serde(with = "crate::config::secs")]
        retry_in: Duration,
    },
    /// The breaker lets a probe through.
    CircuitHalfOpen {
        /// Provider name.
        provider: String,
    },
    /// The probe succeeded: calls flow again.
    CircuitClosed {
        /// Provider name.
        provider: String,
    },
    /// A provider failed and the call moved on to the next one.
    Failover {
        /// The provider that failed.
        provider: String,
        /// Why, in a word.
        kind: ErrorKind,
        /// Why, in words (redacted).
        message: String,
    },
    /// A call to a provider failed (after what it spent: a provider may bill a failed or
    /// unrepairable answer). Counted as a call by [`Llm::accounting`](crate::Llm::accounting),
    /// as [`LlmEvent::Call`] is: every attempt sent to a provider is one call.
    CallFailed {
        /// Provider name.
        provider: String,
        /// The agent that asked (`None` when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// Model.
        model: String,
        /// Tokens spent.
        usage: Usage,
        /// Cost in the price table's currency (zero when unpriced).
        cost: Decimal,
        /// Why, in a word.
        kind: ErrorKind,
    },
    /// Alert: a budget is spent; calls fail with
    /// [`LlmError::BudgetExceeded`](crate::LlmError::BudgetExceeded) until the window ends (a
    /// new run, the next cycle, the next day).
    BudgetExceeded {
        /// Which budget (events recorded before windows existed were the run's).
        #[serde(default)]
        window: crate::budget::BudgetWindow,
        /// What was exceeded.
        what: String,
    },
    /// A call finished (answered, from the cache or not).
    Call {
        /// Provider name.
        provider: String,
        /// The agent that asked ([`Request::agent`](crate::Request::agent); `None` when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// Model.
        model: String,
        /// Tokens spent (repair turns included; zero when cached: nothing was billed).
        usage: Usage,
        /// Cost in the price table's currency (zero when unpriced or cached).
        cost: Decimal,
        /// Latency.
        #[serde(with = "crate::config::secs")]
        latency: Duration,
        /// From the cache.
        cached: bool,
        /// Repair turns taken.
        repairs: u32,
    },
}

/// An event callback.
pub(crate) type Callback = Arc<dyn Fn(&LlmEvent) + Send + Sync>;

/// Where events go: a broadcast channel and the registered callbacks.
#[derive(Clone)]
pub(crate) struct Events {
    channel: broadcast::Sender<LlmEvent>,
    callbacks: Vec<Callback>,
}

impl Events {
    pub(crate) fn new(callbacks: Vec<Callback>) -> Self {
        Self {
            channel: broadcast::channel(256).0,
            callbacks,
        }
    }

    pub(crate) fn emit(&self, event: LlmEvent) {
        for cb in &self.callbacks {
            cb(&event);
        }
        // No subscriber is fine.
        let _ = self.channel.send(event);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<LlmEvent> {
        self.channel.subscribe()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("subscribers", &self.channel.receiver_count())
            .field("callbacks", &self.callbacks.len())
            .finish()
    }
}
