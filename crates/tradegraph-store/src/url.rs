//! Server URLs in messages and Debug output: never with their password or keys.
//!
//! [`redact`] and [`redact_all`] are [`tradegraph_core::redact::url`] and
//! [`tradegraph_core::redact::urls_in`]: one rule for every crate that shows a URL.

pub use tradegraph_core::redact::{url as redact, urls_in as redact_all};
