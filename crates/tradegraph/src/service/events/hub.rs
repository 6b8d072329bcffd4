//! [`EventHub`]: the bot's events, numbered, with the newest kept for clients that reconnect.

use crate::engine::BotEvent;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, watch};

/// One event as clients get it: its number (the SSE `id` is `<run>:<number>`, the run being
/// [`EventHub::run`]), its type (the SSE `event`) and its JSON (the SSE `data`), serialized
/// once for every client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// Its number in this run: one more than the previous event's, from 1.
    pub id: u64,
    /// Its type (`decision`, `order`, ...).
    pub kind: &'static str,
    /// The event as JSON.
    pub json: String,
}

/// What a client of the stream starts from ([`EventHub::since`]).
#[derive(Debug)]
pub struct Subscription {
    /// The events after the one asked for that are still kept, oldest first.
    pub backlog: Vec<Arc<Stamped>>,
    /// The events to come.
    pub live: broadcast::Receiver<Arc<Stamped>>,
    /// When events after the one asked for are no longer kept: `(first missed, first kept)`.
    pub gap: Option<(u64, u64)>,
    /// When the one asked for is ahead of every event this hub numbered, it comes from another
    /// run of the bot (numbers start at 1 in each run): the backlog is then every event kept,
    /// from the first, and this is the number of the first event the client gets.
    pub reset: Option<u64>,
}

struct Ring {
    events: VecDeque<Arc<Stamped>>,
    last_id: u64,
    capacity: usize,
}

struct Shared {
    /// This run's id: the first part of every SSE `id`.
    run: String,
    ring: Mutex<Ring>,
    live: broadcast::Sender<Arc<Stamped>>,
    input: broadcast::Sender<BotEvent>,
    closed: watch::Sender<bool>,
    /// An alert service numbers the alerts and streams them itself.
    numbered: AtomicBool,
}

/// The bot's events, numbered in the order they came, the newest `capacity` kept: what the
/// event stream (`GET /api/v1/events`) serves, live and to clients that reconnect with
/// `Last-Event-ID`. Give [`EventHub::sender`] to the engine
/// ([`BotConfig::events`](crate::engine::BotConfig::events)); anything else (health checks,
/// alerts) may [`publish`](EventHub::publish) too. Clones share the hub.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// use tradegraph::engine::BotEvent;
/// use tradegraph::service::EventHub;
/// let hub = EventHub::start(100);
/// hub.publish(BotEvent::KillSwitch { engaged: true, at: tradegraph::core::Timestamp::EPOCH });
/// tokio::time::sleep(std::time::Duration::from_millis(10)).await;
/// let resumed = hub.since(Some(0));
/// let first = &resumed.backlog[0];
/// assert_eq!((resumed.backlog.len(), first.id, first.kind, resumed.gap), (1, 1, "kill_switch", None));
/// # Ok::<(), std::io::Error>(()) })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct EventHub(Arc<Shared>);

impl EventHub {
    /// A hub keeping the newest `capacity` events (at least 1), with its recorder task
    /// started. Must be called inside a tokio runtime.
    pub fn start(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (input, mut rx) = broadcast::channel(capacity.max(1024));
        let (live, _) = broadcast::channel(capacity.max(1024));
        let (closed, mut closing) = watch::channel(false);
        let hub = Self(Arc::new(Shared {
            run: run_id(),
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity),
                last_id: 0,
                capacity,
            }),
            live,
            input,
            closed,
            numbered: AtomicBool::new(false),
        }));
        let recorder = hub.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    // What was published before the close is kept first.
                    biased;
                    received = rx.recv() => match received {
                        Ok(event) => recorder.record(&event),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "event stream: the recorder fell behind; events were lost");
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = closing.changed() => return,
                }
            }
        });
        hub
    }

    /// This run's id: 12 hex digits drawn at random when the hub starts, so that an SSE `id`
    /// (`<run>:<number>`) names the run that numbered it and a client resuming with one of
    /// another run (the bot restarted, and numbers start at 1 again) is never taken for one of
    /// this run.
    pub fn run(&self) -> &str {
        &self.0.run
    }

    /// The sender the engine publishes on.
    pub fn sender(&self) -> broadcast::Sender<BotEvent> {
        self.0.input.clone()
    }

    /// Publishes an event (a health change, an alert) as the engine does.
    pub fn publish(&self, event: BotEvent) {
        // No receiver: the hub is closed; nobody to tell.
        let _ = self.0.input.send(event);
    }

    /// An alert service runs on this hub: it takes the alerts the engine raises itself (no
    /// `alert_id` yet) as input and streams them once, numbered, so the hub no longer streams
    /// those as they come. Without one, they are streamed as they come.
    pub fn alerts_numbered(&self) {
        self.0.numbered.store(true, Ordering::SeqCst);
    }

    fn record(&self, event: &BotEvent) {
        // An alert reaches the stream once: from the alert service, which numbers it, when one
        // runs (one the engine raised itself is then its input, not an event); as it came
        // when none does.
        if self.0.numbered.load(Ordering::SeqCst)
            && matches!(event, BotEvent::Alert(alert) if alert.alert_id.is_none())
        {
            return;
        }
        let json = match serde_json::to_string(event) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(kind = event.kind(), error = %e, "event stream: an event cannot be written as JSON; skipped");
                return;
            }
        };
        let mut ring = self.0.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.last_id += 1;
        let stamped = Arc::new(Stamped {
            id: ring.last_id,
            kind: event.kind(),
            json,
        });
        if ring.events.len() == ring.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(stamped.clone());
        // Sent under the lock: a client that subscribes under it sees each event once, either
        // in its backlog or live.
        let _ = self.0.live.send(stamped);
    }

    /// The events after `after` still kept, and a receiver of those to come (no event is in
    /// both, none is missed between them); `None`: only those to come. An `after` ahead of the
    /// last event numbered here comes from another run: every event kept, with
    /// [`Subscription::reset`].
    pub fn since(&self, after: Option<u64>) -> Subscription {
        let ring = self.0.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let live = self.0.live.subscribe();
        let Some(after) = after else {
            return Subscription {
                backlog: Vec::new(),
                live,
                gap: None,
                reset: None,
            };
        };
        let first_kept = ring
            .events
            .front()
            .map_or(ring.last_id.saturating_add(1), |e| e.id);
        if after > ring.last_id {
            return Subscription {
                backlog: ring.events.iter().cloned().collect(),
                live,
                gap: None,
                reset: Some(first_kept),
            };
        }
        let backlog: Vec<_> = ring
            .events
            .iter()
            .filter(|e| e.id > after)
            .cloned()
            .collect();
        let next = after.saturating_add(1);
        let gap = (next < first_kept).then_some((next, first_kept));
        Subscription {
            backlog,
            live,
            gap,
            reset: None,
        }
    }

    /// The number of the last event.
    pub fn last_id(&self) -> u64 {
        self.0
            .ring
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_id
    }

    /// Stops the recorder and ends every stream (the bot stopped).
    pub fn close(&self) {
        self.0.closed.send_replace(true);
    }

    /// A receiver that changes to `true` when the hub closes.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.0.closed.subscribe()
    }
}

