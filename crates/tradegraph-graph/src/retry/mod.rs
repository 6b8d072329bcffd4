//! Node retry: a [`RetryPolicy`] decides, after each failed attempt, whether and when to retry.
//!
//! Modelled on tower's `retry::Policy`: the policy is a value, so it can be shared, tested on its
//! own and swapped per node.

mod backoff;
mod policy;

pub use backoff::{ExponentialBackoff, RetryOn};
pub use policy::{NoRetry, RetryPolicy};
pub use tradegraph_core::backoff::Jitter;
