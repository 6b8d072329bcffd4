//! The ingesting process of `tradegraph run --workers redis`: the feed into the hot cache and
//! the history, and each decision cycle onto the run queue as a [`CycleJob`].

use super::{CycleJob, WorkerError, JOB_FORMAT};
use crate::engine::prices::feed_long_candle;
use crate::engine::run::{write_candle, QUIET_GRACE};
use crate::engine::watch::FeedWatch;
use crate::engine::{BotEvent, FeedState};
use crate::telemetry::names;
use futures::{Stream, StreamExt};
use serde::Serialize;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tradegraph_core::{Candle, Instrument, Timeframe, Timestamp};
use tradegraph_market::aggregate::{AggregatorPolicy, CandleAggregator};
use tradegraph_market::{FeedNotice, MarketEvent};
use tradegraph_store::queue::RunQueue;
use tradegraph_store::{LatestPrice, Stores};

/// How long the jobs not yet published may take to go out once the feed stopped.
const DRAIN_WITHIN: Duration = Duration::from_secs(10);

/// What the ingesting process reports (`GET /api/v1/status` of its service).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestStatus {
    /// `ingest`: this process publishes the decision cycles, workers run them.
    pub role: &'static str,
    /// The instrument's symbol.
    pub instrument: String,
    /// Its name in the configuration (the jobs carry it).
    pub name: String,
    /// The decision timeframe.
    pub decision_every: String,
    /// The newest market event's exchange time.
    pub last_event_at: Option<Timestamp>,
    /// The feed's state: `connecting`, `connected`, `disconnected`, `stale`, `ended`.
    pub feed: String,
    /// Decision cycles published since the start (jobs that end with a decision candle; the
    /// candles after the last one go out as a job of their own at the feed's end or a stop).
    pub published: u64,
    /// The decision time of the newest cycle published.
    pub last_published_at: Option<Timestamp>,
    /// Jobs waiting to be published (Redis away); they go out in order once it is back.
    pub unpublished: usize,
    /// The newest publishing failure, while jobs wait.
    pub publish_error: Option<String>,
    /// Hot-cache and history writes that failed.
    pub store_errors: u64,
}

/// The status, shared with the HTTP service.
#[derive(Clone, Default)]
pub struct SharedIngestStatus(Arc<Mutex<IngestStatus>>);