/// A fresh run id: 12 hex digits.
fn run_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("run", &self.run())
            .field("last_id", &self.last_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Timestamp;

    fn switch(engaged: bool) -> BotEvent {
        BotEvent::KillSwitch {
            engaged,
            at: Timestamp::EPOCH,
        }
    }

    async fn settle(hub: &EventHub, last: u64) {
        for _ in 0..100 {
            if hub.last_id() >= last {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the recorder did not take the events");
    }

    #[tokio::test]
    async fn a_client_resumes_after_its_last_event_and_is_told_of_what_was_dropped() {
        let hub = EventHub::start(3);
        for i in 0..5 {
            hub.publish(switch(i % 2 == 0));
        }
        settle(&hub, 5).await;
        let resumed = hub.since(Some(3));
        let ids: Vec<u64> = resumed.backlog.iter().map(|e| e.id).collect();
        assert_eq!((ids, resumed.gap), (vec![4, 5], None));
        let late = hub.since(Some(1));
        let ids: Vec<u64> = late.backlog.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 4, 5], "the newest three kept");
        assert_eq!(late.gap, Some((2, 3)), "event 2 was dropped");
        let ahead = hub.since(Some(u64::MAX));
        let ids: Vec<u64> = ahead.backlog.iter().map(|e| e.id).collect();
        assert_eq!(
            (ids, ahead.gap, ahead.reset),
            (vec![3, 4, 5], None, Some(3))
        );
        let other_run = hub.since(Some(6));
        assert_eq!((other_run.backlog.len(), other_run.reset), (3, Some(3)));
        let caught_up = hub.since(Some(5));
        assert!(caught_up.backlog.is_empty());
        assert_eq!((caught_up.gap, caught_up.reset), (None, None));
        let mut fresh = hub.since(None);
        assert!(fresh.backlog.is_empty() && fresh.gap.is_none());
        hub.publish(switch(true));
        let next = fresh.live.recv().await.unwrap();
        assert_eq!((next.id, next.kind), (6, "kill_switch"));
        assert!(next.json.contains("\"engaged\":true"), "{}", next.json);
        hub.close();
        assert!(*hub.closing().borrow());
    }

    #[tokio::test]
    async fn an_engines_alert_is_streamed_as_is_unless_an_alert_service_numbers_it() {
        use crate::engine::{AlertEvent, AlertKind, Severity};
        let holiday = || {
            BotEvent::Alert(AlertEvent::new(
                AlertKind::HolidayList,
                "",
                Severity::Warning,
                "the holiday list ends",
                Timestamp::EPOCH,
            ))
        };
        // No alert service: the engine's alert is the stream's.
        let hub = EventHub::start(10);
        hub.publish(holiday());
        settle(&hub, 1).await;
        assert_eq!(hub.since(Some(0)).backlog[0].kind, "alert");
        // An alert service runs: it streams the alert once, numbered; the hub skips the raw one.
        let hub = EventHub::start(10);
        hub.alerts_numbered();
        hub.publish(holiday());
        hub.publish(switch(true));
        settle(&hub, 1).await;
        let kinds: Vec<&str> = hub.since(Some(0)).backlog.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["kill_switch"]);
    }

    /// The events published before the hub closes are all kept (the bot's last ones, its
    /// `engine_stopped` alert among them): the recorder chose at random between what was
    /// pending and the close.
    #[tokio::test]
    async fn events_published_before_the_close_are_all_kept() {
        for _ in 0..20 {
            let hub = EventHub::start(1_000);
            for i in 0..300 {
                hub.publish(switch(i % 2 == 0));
            }
            hub.close();
            for _ in 0..100 {
                if hub.last_id() == 300 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            assert_eq!(hub.last_id(), 300, "events lost at the close");
        }
    }

    #[tokio::test]
    async fn each_hub_has_its_own_run_id() {
        let (a, b) = (EventHub::start(1), EventHub::start(1));
        for hub in [&a, &b] {
            assert_eq!(hub.run().len(), 12);
            assert!(hub.run().bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert_ne!(a.run(), b.run());
    }
}
