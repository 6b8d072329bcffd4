//! Server URLs in messages and Debug output: never with their password or keys.
//!
//! [`redact`] and [`redact_all`] are [`tradegraph_core::redact::url`] and
//! [`tradegraph_core::redact::urls_in`]: one rule for every crate that shows a URL.

pub use tradegraph_core::redact::{url as redact, urls_in as redact_all};

/// A comma-separated list of URLs (a Redis Cluster's nodes), each [`redact`]ed.
///
/// ```
/// use tradegraph_store::url::redact_nodes;
/// assert_eq!(
///     redact_nodes("redis://:a@h:1,redis://u:b@g:2"),
///     "redis://***@h:1,redis://***@g:2"
/// );
/// ```
pub fn redact_nodes(list: &str) -> String {
    list.split(',').map(redact).collect::<Vec<_>>().join(",")
}
