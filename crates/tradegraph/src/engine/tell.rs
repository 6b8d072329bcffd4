//! What the engine tells its watchers about itself: the trading state, the feed, its own
//! health checks, kept in the [`BotStatus`](super::BotStatus) and announced as events when
//! they change.

use super::journal::Execution;
use super::observe::{wall_now, BotEvent, Check, CheckId, CheckState, FeedState, Trading};
use super::{Engine, EquityPoint};
use futures::Stream;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tradegraph_core::Timestamp;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

/// What the engine has seen of its feed and its stores.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub(super) feed: FeedState,
    pub(super) feed_detail: Option<String>,
    pub(super) reconnects: u64,
    /// The start of the account's trading day, at its last reading.
    pub(super) day_started_at: Option<Timestamp>,
    /// The last failed save of the bot's state, until a save succeeds.
    pub(super) state_error: Option<String>,
    /// Whether the last save that failed (the bot's state, the broker's trades, the logs)
    /// met a store that did not answer rather than a refusal ([`EngineError::Unsaved`]'s
    /// `transient`).
    ///
    /// [`EngineError::Unsaved`]: super::EngineError::Unsaved
    pub(super) save_failed_transiently: bool,
    pub(super) stopped: Option<String>,
    /// The highest equity seen (at a closed minute or a cycle) since this process's engine
    /// started: the peak of the engine's one drawdown.
    pub(super) peak_equity: rust_decimal::Decimal,
    /// The drawdown now and the largest since start (percent).
    pub(super) drawdown_pct: Option<(f64, f64)>,
    /// When the engine's loop started (the `broker` check counts its quiet from it until a
    /// call answers).
    pub(super) started: Option<Instant>,
    /// The feed's silences: its newest exchange time, whether it is down or stale.
    pub(super) watch: super::watch::FeedWatch,
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// The trading state now, and why when not active.
    fn trading_now(&self) -> (Trading, Option<String>) {
        if self.kill_switch.is_engaged() {
            return (Trading::Halted, Some("the kill switch is engaged".into()));
        }
        let guard = self.guard_state().unwrap_or_default();
        if guard.halted_day.is_some() && guard.halted_day == self.seen.day_started_at {
            let limit = self.config.risk_limits.max_daily_loss_pct;
            return (
                Trading::Halted,
                Some(format!(
                    "the daily loss limit was reached ({}% lost, limit {limit}%): no entries until the next trading day",
                    guard.halted_loss_pct.round_dp(2)
                )),
            );
        }
        if let Some(reason) = self.reconciliation.get().reason() {
            return (Trading::Reducing, Some(reason));
        }
        if self.ops.gate.paused.load(Ordering::SeqCst) {
            return (
                Trading::Reducing,
                Some("new entries are paused by the operator".into()),
            );
        }
        if let Some(until) = guard.breaker_until.filter(|u| self.clock.now() < *u) {
            return (
                Trading::Reducing,
                Some(format!(
                    "the volatility circuit breaker cools down until {until}"
                )),
            );
        }
        (Trading::Active, None)
    }

    /// The engine's own checks: `engine`, `feed`, `broker`, `state_store`.
    fn checks_now(&self) -> Vec<(CheckId, CheckState, String)> {
        let engine = match &self.seen.stopped {
            None => (CheckState::Ok, "running".to_owned()),
            Some(why) => (CheckState::Failing, format!("the bot stopped: {why}")),
        };
        let age = self
            .seen
            .watch
            .last()
            .map(|(_, arrived)| arrived.elapsed().as_secs());
        let detail = self.seen.feed_detail.clone().unwrap_or_default();
        let feed = match self.seen.feed {
            FeedState::Starting => (CheckState::Degraded, "no market data yet".to_owned()),
            FeedState::Connected => (
                CheckState::Ok,
                age.map_or("connected".into(), |s| {
                    format!("connected; last market event {s} s ago")
                }),
            ),
            FeedState::Disconnected => (
                CheckState::Failing,
                format!(
                    "disconnected ({detail}); reconnecting, {} attempts so far",
                    self.seen.reconnects
                ),
            ),
            FeedState::Stale => (
                CheckState::Failing,
                format!(
                    "no market data for {} s while the market is open",
                    age.unwrap_or(0)
                ),
            ),
            // A replay that is done is not a stale feed: no alert, the check says why.
            FeedState::Ended => (
                CheckState::Degraded,
                "the feed ended: no more market data comes".to_owned(),
            ),
        };
        let store = match &self.seen.state_error {
            None => (
                CheckState::Ok,
                format!("bot state in {}", self.config.stores.state_backend()),
            ),
            Some(e) => (
                CheckState::Failing,
                format!(
                    "the bot's state was not saved ({e}); it is saved again at the next change"
                ),
            ),
        };
        let now = Instant::now();
        let broker = super::calls::standing(
            &self.broker.calls().now(),
            now,
            self.seen.started.unwrap_or(now),
            self.config.broker_quiet_after,
            self.config.instrument.session.is_open(self.clock.now()),
        );
        vec![
            (CheckId::Engine, engine.0, engine.1),
            (CheckId::Feed, feed.0, feed.1),
            (CheckId::Broker, broker.0, broker.1),
            (CheckId::StateStore, store.0, store.1),
        ]
    }

    /// Recomputes the trading state and the checks; tells watchers what changed.
    pub(super) fn refresh_status(&mut self) {
        let (trading, reason) = self.trading_now();
        let now = wall_now();
        let checks = self.checks_now();
        let mut changed_trading = false;
        let mut changed_checks = Vec::new();
        let feed = self.seen.watch.last();
        let (feed_state, reconnects) = (self.seen.feed, self.seen.reconnects);
        let (paused, kill) = (
            self.ops.gate.paused.load(Ordering::SeqCst),
            self.kill_switch.is_engaged(),
        );
        let running = self.seen.stopped.is_none();
        let symbol = self.config.instrument.symbol.as_str();
        crate::telemetry::record_trading_status(symbol, trading, kill);
        self.observer.status(|s| {
            if s.trading != trading || s.trading_reason != reason {
                (s.trading, s.trading_reason) = (trading, reason.clone());
                changed_trading = true;
            }
            let mut next = Vec::with_capacity(checks.len());
            for (name, state, message) in &checks {
                let before = s.checks.iter().find(|c| c.name == *name);
                let (check, change) =
                    Check::next(before, *name, *state, message.clone(), now, symbol);
                next.push(check);
                changed_checks.extend(change);
            }
            s.checks = next;
            s.feed.state = feed_state;
            s.feed.reconnects = reconnects;
            if let Some((at, arrived)) = feed {
                let ago = i64::try_from(arrived.elapsed().as_millis()).unwrap_or(i64::MAX);
                s.feed.last_event_at = Some(now.add_millis(-ago));
                s.feed.last_exchange_at = Some(at);
            }
            s.entries_paused = paused;
            s.kill_switch = kill;
            s.running = running;
            true
        });
        if changed_trading {
            tracing::info!(
                state = trading.as_str(),
                reason = reason.as_deref(),
                "trading state"
            );
            self.observer.publish(|| BotEvent::TradingState {
                state: trading,
                reason,
                at: now,
            });
        }
        for change in changed_checks {
            self.observer.publish(|| BotEvent::Health(change));
        }
    }

    /// The feed changed state.
    pub(super) fn feed_changed(&mut self, state: FeedState, detail: Option<String>) {
        if self.seen.feed == state {
            return;
        }
        self.seen.feed = state;
        self.seen.feed_detail.clone_from(&detail);
        self.observer.publish(|| BotEvent::Feed {
            state,
            detail,
            at: wall_now(),
        });
        self.refresh_status();
    }

    /// A market event arrived (cheap: called for each; the feed watch has its time).
    pub(super) fn saw_event(&mut self) {
        if self.seen.feed != FeedState::Connected {
            self.feed_changed(FeedState::Connected, None);
        }
    }

    /// Equity read from the broker: the peak and the drawdowns follow it; returns the
    /// drawdown now (percent below the peak, 0 at a peak).
    pub(super) fn saw_peak(&mut self, equity: rust_decimal::Decimal) -> f64 {
        self.seen.peak_equity = self.seen.peak_equity.max(equity);
        let now = 100.0 * crate::telemetry::drawdown(equity, self.seen.peak_equity);
        let worst = self
            .seen
            .drawdown_pct
            .map_or(now, |(_, worst)| worst.max(now));
        self.seen.drawdown_pct = Some((now, worst));
        self.observer.status(|s| {
            (s.drawdown_pct, s.max_drawdown_pct) = (Some(now), Some(worst));
            true
        });
        now
    }

    /// A one-minute bar closed: equity into the curve and the status.
    pub(super) fn saw_equity(&mut self, point: EquityPoint, day_started_at: Option<Timestamp>) {
        self.equity.push(point);
        self.seen.day_started_at = day_started_at;
        self.observer.status(|s| {
            s.equity = Some(point.equity);
            true
        });
    }

    /// A save of the bot's state succeeded or failed (the `state_store` check).
    pub(super) fn saw_save(&mut self, part: StatePart, error: Option<String>) {
        let was = self.seen.state_error.is_some();
        self.seen.state_error = error.map(|e| format!("{part}: {e}"));
        if was != self.seen.state_error.is_some() {
            self.refresh_status();
        }
    }

    /// The engine stopped: the `engine` check fails from now on.
    pub(super) fn stopped(&mut self, why: &str) {
        self.seen.stopped = Some(why.to_owned());
        self.refresh_status();
    }
}
