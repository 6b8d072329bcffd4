//! The trading day in India: Kite's access tokens and orders belong to it. Compiled without
//! the `kite` feature too (the configuration reads the day's stored token).

use tradegraph_core::Timestamp;

/// The current time.
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}

/// Today in India (`YYYY-MM-DD`): the day Kite's access tokens and orders belong to.
///
/// ```
/// let day = tradegraph_broker::live::kite::ist_today();
/// assert_eq!(day.len(), 10);
/// ```
pub fn ist_today() -> String {
    now().in_india().format("%Y-%m-%d").to_string()
}
