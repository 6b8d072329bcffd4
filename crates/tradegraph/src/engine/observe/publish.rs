//! How the engine tells: events on a broadcast channel (only when someone listens), the status
//! on a `watch` channel, and the equity curve.

use super::{BotEvent, BotStatus};
use crate::engine::EquityPoint;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, watch};
use tradegraph_core::Timestamp;

/// The wall clock, as a timestamp (operational times: when an event arrived, when an operator
/// acted), whatever clock drives the market.
pub(crate) fn wall_now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// The engine's side of the events and the status.
pub(crate) struct Observer {
    events: Option<broadcast::Sender<BotEvent>>,
    status: watch::Sender<BotStatus>,
}

impl Observer {
    pub(crate) fn new(events: Option<broadcast::Sender<BotEvent>>, status: BotStatus) -> Self {
        Self {
            events,
            status: watch::Sender::new(status),
        }
    }

    /// Whether anyone listens to the events (nothing is built for them otherwise).
    pub(crate) fn listening(&self) -> bool {
        self.events.as_ref().is_some_and(|e| e.receiver_count() > 0)
    }

    /// Publishes the event `make` builds, when anyone listens.
    pub(crate) fn publish(&self, make: impl FnOnce() -> BotEvent) {
        if let Some(events) = self.events.as_ref().filter(|e| e.receiver_count() > 0) {
            // No receiver left between the check and the send: nobody to tell.
            let _ = events.send(make());
        }
    }

    /// Changes the status; `change` says whether it changed anything (watchers are woken
    /// only then).
    pub(crate) fn status(&self, change: impl FnOnce(&mut BotStatus) -> bool) {
        if self.status.receiver_count() == 0 {
            // Nobody watches (a backtest takes no handle): the value changes and nobody is
            // woken, which the price of every bar otherwise costs. A later receiver reads the
            // value as it is. Receivers are made only through `Engine::handle(&self)`, never
            // while this runs, so none can subscribe between the count and the change.
            self.status.send_if_modified(|status| {
                change(status);
                false
            });
        } else {
            self.status.send_if_modified(change);
        }
    }

    /// A receiver of the status.
    pub(crate) fn watch(&self) -> watch::Receiver<BotStatus> {
        self.status.subscribe()
    }
}

/// The bot's equity over time: a point per one-minute bar, the newest
/// [`EquityCurve::KEEP`] kept. The engine writes it; clones share it.
///
/// ```
/// use tradegraph::engine::EquityCurve;
/// let curve = EquityCurve::new();
/// assert!(curve.points(100).is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct EquityCurve(Arc<Mutex<VecDeque<EquityPoint>>>);

impl EquityCurve {
    /// Points kept: a week of minutes.
    pub const KEEP: usize = 10_080;

    /// An empty curve.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&self, point: EquityPoint) {
        let mut points = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if points.len() == Self::KEEP {
            points.pop_front();
        }
        points.push_back(point);
    }

    /// The newest `n` points, oldest first.
    pub fn points(&self, n: usize) -> Vec<EquityPoint> {
        let points = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = points.len().saturating_sub(n);
        points.iter().skip(skip).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn observer() -> Observer {
        Observer::new(
            None,
            BotStatus::new("BTCUSDT".into(), false, Timestamp::from_secs(0)),
        )
    }

    #[tokio::test]
    async fn a_change_nobody_watches_is_kept_for_whoever_watches_later() {
        let observer = observer();
        observer.status(|s| {
            s.kill_switch = true;
            true
        });
        let mut watcher = observer.watch();
        assert!(watcher.borrow().kill_switch, "a later receiver reads it");
        observer.status(|s| {
            s.entries_paused = true;
            true
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), watcher.changed())
            .await
            .unwrap()
            .unwrap();
        let seen = watcher.borrow_and_update();
        assert!(seen.entries_paused && seen.kill_switch);
    }

    #[tokio::test]
    async fn a_watcher_is_not_woken_for_no_change() {
        let observer = observer();
        let watcher = observer.watch();
        observer.status(|_| false);
        assert!(!watcher.has_changed().unwrap());
        observer.status(|s| {
            s.kill_switch = true;
            true
        });
        assert!(watcher.has_changed().unwrap());
    }
}
