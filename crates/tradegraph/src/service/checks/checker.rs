//! [`Checker`]: runs every probe each round, concurrently and under a time limit, records what
//! they found on the board and publishes the changes.

use super::{HealthConfig, Outcome, Probe};
use crate::engine::{wall_now, BotEvent, CheckId, HealthChange};
use crate::service::HealthBoard;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// A probe and when it last ran.
struct Slot {
    probe: Arc<dyn Probe>,
    last_run: Option<Instant>,
}

impl Slot {
    /// Whether the probe may run at `now` (always, unless it ran less than its `every` ago).
    fn due(&self, now: Instant) -> bool {
        match (self.last_run, self.probe.every()) {
            (Some(last), Some(every)) => now.saturating_duration_since(last) >= every,
            _ => true,
        }
    }
}

/// Runs health [`Probe`]s every [`HealthConfig::every`], all at once, each within
/// [`HealthConfig::timeout`] (a probe that does not answer in time is failing, saying so),
/// and records what they found on a [`HealthBoard`] ([`Check::next`](crate::engine::Check::next):
/// the `tradegraph_health_check_state` gauge set, a change logged, warn when not ok, info when
/// it recovered). On each change of a check's state it publishes a [`BotEvent::Health`]. A
/// check's first result is a change only when it is not ok.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// use async_trait::async_trait;
/// use tradegraph::engine::{CheckId, CheckState};
/// use tradegraph::service::checks::{Checker, HealthConfig, Outcome, Probe};
/// use tradegraph::service::HealthBoard;
///
/// struct Down;
/// #[async_trait]
/// impl Probe for Down {
///     fn id(&self) -> CheckId { CheckId::Redis }
///     async fn check(&self) -> Outcome { Outcome::failing("connection refused") }
/// }
///
/// let board = HealthBoard::new();
/// let mut checker = Checker::new(board.clone(), HealthConfig::default()).probe(Down);
/// let changes = checker.round().await;
/// assert_eq!((changes.len(), changes[0].state), (1, CheckState::Failing));
/// assert!(checker.round().await.is_empty()); // still failing: no change
/// assert_eq!(board.checks()[0].message, "connection refused");
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Checker {
    slots: Vec<Slot>,
    board: HealthBoard,
    events: Option<broadcast::Sender<BotEvent>>,
    config: HealthConfig,
    instrument: String,
}

impl Checker {
    /// A checker with no probe yet, recording on `board`.
    pub fn new(board: HealthBoard, config: HealthConfig) -> Self {
        Self {
            slots: Vec::new(),
            board,
            events: None,
            config,
            instrument: String::new(),
        }
    }

    /// Labels the gauge `tradegraph_health_check_state` with the bot's `instrument` (none by
    /// default).
    #[must_use]
    pub fn for_instrument(mut self, instrument: impl Into<String>) -> Self {
        self.instrument = instrument.into();
        self
    }

    /// Adds a probe.
    #[must_use]
    pub fn probe(mut self, probe: impl Probe + 'static) -> Self {
        self.slots.push(Slot {
            probe: Arc::new(probe),
            last_run: None,
        });
        self
    }

    /// Publishes the changes on `events` (an [`EventHub`](crate::service::EventHub)'s
    /// [`sender`](crate::service::EventHub::sender)).
    #[must_use]
    pub fn publish_to(mut self, events: broadcast::Sender<BotEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// The checks, in the order they were added.
    pub fn ids(&self) -> Vec<CheckId> {
        self.slots.iter().map(|s| s.probe.id()).collect()
    }

    /// Runs every probe that is due, concurrently, each within the time limit; records the
    /// outcomes and returns the changes (published as well).
    pub async fn round(&mut self) -> Vec<HealthChange> {
        let now = Instant::now();
        let limit = self.config.timeout;
        let mut running = Vec::new();
        for slot in self.slots.iter_mut().filter(|s| s.due(now)) {
            slot.last_run = Some(now);
            let probe = Arc::clone(&slot.probe);
            running.push(async move {
                let outcome = match tokio::time::timeout(limit, probe.check()).await {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::failing(format!(
                        "no answer within {} ms (the check's time limit, [health] timeout_secs)",
                        limit.as_millis()
                    )),
                };
                (probe, outcome)
            });
        }
        let outcomes = futures::future::join_all(running).await;
        let mut changes = Vec::new();
        for (probe, Outcome { state, message }) in outcomes {
            let change =
                self.board
                    .record(probe.id(), state, message, wall_now(), &self.instrument);
            if let Some(change) = change {
                if let Some(events) = &self.events {
                    // No receiver: nobody to tell.
                    let _ = events.send(BotEvent::Health(change.clone()));
                }
                changes.push(change);
            }
        }
        changes
    }

    /// Runs a round now and then every [`HealthConfig::every`] (a late round is not made up),
    /// until [`CheckerTask::stop`]. Must be called inside a tokio runtime.
    pub fn start(mut self) -> CheckerTask {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let every = self.config.every;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stopped => return,
                    _ = async {
                        tick.tick().await;
                        self.round().await
                    } => {}
                }
            }
        });
        CheckerTask { stop, task }
    }
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("checks", &self.ids())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A running [`Checker`].
#[derive(Debug)]
pub struct CheckerTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl CheckerTask {
    /// Stops the checker (a round in flight is dropped) and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "health checks: the checker's task failed");
        }
    }
}