impl SharedIngestStatus {
    /// The status now.
    pub fn get(&self) -> IngestStatus {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, change: impl FnOnce(&mut IngestStatus)) {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// One instrument's feed, written to the stores and cut into decision cycles for the workers.
pub struct Ingest<F, Q: ?Sized> {
    feed: F,
    queue: Arc<Q>,
    instrument: Instrument,
    name: String,
    decision_every: Timeframe,
    stores: Stores,
    aggregator: CandleAggregator,
    /// The closed candles since the last job.
    pending: Vec<MarketEvent>,
    /// Jobs made and not published yet, oldest first.
    outbox: VecDeque<(CycleJob, bool)>,
    feed_ticks: bool,
    /// The feed's silences (as the engine watches them).
    watch: FeedWatch,
    /// The feed's state (the status shows it; its changes go out as events).
    feed_state: FeedState,
    /// Where the feed's changes are published (the alerts), if anywhere.
    events: Option<broadcast::Sender<BotEvent>>,
    status: SharedIngestStatus,
    /// A feed silent this long while the market is open is reported stale.
    stale_after: Duration,
    /// Publishing failed: the next try waits for the core back-off.
    retry: tradegraph_core::backoff::Attempts,
    retry_at: Option<Instant>,
}

impl<F, Q> Ingest<F, Q>
where
    F: Stream<Item = MarketEvent> + Send + Unpin,
    Q: RunQueue + ?Sized,
{
    /// Ingests `feed` for `instrument` (named `name` in the configuration, the name the workers
    /// resolve it by), deciding every `decision_every`, into `stores` and `queue`.
    pub fn new(
        feed: F,
        queue: Arc<Q>,
        instrument: Instrument,
        name: impl Into<String>,
        decision_every: Timeframe,
        stores: Stores,
    ) -> Self {
        let name = name.into();
        // (made again as `run` starts, resumed from the hot cache)
        let aggregator = CandleAggregator::with_policy(
            instrument.symbol.clone(),
            instrument.session.clone(),
            AggregatorPolicy::default(),
        );
        let status = SharedIngestStatus::default();
        status.update(|s| {
            s.role = "ingest";
            s.instrument = instrument.symbol.to_string();
            s.name.clone_from(&name);
            s.decision_every = decision_every.to_string();
            s.feed = "connecting".into();
        });
        Self {
            feed,
            queue,
            instrument,
            name,
            decision_every,
            stores,
            aggregator,
            pending: Vec::new(),
            outbox: VecDeque::new(),
            feed_ticks: false,
            watch: FeedWatch::default(),
            feed_state: FeedState::Starting,
            events: None,
            status,
            stale_after: crate::engine::FEED_STALE_AFTER,
            retry: tradegraph_core::backoff::Attempts::new(tradegraph_core::backoff::Backoff::new(
                Duration::from_millis(200),
                Duration::from_secs(10),
            )),
            retry_at: None,
        }
    }

    /// Reports the feed stale once it is silent this long while the market is open (the
    /// engine's 60 s unless set; `[health] feed_stale_secs`).
    #[must_use]
    pub fn stale_after(mut self, after: Duration) -> Self {
        self.stale_after = after;
        self
    }

    /// Publishes the feed's changes of state (`BotEvent::Feed`, as the engine does) on
    /// `events`: the alerts raise `feed_stale` from them.
    #[must_use]
    pub fn events(mut self, events: broadcast::Sender<BotEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// The feed is now in `state` (`detail`: why): the status says so, and a change goes out
    /// as an event.
    fn feed_is(&mut self, state: FeedState, detail: Option<String>) {
        if self.feed_state == state {
            return;
        }
        self.feed_state = state;
        let shown = match state {
            FeedState::Starting => "connecting",
            other => other.as_str(),
        };
        self.status.update(|s| s.feed = shown.into());
        if let Some(events) = &self.events {
            let _ = events.send(BotEvent::Feed {
                state,
                detail,
                at: crate::engine::wall_now(),
            });
        }
    }

    /// The status, for the HTTP service.
    pub fn status(&self) -> SharedIngestStatus {
        self.status.clone()
    }

    /// Runs until the feed ends or `shutdown` completes; then the minute still open is closed
    /// (at the feed's end), what is left is published (for up to 10 s) and the stores flushed.
    ///
    /// # Errors
    /// [`WorkerError::Unpublished`] when jobs could not be published before the end: they are
    /// named, and their candles are in the hot cache and the history.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<u64, WorkerError> {
        // The candles in progress resume from what the hot cache kept (as the engine's do).
        // Quiet minutes are filled here, once, for every worker; a gap in the feed is not.
        self.aggregator = crate::engine::candles::aggregator(
            &self.instrument,
            self.stores.hot.as_ref(),
            Some(crate::engine::wall_now()),
            tradegraph_market::aggregate::EmptyMinutes::Fill,
        )
        .await;
        let mut shutdown = std::pin::pin!(shutdown);
        let mut timer = tokio::time::interval(Duration::from_secs(1));
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!(symbol = %self.instrument.symbol, "ingest: stopping, shutdown requested");
                    // The candles closed since the last decision: the workers' brokers work
                    // their orders on them.
                    if let Some(last) = self.pending.last() {
                        let at = last.known_at();
                        self.enqueue(at, false);
                    }
                    break;
                }
                event = self.feed.next() => match event {
                    Some(event) => self.on_event(event).await,
                    None => {
                        self.on_feed_end().await;
                        break;
                    }
                },
                _ = timer.tick() => self.on_timer().await,
            }
        }
        let deadline = Instant::now() + DRAIN_WITHIN;
        while !self.outbox.is_empty() && Instant::now() < deadline {
            self.retry_at = None;
            self.publish().await;
            if !self.outbox.is_empty() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        if let Err(e) = self.stores.flush().await {
            tracing::warn!(symbol = %self.instrument.symbol, error = %e, "store: flush failed at exit");
        }
        let published = self.status.get().published;
        match self.outbox.front() {
            None => Ok(published),
            Some((first, _)) => Err(WorkerError::Unpublished {
                instrument: self.instrument.symbol.to_string(),
                jobs: self.outbox.len(),
                from: first.at,
            }),
        }
    }

