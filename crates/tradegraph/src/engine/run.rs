//! The event loop: every market event to the broker, the hot cache, the aggregator and the
//! agents' view; each close of the decision timeframe to a decision cycle.

use super::control::{Cancel, CloseNow, ReplyKind};
use super::journal::Execution;
use super::observe::{AlertEvent, AlertKind, BotEvent, FeedState, Severity};
use super::state::KillSwitchState;
use super::{Engine, EngineError, EquityPoint, Mode};
use chrono::Datelike;
use futures::{Stream, StreamExt};
use std::future::Future;
use std::time::{Duration, Instant};
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::position::Account;
use tradegraph_core::risk::{RiskContext, RiskReason};
use tradegraph_core::{Candle, Price, Symbol, Timeframe, Timestamp};
use tradegraph_market::{Clock, FeedNotice, MarketEvent};
use tradegraph_store::{LatestPrice, StatePart};

/// A candle closes on the wall clock when no event came this long after its end (a quiet
/// market); events that arrive later than this for it are the aggregator's late events.
pub(crate) const QUIET_GRACE: Duration = Duration::from_secs(2);
/// The paper account's price-only changes (a trailing stop's best price) are saved this often
/// (orders and fills are saved as they happen).
const QUOTE_SAVE_EVERY: Duration = Duration::from_secs(60);

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Runs the bot until the feed ends or `shutdown` completes, calling `on_cycle` with each
    /// cycle's final state. A cycle in flight when `shutdown` completes finishes first. On every
    /// way out (the feed's end, shutdown, an error) the state is saved and the stores flushed.
    ///
    /// # Errors
    /// [`EngineError`] for what the bot cannot go on after: another process writing its state,
    /// a poisoned lock, and in a backtest a failed cycle. Feed gaps, reconnects, a stale feed
    /// and store outages are logged and the bot goes on.
    pub async fn run<S, O>(
        mut self,
        shutdown: S,
        mut on_cycle: O,
    ) -> Result<super::BotSummary, EngineError>
    where
        S: Future<Output = ()>,
        O: FnMut(&TradingState),
    {
        let outcome = Box::pin(self.event_loop(shutdown, &mut on_cycle)).await;
        let finished = self.finish().await;
        let why = match (&outcome, &finished) {
            (Err(e), _) | (Ok(()), Err(e)) => e.to_string(),
            (Ok(()), Ok(())) => "stopped as asked, or its feed ended".to_owned(),
        };
        self.stopped(&why);
        outcome?;
        finished?;
        Ok(self.summary)
    }

    async fn event_loop<S, O>(&mut self, shutdown: S, on_cycle: &mut O) -> Result<(), EngineError>
    where
        S: Future<Output = ()>,
        O: FnMut(&TradingState),
    {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut timer = (self.config.mode == Mode::Service).then(|| {
            let mut t = tokio::time::interval(Duration::from_secs(1));
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        self.seen.started = Some(Instant::now());
        self.seen.watch = super::watch::FeedWatch::default();
        let mut quote_saved = Instant::now();
        loop {
            // Another instance took the claim over (found by the renewal, or by the journal
            // before an order; the timer wakes the loop): this one stops.
            if let Some(instance) = self.instance.as_ref().filter(|i| i.is_lost()) {
                return Err(EngineError::AnotherInstance {
                    instrument: self.config.instrument.symbol.to_string(),
                    holder: instance.holder().await,
                });
            }
            // Commands that came during a decision cycle, in the order they came; those whose
            // caller left are recorded as not carried out.
            for gone in self.ops.deferred.take_gone() {
                self.not_taken(gone).await;
            }
            if let Some(envelope) = self.ops.deferred.pop_front() {
                Box::pin(self.on_command(envelope, on_cycle)).await?;
                continue;
            }
            // The kill switch engaged during a cycle, restored engaged at start, or not done at
            // its last try (once a second: the timer wakes the loop).
            if self.kill_due() {
                Box::pin(self.kill_at_venue()).await?;
                self.read_fills(None).await?;
                continue;
            }
            let expiry = self.next_expiry();
            let kill_wait = self.kill_wait();
            let event = tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!(symbol = %self.config.instrument.symbol, "stopping: shutdown requested");
                    return Ok(());
                }
                Some(envelope) = self.ops.commands.recv() => {
                    Box::pin(self.on_command(envelope, on_cycle)).await?;
                    continue;
                }
                () = sleep_for(expiry) => {
                    Box::pin(self.expire_approvals(on_cycle)).await?;
                    continue;
                }
                () = sleep_for(kill_wait) => continue,
                done = super::refine::shadow_done(&mut self.shadow) => {
                    Box::pin(self.settle_shadow(done)).await?;
                    continue;
                }
                event = self.feed.next() => event,
                () = tick(&mut timer) => {
                    self.on_timer(&mut quote_saved, on_cycle).await?;
                    continue;
                }
            };
            let Some(event) = event else {
                self.on_feed_end(on_cycle).await?;
                tracing::info!(symbol = %self.config.instrument.symbol, "the feed ended");
                return Ok(());
            };
            if !matches!(event, MarketEvent::Notice { .. }) {
                let (_, again) = self.seen.watch.data(event.known_at());
                if again {
                    tracing::info!(symbol = %self.config.instrument.symbol, "feed: data again");
                }
                self.saw_event();
            }
            self.on_event(event, on_cycle).await?;
        }
    }

    /// Once a second, live: a candle past its end with no event for [`QUIET_GRACE`] closes on
    /// the exchange time the last event implies (not while the feed is down or stale: a hole
    /// in the data is no quiet market); a silent feed is reported; the paper account's
    /// price-only changes are saved.
    async fn on_timer<O: FnMut(&TradingState)>(
        &mut self,
        quote_saved: &mut Instant,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        if quote_saved.elapsed() >= QUOTE_SAVE_EVERY {
            *quote_saved = Instant::now();
            if let Err(e) = self.broker.save_broker().await {
                if matches!(e, EngineError::StateConflict { .. }) {
                    return Err(e);
                }
                tracing::warn!(error = %e, "the paper account was not saved; retrying");
            }
        }
        self.save_kill_switch().await?;
        self.save_pause().await?;
        // what the guard latched, when its save after a cycle failed
        self.save_guard().await?;
        if !self.reconciliation_saved {
            self.save_reconciliation().await?;
        }
        self.on_reconnections().await?;
        self.refresh_status();
        if !self.config.watches_feed {
            return Ok(());
        }
        // Quiet since the last market data, the last (re)connection or the start: a feed that
        // says it is connected and brings nothing is stale all the same (reported once, until
        // it speaks or connects again), and what it missed is a hole in the data.
        let open = self.config.instrument.session.is_open(self.clock.now());
        if let Some(silent) = self.seen.watch.turns_stale(self.config.stale_after, open) {
            self.summary.stale_feed += 1;
            tracing::warn!(symbol = %self.config.instrument.symbol, quiet_s = silent.as_secs(), "feed: stale, no market data");
            self.aggregator.data_gap();
            self.feed_changed(
                FeedState::Stale,
                Some(format!("no market data for {} s", silent.as_secs())),
            );
        }
        let Some(now) = self.seen.watch.quiet_until(QUIET_GRACE) else {
            return Ok(());
        };
        let mut closed = Vec::new();
        self.aggregator.advance(now, &mut closed);
        self.on_closed_all(&closed, on_cycle).await
    }

    /// The feed ended: the minute still open is complete, close it (longer candles stay open:
    /// they are partial).
    async fn on_feed_end<O: FnMut(&TradingState)>(
        &mut self,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        if let Some(end) = super::prices::open_minute_end(&self.aggregator) {
            let mut closed = Vec::new();
            self.aggregator.advance(end, &mut closed);
            self.on_closed_all(&closed, on_cycle).await?;
        }
        self.feed_changed(FeedState::Ended, None);
        Ok(())
    }

    async fn on_event<O: FnMut(&TradingState)>(
        &mut self,
        event: MarketEvent,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        match &event {
            MarketEvent::Notice { feed, notice, .. } => {
                self.on_notice(feed, notice);
                return Ok(());
            }
            other if other.symbol() != Some(&symbol) => return Ok(()),
            _ => {}
        }
        // The broker works its orders on every price; the price is also what the execution
        // agent's re-check reads. Fills are saved once the event is done (a cycle it closes
        // decides first: its order does not wait for them).
        let mut filled = false;
        let price = super::prices::broker_price(&event, &mut self.feed_ticks);
        if let Some((price_event, price)) = price {
            if self.desk.market().price().is_none() && self.kill_pending {
                // The kill switch's close waited for a price: it is tried at once.
                self.kill_retry = None;
            }
            self.desk.market().set_price(price);
            match self.broker.on_market(&symbol, price_event) {
                Ok(fills) if !fills.is_empty() => filled = true,
                Ok(_) => {}
                Err(e) => {
                    self.summary.broker_errors += 1;
                    tracing::warn!(%symbol, error = %e, "broker: market event refused");
                }
            }
        }
        // Real ticks into the hot cache.
        let tick = super::prices::tick_of(&event);
        if let Some(tick) = tick.filter(|_| self.config.writes_market) {
            if let Err(e) = self.config.stores.hot.put_tick(&symbol, &tick).await {
                self.summary.store_errors += 1;
                tracing::warn!(%symbol, error = %e, "store: tick not cached");
            }
        }
        // Candles: the aggregator closes them; the agents' view takes every event.
        let mut closed = Vec::new();
        self.aggregator.on_event(&event, &mut closed);
        // A closed one-minute candle from the feed (a bar file, an exchange's kline) comes back
        // from the aggregator when it accepts it, and not when trades already built that
        // minute: the aggregator's word counts, so no minute is counted twice. Longer candles
        // from the feed are not the aggregator's.
        if let Some(candle) = super::prices::feed_long_candle(&event) {
            self.on_closed(candle, on_cycle).await?;
        } else if !matches!(event, MarketEvent::Candle { .. }) {
            self.builder.on_event(&event)?;
        }
        self.on_closed_all(&closed, on_cycle).await?;
        if filled {
            // saves the broker's state first: the ledger never records fills ahead of it
            self.read_fills(None).await?;
        }
        self.save_kill_switch().await?;
        self.strict_barrier(event.known_at()).await
    }

    /// With [`BotConfig::strict_saves`](super::BotConfig::strict_saves) (a worker: its job is
    /// acknowledged once the engine asks for the next event), what an event changed is saved
    /// before the next one is taken (the broker's trades, the guard's state, the kill switch),
    /// whatever the event led to (a fill, a cycle that failed), or the engine stops
    /// [`EngineError::Unsaved`]: the job is not acknowledged, and its next owner runs it again.
    async fn strict_barrier(&mut self, at: Timestamp) -> Result<(), EngineError> {
        if !self.config.strict_saves {
            return Ok(());
        }
        if let Some(why) = self.save_trades().await? {
            return Err(EngineError::Unsaved {
                at,
                why,
                transient: self.seen.save_failed_transiently,
            });
        }
        let unsaved = if !self.save_guard().await? {
            Some("the risk guard's state was not saved")
        } else if self.kill_switch.is_engaged() != self.saved_kill {
            Some("the kill switch was not saved")
        } else {
            None
        };
        match unsaved {
            Some(why) => Err(EngineError::Unsaved {
                at,
                why: why.to_owned(),
                transient: self.seen.save_failed_transiently,
            }),
            None => Ok(()),
        }
    }

    /// The candles an event closed (a minute, and the longer ones ending with it); then, unless
    /// one of them ran a decision cycle (whose guard rules on it), the daily loss on the
    /// minute's account.
    async fn on_closed_all<O: FnMut(&TradingState)>(
        &mut self,
        closed: &[Candle],
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let mut minute = None;
        for candle in closed {
            minute = self.on_closed(candle, on_cycle).await?.or(minute);
        }
        if let Some((account, _, _)) = &minute {
            self.watch_protection(account).await;
        }
        match minute {
            Some((account, price, end))
                if self.sequence.last_cycle_at.is_none_or(|last| last < end) =>
            {
                self.watch_daily_loss(&account, price).await
            }
            _ => Ok(()),
        }
    }

    /// A closed candle: into the agents' view, the hot cache and the history; a decision cycle
    /// when it is of the decision timeframe and later than the last cycle. A minute's gives
    /// back the account read for it, its close and its end.
    async fn on_closed<O: FnMut(&TradingState)>(
        &mut self,
        candle: &Candle,
        on_cycle: &mut O,
    ) -> Result<Option<(Account, Price, Timestamp)>, EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        self.check_holiday_list(candle.open_time);
        self.builder.on_event(&MarketEvent::Candle {
            symbol: symbol.clone(),
            candle: candle.clone(),
            closed: true,
        })?;
        if self.config.writes_market {
            if let Err(e) = write_candle(&self.config.stores, &symbol, candle).await {
                self.summary.store_errors += 1;
                tracing::warn!(%symbol, error = %e, "store: candle not written");
            }
        }
        let end = candle.open_time.add_millis(candle.timeframe.millis());
        let mut minute = None;
        if candle.timeframe == Timeframe::M1 {
            if !self.feed_ticks && self.config.writes_market {
                // A feed of bars only: its close is the latest price (no tick is made up).
                let latest = LatestPrice {
                    price: candle.close,
                    ts: end,
                };
                if let Err(e) = self.config.stores.hot.put_latest(&symbol, latest).await {
                    self.summary.store_errors += 1;
                    tracing::warn!(%symbol, error = %e, "store: latest price not cached");
                }
            }
            self.summary.observe_price(candle.close);
            match self.broker.account().await {
                Ok(account) => {
                    self.saw_minute(&account, end, &symbol);
                    minute = Some((account, candle.close, end));
                }
                Err(e) if self.config.mode == Mode::Backtest => return Err(e.into()),
                // A venue that does not answer for once: no equity point for this minute.
                Err(e) => {
                    self.summary.broker_errors += 1;
                    tracing::warn!(%symbol, error = %e, "broker: account unreadable; no equity point for this minute");
                }
            }
        }
        let due = candle.timeframe == self.config.decision_every
            && self.sequence.last_cycle_at.is_none_or(|last| end > last);
        if due {
            // boxed: a cycle's future (the whole graph run) is large
            Box::pin(self.cycle(on_cycle)).await?;
        }
        Ok(minute)
    }

    /// A minute's account: the equity curve, the status and the gauges.
    fn saw_minute(&mut self, account: &Account, end: Timestamp, symbol: &Symbol) {
        let point = EquityPoint {
            ts: end,
            equity: account.equity,
            drawdown_pct: self.saw_peak(account.equity),
        };
        self.summary.observe_equity(point);
        self.saw_equity(point, account.day_started_at);
        // The gauges follow the account each minute (fills, stops, the mark).
        crate::telemetry::record_account(symbol.as_str(), account, self.seen.peak_equity);
    }

    /// The daily loss limit between decisions (a `1d` cadence decides once a day; at `15m` a
    /// loss can pass the limit well inside a window): each minute's account goes to the
    /// guard, which latches the day's halt once the loss reaches the limit (saved at once,
    /// alerted, shown in the status, the resting entries cancelled), and while the day is
    /// halted a position still held is closed now as the kill switch closes it (exits kept safe:
    /// `close_past_exits`), tried again each minute until it is flat (a close the broker
    /// refused, every few minutes), as a decision's guard would force.
    async fn watch_daily_loss(
        &mut self,
        account: &Account,
        price: Price,
    ) -> Result<(), EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let now = self.clock.now();
        let (close, latched) = {
            let mut guard = self
                .desk
                .guard()
                .lock()
                .map_err(|_| EngineError::Poisoned("the risk guard"))?;
            let before = guard.state().halted_day;
            let context = RiskContext::new(&self.config.instrument, account, price, now);
            let close = guard.watch_daily_loss(&context);
            (close, guard.state().halted_day != before)
        };
        if latched {
            // What the guard latched outlives a crash before anything is sent.
            self.save_guard().await?;
            let state = self.guard_state()?;
            let reason = RiskReason::DailyLossLimit {
                loss_pct: state.halted_loss_pct,
                limit_pct: self.config.risk_limits.max_daily_loss_pct,
            };
            tracing::error!(%symbol, %reason, "the daily loss limit was reached between decisions: no entries for the rest of the trading day");
            // An entry still resting would open what the halt forbids.
            let entries = self.cancel(Cancel::Entries).await?;
            if entries.kind != ReplyKind::Done {
                tracing::warn!(%symbol, "the entries still working were not all cancelled at the daily loss limit: {}", entries.message);
            }
            if let Some(alert) = AlertEvent::of_risk(&reason, super::wall_now()) {
                self.observer.publish(|| BotEvent::Alert(alert));
            }
            self.refresh_status();
        }
        let Some(reason) = close else {
            return Ok(());
        };
        if self
            .daily_close_waits
            .as_ref()
            .is_some_and(|(_, again)| now < *again)
        {
            return Ok(());
        }
        // A close the broker refused is not sent again for a few minutes (the next decision's
        // guard forces it too); anything else is tried again at the next minute.
        let mut again_minutes = 1;
        let waits = match self.prepare_close().await? {
            CloseNow::Go(intent) => match self.close_past_exits(*intent).await? {
                (_, Some(closed)) if closed.kind == ReplyKind::Done => {
                    tracing::warn!(%symbol, %reason, "the position is closed for the daily loss limit: {}", closed.message);
                    self.daily_close_waits = None;
                    return Ok(());
                }
                (_, Some(closed)) => {
                    if closed.kind == ReplyKind::Refused {
                        again_minutes = DAILY_CLOSE_AGAIN_MINUTES;
                    }
                    closed.message
                }
                (Some(exits), None) => {
                    format!("its exits were not all cancelled: {}", exits.message)
                }
                (None, None) => "nothing was sent".to_owned(),
            },
            CloseNow::Flat(_) => {
                self.daily_close_waits = None;
                return Ok(());
            }
            CloseNow::Wait(reply) => reply.message,
        };
        // Said once while it keeps waiting for the same reason.
        if self
            .daily_close_waits
            .as_ref()
            .is_none_or(|(said, _)| *said != waits)
        {
            tracing::warn!(%symbol, %reason, "the position held past the daily loss limit is not closed yet ({waits}); tried again in {again_minutes} min");
        }
        // (a minute's worth less a second: the next minute's check is not held back)
        let again = now.add_millis(again_minutes * 60_000 - 1_000);
        self.daily_close_waits = Some((waits, again));
        Ok(())
    }

    /// Warns, once per year, when the session date is past the exchange's holiday list: its
    /// holidays are unknown and would be taken for trading days.
    fn check_holiday_list(&mut self, at: Timestamp) {
        let Some(session) = self.config.instrument.session.exchange() else {
            return;
        };
        let date = session.local_date(at);
        let Some(last) = session.past_holiday_list(date) else {
            return;
        };
        if self.holidays_warned.is_some_and(|year| year >= date.year()) {
            return;
        }
        self.holidays_warned = Some(date.year());
        let message = format!(
            "session: {date} is past the holiday list, which ends with {last}: the exchange's \
             later holidays are unknown and count as trading days; add them with \
             `holidays_file` under [bot] in tradegraph.toml"
        );
        tracing::warn!(symbol = %self.config.instrument.symbol, "{message}");
        // An alert too (the alerts deduplicate it with the others), once per year like the log.
        let about = date.year().to_string();
        self.observer.publish(|| {
            BotEvent::Alert(AlertEvent::new(
                AlertKind::HolidayList,
                &about,
                Severity::Warning,
                message,
                super::wall_now(),
            ))
        });
    }

    fn on_notice(&mut self, feed: &str, notice: &FeedNotice) {
        if self.seen.watch.notice(notice) {
            // What comes until data is back is unknown, not a quiet market.
            self.aggregator.data_gap();
        }
        match notice {
            FeedNotice::Connected { url } => {
                tracing::info!(feed, url, "feed: connected");
                self.feed_changed(FeedState::Connected, Some(format!("{feed} connected")));
            }
            FeedNotice::Disconnected { reason } => {
                tracing::warn!(feed, reason, "feed: disconnected; reconnecting");
                self.feed_changed(FeedState::Disconnected, Some(reason.clone()));
            }
            FeedNotice::Reconnecting { attempt, delay_ms } => {
                self.summary.reconnects += 1;
                self.seen.reconnects += 1;
                tracing::warn!(feed, attempt, delay_ms, "feed: reconnecting");
                self.feed_changed(
                    FeedState::Disconnected,
                    Some(format!("reconnecting, attempt {attempt}")),
                );
            }
            FeedNotice::Gap { symbol, kind } => {
                self.summary.gaps += 1;
                tracing::warn!(feed, symbol, ?kind, "feed: gap in the data")
            }
            FeedNotice::Malformed { origin, reason } => {
                self.summary.malformed_events += 1;
                tracing::warn!(feed, origin, reason, "feed: malformed input skipped")
            }
            FeedNotice::Message { kind, payload } => {
                tracing::info!(feed, kind, payload, "feed: message")
            }
            other => tracing::info!(feed, notice = ?other, "feed"),
        }
    }

    /// Saves the broker's kept state; an outage is logged (the next change saves again), a
    /// conflict with another bot stops this one.
    pub(super) async fn save_or_warn_broker(&mut self) -> Result<(), EngineError> {
        match self.broker.save_broker().await {
            Ok(()) => Ok(()),
            Err(e @ (EngineError::StateConflict { .. } | EngineError::AnotherInstance { .. })) => {
                Err(e)
            }
            Err(e) => {
                self.summary.store_errors += 1;
                tracing::warn!(error = %e, "the broker's state was not saved; it is saved again at the next change");
                Ok(())
            }
        }
    }

    /// Saves the kill switch when it changed (whoever pulled it).
    pub(super) async fn save_kill_switch(&mut self) -> Result<(), EngineError> {
        let engaged = self.kill_switch.is_engaged();
        if engaged == self.saved_kill {
            return Ok(());
        }
        let saved = KillSwitchState {
            engaged,
            changed_at: Some(self.clock.now()),
        };
        // Marked saved only once written: an outage is retried each second and at exit.
        if self.save_part(StatePart::KillSwitch, &saved).await? {
            self.saved_kill = engaged;
            tracing::warn!(symbol = %self.config.instrument.symbol, engaged, "kill switch changed");
        }
        Ok(())
    }

    /// Saves one part of the state; returns whether it was written. An outage is logged (the
    /// caller keeps it unsaved, so it is saved again), a conflict stops the bot.
    pub(super) async fn save_part<T: serde::Serialize>(
        &mut self,
        part: StatePart,
        value: &T,
    ) -> Result<bool, EngineError> {
        let saved = self.state.save(part, value).await;
        let written = saved.is_ok();
        self.saved(part, saved)?;
        Ok(written)
    }

    /// The trade ledger, saved (see [`save_part`](Self::save_part)).
    pub(super) async fn save_ledger(&mut self) -> Result<(), EngineError> {
        let saved = self.state.save(StatePart::Trades, &self.ledger).await;
        self.saved(StatePart::Trades, saved)
    }

    /// What a save came to: an outage is logged (the caller's next change saves again), a
    /// conflict stops the bot.
    pub(super) fn saved(
        &mut self,
        part: StatePart,
        saved: Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        match saved {
            Ok(()) => {
                if self.seen.state_error.is_some() {
                    self.saw_save(part, None);
                }
                Ok(())
            }
            Err(e @ EngineError::StateConflict { .. }) => Err(e),
            Err(e) => {
                self.summary.store_errors += 1;
                self.seen.save_failed_transiently = e.is_transient();
                tracing::warn!(?part, error = %e, "bot state not saved; saved again at the next change and at exit");
                self.saw_save(part, Some(e.to_string()));
                Ok(())
            }
        }
    }

    /// Every way out: the state saved one last time, the stores flushed.
    async fn finish(&mut self) -> Result<(), EngineError> {
        // A shadow evaluation still running is dropped (its calls end); its proposal stays
        // pending and is evaluated again after the next start.
        self.shadow = None;
        let symbol = self.config.instrument.symbol.clone();
        let mut outcome = Ok(());
        if let Err(e) = self.read_fills(None).await {
            outcome = Err(e);
        }
        // The logs first, so that no checkpoint saved now is ahead of them (when they cannot be
        // made durable, the checkpoints stay behind and a restart redoes that work).
        let durable = match self.config.stores.flush().await {
            Ok(()) => true,
            Err(e) => {
                self.summary.store_errors += 1;
                tracing::warn!(%symbol, error = %e, "store: flush failed at exit");
                false
            }
        };
        // Taken over by another instance: what it saves from now on is the bot's state, and
        // nothing of this one's may land over it.
        let lost = self.instance.as_ref().is_some_and(|i| i.is_lost());
        if lost {
            tracing::warn!(%symbol, "the bot's state is not saved at exit: another instance holds it");
        } else if let Err(e) = self.save_all(durable).await {
            tracing::error!(%symbol, error = %e, "state not saved at exit");
            if outcome.is_ok() {
                outcome = Err(e);
            }
        }
        self.summary.final_account = match self.broker.account().await {
            Ok(account) => Some(account),
            Err(e) => {
                tracing::warn!(%symbol, error = %e, "broker: the final account is unreadable");
                None
            }
        };
        self.summary.finish(&self.ledger, &self.learner()?);
        // Last: what the next instance loads is saved. (A claim handed to the engine is
        // released by whoever took it, after its own last writes.)
        if let Some(instance) = self.instance.as_ref().filter(|_| self.releases_instance) {
            instance.release().await;
        }
        outcome
    }
}

/// How many minutes after the broker refused a daily-loss close it is tried again.
const DAILY_CLOSE_AGAIN_MINUTES: i64 = 5;

/// A closed candle into the hot cache, then the history.
pub(crate) async fn write_candle(
    stores: &tradegraph_store::Stores,
    symbol: &tradegraph_core::Symbol,
    candle: &Candle,
) -> Result<(), tradegraph_store::StoreError> {
    stores.hot.put_candle(symbol, candle).await?;
    stores
        .history
        .upsert_candles(symbol, std::slice::from_ref(candle))
        .await
}

/// Completes after `wait`, or never when there is none.
async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// The next tick of the timer, or never when there is none.
async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}
