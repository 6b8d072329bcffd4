//! [`Alerter`]: the rules and the cool-down, with no I/O (the service feeds it).

use super::rule::{Rule, Signal};
use super::{Admission, AlertClock, Dedup, Input};
use crate::engine::{AlertEvent, Severity};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Runs every rule on each input and lets through what the cool-down allows: raised alerts
/// whose key is not cooling down, and recoveries of keys that were raised. A raise held back
/// because its key recovered within the cool-down goes out on the first sample after the
/// cool-down, unless the key recovered again meanwhile.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tradegraph::alerts::{rule, Alerter, AlertsConfig, Input, WallClock};
/// use tradegraph::engine::{AlertKind, BotEvent, CheckState, HealthChange};
/// let mut alerter = Alerter::new(rule::standard(&AlertsConfig::default()), Duration::from_secs(900), Arc::new(WallClock));
/// let failing = BotEvent::Health(HealthChange {
///     check: tradegraph::engine::CheckId::Redis, state: CheckState::Failing,
///     message: "connection refused".into(), at: tradegraph::core::Timestamp::EPOCH,
/// });
/// let out = alerter.observe(&Input::Bot(&failing));
/// assert_eq!(out[0].kind, AlertKind::StoreDown);
/// assert!(alerter.observe(&Input::Bot(&failing)).is_empty(), "once per cool-down");
/// ```
pub struct Alerter {
    rules: Vec<Box<dyn Rule>>,
    dedup: Dedup,
    /// The raises [`Dedup`] holds, by key.
    held: HashMap<String, AlertEvent>,
    clock: Arc<dyn AlertClock>,
}

impl Alerter {
    /// `rules`, each key raised at most once per `cooldown` by `clock`.
    pub fn new(rules: Vec<Box<dyn Rule>>, cooldown: Duration, clock: Arc<dyn AlertClock>) -> Self {
        Self {
            rules,
            dedup: Dedup::new(cooldown),
            held: HashMap::new(),
            clock,
        }
    }

    /// `alert`, raised outside the rules (the engine stopped on an error), if the cool-down
    /// lets it through.
    pub fn raise(&mut self, alert: AlertEvent) -> Option<AlertEvent> {
        let now = self.clock.instant();
        self.admit(alert, now)
    }

    fn admit(&mut self, alert: AlertEvent, now: std::time::Instant) -> Option<AlertEvent> {
        match self.dedup.admit(&alert.key, now) {
            Admission::Send => {
                self.held.remove(&alert.key);
                Some(alert)
            }
            Admission::Repeat => None,
            Admission::Hold => {
                // The first raise since the recovery is the one that goes out: its time is
                // when the condition came back.
                self.held.entry(alert.key.clone()).or_insert(alert);
                None
            }
        }
    }

    /// The alerts (and recoveries) `input` gives that go out now.
    pub fn observe(&mut self, input: &Input<'_>) -> Vec<AlertEvent> {
        let at = self.clock.now();
        let now = self.clock.instant();
        let mut signals = Vec::new();
        for rule in &mut self.rules {
            rule.observe(input, at, &mut signals);
        }
        let mut out: Vec<AlertEvent> = signals
            .into_iter()
            .filter_map(|signal| match signal {
                Signal::Raise(alert) => self.admit(alert, now),
                Signal::Resolve(alert) => {
                    self.held.remove(&alert.key);
                    self.dedup.resolve(&alert.key).then_some(AlertEvent {
                        severity: Severity::Info,
                        recovered: true,
                        ..alert
                    })
                }
            })
            .collect();
        // Each sample: the held raises whose cool-down is over go out.
        if matches!(input, Input::Sample(_)) {
            for key in self.dedup.due(now) {
                if let Some(alert) = self.held.remove(&key) {
                    out.push(alert);
                }
            }
        }
        out
    }
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerter")
            .field("rules", &self.rules.len())
            .field("dedup", &self.dedup)
            .finish_non_exhaustive()
    }
}