    async fn on_event(&mut self, event: MarketEvent) {
        let symbol = self.instrument.symbol.clone();
        if let MarketEvent::Notice { feed, notice, .. } = &event {
            let state = match notice {
                FeedNotice::Connected { .. } => Some((FeedState::Connected, None)),
                FeedNotice::Disconnected { reason } => {
                    Some((FeedState::Disconnected, Some(reason.clone())))
                }
                FeedNotice::Reconnecting { attempt, .. } => Some((
                    FeedState::Disconnected,
                    Some(format!("reconnecting, attempt {attempt}")),
                )),
                _ => None,
            };
            tracing::info!(feed, notice = ?notice, "ingest: feed");
            if self.watch.notice(notice) {
                // What comes until data is back is unknown, not a quiet market.
                self.aggregator.data_gap();
            }
            if let Some((state, detail)) = state {
                self.feed_is(state, detail);
            }
            return;
        }
        if event.symbol() != Some(&symbol) {
            return;
        }
        let (at, again) = self.watch.data(event.known_at());
        if again {
            tracing::info!(symbol = %symbol, "ingest: feed: data again");
        }
        self.status.update(|s| s.last_event_at = Some(at));
        // Data: the feed delivers, whatever it said before (as the engine takes it).
        if self.feed_state != FeedState::Connected {
            self.feed_is(FeedState::Connected, None);
        }
        let tick = crate::engine::prices::tick_of(&event);
        if let Some(tick) = tick {
            self.feed_ticks = true;
            if let Err(e) = self.stores.hot.put_tick(&symbol, &tick).await {
                self.store_error("tick not cached", &e);
            }
        }
        let mut closed = Vec::new();
        self.aggregator.on_event(&event, &mut closed);
        if let Some(candle) = feed_long_candle(&event) {
            closed.push(candle.clone());
        }
        self.on_closed(closed).await;
    }

    /// Once a second: a candle past its end with no event for [`QUIET_GRACE`] closes on the
    /// exchange time the last event implies, unless the feed is down or stale (as the engine
    /// does); jobs waiting are published.
    async fn on_timer(&mut self) {
        let open = self.instrument.session.is_open(crate::engine::wall_now());
        if let Some(silent) = self.watch.turns_stale(self.stale_after, open) {
            tracing::warn!(symbol = %self.instrument.symbol, quiet_s = silent.as_secs(), "ingest: feed: stale, no market data");
            self.aggregator.data_gap();
            self.feed_is(
                FeedState::Stale,
                Some(format!("no market data for {} s", silent.as_secs())),
            );
        }
        if let Some(now) = self.watch.quiet_until(QUIET_GRACE) {
            let mut closed = Vec::new();
            self.aggregator.advance(now, &mut closed);
            self.on_closed(closed).await;
        }
        if !self.outbox.is_empty() {
            self.publish().await;
        }
    }

    async fn on_feed_end(&mut self) {
        if let Some(end) = crate::engine::prices::open_minute_end(&self.aggregator) {
            let mut closed = Vec::new();
            self.aggregator.advance(end, &mut closed);
            self.on_closed(closed).await;
        }
        // The candles after the last decision: the workers' brokers work their orders on them.
        if let Some(last) = self.pending.last() {
            let at = last.known_at();
            self.enqueue(at, false);
            self.publish().await;
        }
        self.feed_is(FeedState::Ended, None);
        tracing::info!(symbol = %self.instrument.symbol, "ingest: the feed ended");
    }

