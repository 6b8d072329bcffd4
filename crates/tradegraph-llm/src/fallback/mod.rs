//! The fallback chain's parts: selection, failover, circuit breakers, limits and events.
//!
//! | part | what | default |
//! |---|---|---|
//! | [`SelectionPolicy`] | the order providers are tried in | [`Priority`] (primary first); [`Weighted`] by recent success and latency |
//! | [`FailoverPolicy`] | which errors move on to the next provider | [`DefaultFailover`]: retryable errors and rejected keys |
//! | [`BreakerPolicy`] | when a provider's breaker opens, for how long | 3 failures, 30 s, doubling to 5 min |
//! | [`Limits`] | requests/min, tokens/min, calls in flight | none |
//! | [`SharedLimits`] | the requests/min and tokens/min buckets shared with other processes (Redis) | none: each process its own |
//! | [`LlmEvent`] | alerts and state changes | broadcast + callbacks |
//!
//! One call goes through the providers in the selection's order. A provider that is disabled,
//! or whose breaker is open, is skipped; one at its rate or concurrency limit is put back and
//! tried after the others (waiting for its limit if nothing else answered), so parallel callers
//! spread across providers instead of queueing on the primary. A 429 with `Retry-After` opens
//! the provider's breaker for that long. A 401/403 disables the provider for good and raises
//! [`LlmEvent::ProviderDisabled`].

mod breaker;
mod event;
mod limit;
mod policy;
mod select;
mod shared;

pub(crate) use breaker::{Breaker, Transition};
pub use breaker::{BreakerPolicy, BreakerState};
pub use event::LlmEvent;
pub(crate) use event::{Callback, Events};
pub use limit::Limits;
pub(crate) use limit::{Blocked, Limiter, Permit};
pub use policy::{DefaultFailover, FailoverPolicy};
pub use select::{Candidate, Priority, SelectionPolicy, Weighted};
pub(crate) use shared::SharedGate;
pub use shared::{SharedLimitError, SharedLimits, SharedLimitsHandle};
