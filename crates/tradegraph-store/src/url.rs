//! Server URLs in messages and Debug output: never with their password or keys.
//!
//! [`redact`] and [`redact_all`] are [`tradegraph_core::redact::url`] and
//! [`tradegraph_core::redact::urls_in`]: one rule for every crate that shows a URL.

pub use tradegraph_core::redact::{url as redact, urls_in as redact_all};

/// A comma-separated list of URLs (a Redis Cluster's nodes), each [`redact`]ed. A comma not
/// followed by a scheme (`redis://`, `rediss://`, ...) belongs to the URL before it (a password
/// may hold one).
///
/// ```
/// use tradegraph_store::url::redact_nodes;
/// assert_eq!(
///     redact_nodes("redis://:a@h:1,redis://u:b@g:2"),
///     "redis://***@h:1,redis://***@g:2"
/// );
/// assert_eq!(redact_nodes("redis://:pa,ss@h:1"), "redis://***@h:1");
/// ```
pub fn redact_nodes(list: &str) -> String {
    nodes(list)
        .into_iter()
        .map(redact)
        .collect::<Vec<_>>()
        .join(",")
}

/// The URLs of a comma-separated list: split at each comma followed by a scheme (`<name>://`),
/// so that a comma inside a URL (in a password) stays in it.
///
/// ```
/// use tradegraph_store::url::nodes;
/// assert_eq!(nodes("redis://a:1, redis://b:2"), ["redis://a:1", " redis://b:2"]);
/// assert_eq!(nodes("redis://:pa,ss@h:1"), ["redis://:pa,ss@h:1"]);
/// ```
pub fn nodes(list: &str) -> Vec<&str> {
    let scheme_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-');
    let mut out = Vec::new();
    let mut start = 0;
    for (at, _) in list.match_indices(',') {
        let next = list[at + 1..].trim_start();
        let scheme = next
            .find("://")
            .is_some_and(|i| i > 0 && next[..i].chars().all(scheme_char));
        if scheme {
            out.push(&list[start..at]);
            start = at + 1;
        }
    }
    out.push(&list[start..]);
    out
}