    /// Candles that closed together (a minute, and the longer candles it completes): into the
    /// stores, then onto the next job, which goes out when one of them is the decision
    /// timeframe's, so that a job carries every candle closed by its decision time.
    async fn on_closed(&mut self, closed: Vec<Candle>) {
        let symbol = self.instrument.symbol.clone();
        let mut decided = None;
        for candle in closed {
            if let Err(e) = write_candle(&self.stores, &symbol, &candle).await {
                self.store_error("candle not written", &e);
            }
            let end = candle.open_time.add_millis(candle.timeframe.millis());
            if candle.timeframe == Timeframe::M1 && !self.feed_ticks {
                let latest = LatestPrice {
                    price: candle.close,
                    ts: end,
                };
                if let Err(e) = self.stores.hot.put_latest(&symbol, latest).await {
                    self.store_error("latest price not cached", &e);
                }
            }
            if candle.timeframe == self.decision_every {
                decided = Some(end);
            }
            self.pending.push(MarketEvent::Candle {
                symbol: symbol.clone(),
                candle,
                closed: true,
            });
        }
        if let Some(at) = decided {
            self.enqueue(at, true);
            self.publish().await;
        }
    }

    /// The pending candles as the next job; `decides`: it ends with a decision candle (else it
    /// only carries the candles closed after the last one, at the feed's end or a stop).
    fn enqueue(&mut self, at: Timestamp, decides: bool) {
        let job = CycleJob {
            format: JOB_FORMAT,
            instrument: self.name.clone(),
            symbol: self.instrument.symbol.clone(),
            events: std::mem::take(&mut self.pending),
            at,
            published_us: 0,
            decision_every: Some(self.decision_every),
        };
        self.outbox.push_back((job, decides));
    }

    /// Publishes the jobs waiting, oldest first; the first that fails stays (with those after
    /// it) for the next try, after the core back-off.
    async fn publish(&mut self) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            let left = self.outbox.len();
            self.status.update(|s| s.unpublished = left);
            return;
        }
        let symbol = self.instrument.symbol.clone();
        while let Some((job, decides)) = self.outbox.front_mut() {
            let decides = *decides;
            job.published_us = super::job::wall_us();
            let payload = match job.encode() {
                Ok(payload) => payload,
                Err(e) => {
                    // cannot happen (candles always encode); said, and the job set aside
                    tracing::error!(%symbol, at = %job.at, error = %e, "ingest: a job cannot be encoded; its candles stay in the stores");
                    self.outbox.pop_front();
                    continue;
                }
            };
            match self.queue.publish(&symbol, &payload).await {
                Ok(id) => {
                    self.retry.healthy();
                    self.retry_at = None;
                    let at = job.at;
                    tracing::debug!(%symbol, job = %id, %at, "ingest: cycle published");
                    metrics::counter!(names::workers::QUEUE_PUBLISHED_TOTAL, "instrument" => symbol.to_string()).increment(1);
                    self.outbox.pop_front();
                    let left = self.outbox.len();
                    self.status.update(|s| {
                        if decides {
                            s.published += 1;
                            s.last_published_at = Some(at);
                        }
                        s.unpublished = left;
                        s.publish_error = None;
                    });
                }
                Err(e) => {
                    let (_, delay) = self.retry.failed();
                    self.retry_at = Some(Instant::now() + delay);
                    let left = self.outbox.len();
                    let first = self.status.get().publish_error.is_none();
                    if first {
                        tracing::warn!(%symbol, error = %e, waiting = left, "ingest: cycles not published; kept and published in order once the queue answers");
                    }
                    self.status.update(|s| {
                        s.unpublished = left;
                        s.publish_error = Some(e.to_string());
                    });
                    return;
                }
            }
        }
    }

    fn store_error(&self, what: &str, e: &tradegraph_store::StoreError) {
        tracing::warn!(symbol = %self.instrument.symbol, error = %e, "store: {what}");
        self.status.update(|s| s.store_errors += 1);
    }
}
