//! [`RecentAlerts`]: the alerts this run raised, newest kept, for when the store cannot answer.

use crate::engine::AlertEvent;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// How many alerts [`RecentAlerts`] keeps.
pub const RECENT_KEPT: usize = 200;

/// The newest alerts (and recoveries) the [`AlertService`](super::AlertService) raised in this
/// run, at most [`RECENT_KEPT`]: it is their source, so `GET /api/v1/alerts` answers from this
/// list when the store's alert log does not answer (MongoDB down is when alerts matter most).
/// Cheap to clone: clones share the list.
///
/// ```
/// use tradegraph::alerts::RecentAlerts;
/// use tradegraph::engine::{AlertEvent, AlertKind, Severity};
/// let recent = RecentAlerts::default();
/// let at = tradegraph::core::Timestamp::from_secs(1_704_103_200);
/// recent.push(AlertEvent::new(AlertKind::StoreDown, "mongodb", Severity::Critical, "down", at));
/// recent.push(AlertEvent::new(AlertKind::FeedStale, "feed", Severity::Warning, "stale", at));
/// let newest = recent.newest(1);
/// assert_eq!(newest[0].key, "feed_stale:feed");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecentAlerts(Arc<Mutex<VecDeque<AlertEvent>>>);

impl RecentAlerts {
    /// Keeps `alert`, dropping the oldest beyond [`RECENT_KEPT`].
    pub fn push(&self, alert: AlertEvent) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if list.len() == RECENT_KEPT {
            list.pop_front();
        }
        list.push_back(alert);
    }

    /// The newest `limit` alerts, newest first.
    pub fn newest(&self, limit: usize) -> Vec<AlertEvent> {
        let list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        list.iter().rev().take(limit).cloned().collect()
    }
}
