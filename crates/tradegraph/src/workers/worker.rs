//! `tradegraph worker`: takes instruments from the run queue under leases and runs their
//! decision cycles, each instrument's whole engine on one worker at a time.

use super::feed::{Delivery, FeedControl, JobFeed};
use super::{CycleJob, WorkerError};
use crate::engine::{paper_broker, BotConfig, BotHandle, Engine, Mode};
use crate::telemetry::names;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tradegraph_agents::TradingState;
use tradegraph_core::backoff::{Attempts, Backoff};
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_graph::Checkpointer;
use tradegraph_market::SimulatedClock;
use tradegraph_store::queue::{CancelChannel, JobId, Lease, Next, RunQueue, WorkerId, WorkerInfo};

/// How a worker opens the bot of an instrument a job names: its configuration, as
/// `tradegraph run --instrument <name>` would resolve it (the policy the worker runs with).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot open instruments for a worker",
    note = "implement `tradegraph::workers::Instruments::open`, returning the instrument's `BotConfig` as `Opened` (`config.into()`)"
)]
#[async_trait(?Send)]
pub trait Instruments {
    /// The configuration of `job`'s instrument for the worker's slot `slot`, in
    /// [`Mode::Service`], its state in a store every worker reaches (MongoDB or Redis), its
    /// broker paper. Files of its own (MongoDB's spill file) must be the slot's: the ingesting
    /// process, or another slot, may hold the bot's.
    ///
    /// # Errors
    /// [`WorkerError::Open`] naming what is missing or refused (the job counts as delivered,
    /// toward the dead letters); [`WorkerError::Unavailable`] (or any error whose
    /// [`is_transient`](WorkerError::is_transient) is true) when the instrument's stores did not
    /// answer: the instrument is given back, its job not counted, and taken again later.
    async fn open(&self, job: &CycleJob, slot: &WorkerId) -> Result<Opened, WorkerError>;
}

/// An instrument opened for a slot ([`Instruments::open`]): its engine's configuration, and
/// what watches the engine while the slot holds the instrument (`tradegraph worker`: its
/// alerts, on the engine's events).
#[non_exhaustive]
pub struct Opened {
    /// The engine's configuration.
    pub config: BotConfig,
    /// What watches the engine, told when it started and how it ended.
    pub watcher: Option<Box<dyn Watcher>>,
}

impl Opened {
    /// With `watcher` watching the engine.
    #[must_use]
    pub fn watched(mut self, watcher: Box<dyn Watcher>) -> Self {
        self.watcher = Some(watcher);
        self
    }
}

impl From<BotConfig> for Opened {
    fn from(config: BotConfig) -> Self {
        Self {
            config,
            watcher: None,
        }
    }
}

/// What watches an instrument's engine beside it while a slot holds the instrument (the
/// alerts of `tradegraph worker`, subscribed to the engine's events), told how the engine
/// goes.
#[async_trait(?Send)]
pub trait Watcher {
    /// The engine started: its handle (status, equity curve).
    fn started(&mut self, engine: &BotHandle);

    /// The slot lets go of the instrument: `stopped_on` is the error its engine stopped on,
    /// or could not start with (another worker runs the instrument's job again); `None` when
    /// the engine stopped in order (the instrument given back, or its lease lost). Called
    /// before the instrument's stores close; bounded in time by the watcher.
    async fn ended(self: Box<Self>, stopped_on: Option<String>);
}

/// A worker's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// Its name among the queue's workers ([`WorkerId::unique`] unless set); its slots are
    /// `<name>/<n>`.
    pub id: WorkerId,
    /// Instruments it holds at once (4): the concurrency limit.
    pub concurrency: u32,
    /// How often it reports itself alive, with its load (2 s).
    pub beat_every: Duration,
    /// How often an idle slot asks for an instrument (250 ms).
    pub idle_poll: Duration,
    /// How long a slot keeps an instrument whose queue is empty before giving it back, so that
    /// its next job runs without starting the engine again (and the engine's peak equity,
    /// equity series and alert cool-downs run on): `None` (the default), the instrument's
    /// decision interval and a minute ([`keep_for`](Self::keep_for)) while a slot of the
    /// worker is free, a minute while every slot holds an instrument (one waiting for a slot
    /// is not starved).
    pub keep_idle: Option<Duration>,
    /// How often a lease is renewed while a cycle runs (3 s): a third of the queue's lease.
    pub renew_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            id: WorkerId::unique(),
            concurrency: 4,
            beat_every: Duration::from_secs(2),
            idle_poll: Duration::from_millis(250),
            keep_idle: None,
            renew_every: Duration::from_secs(3),
        }
    }
}

/// What a worker changes in an instrument's configuration for an engine fed by jobs from
/// `first_job_at`: a service that writes no market data (the ingesting process did), watches
/// no feed silence and fills no missing minute (gaps in jobs are the ingest's, which filled
/// the quiet minutes), saves strictly, warms up from candles closed by its first job only, and
/// fills market orders at the next bar's open (the engine sees bars, not trades; unless
/// `[paper] fill_timing` says otherwise).
pub fn configure_for_jobs(config: &mut BotConfig, first_job_at: Timestamp) {
    config.mode = Mode::Service;
    config.writes_market = false;
    config.watches_feed = false;
    config.empty_minutes = tradegraph_market::aggregate::EmptyMinutes::Skip;
    config.strict_saves = true;
    config.warm_up_until = Some(first_job_at);
    config.execution.replayed_bars = true;
}

/// How long an idle instrument is kept when neither `keep_idle` nor its jobs' decision
/// interval says (a job from a version that did not write it): the default decision interval's.
const KEEP_IDLE_FALLBACK: Duration = Duration::from_secs(16 * 60);

/// How long an idle instrument is kept by default while every slot of its worker holds one:
/// an instrument waiting for a slot gets one within it.
const BUSY_KEEP_IDLE: Duration = Duration::from_secs(60);

impl WorkerConfig {
    /// How long an instrument whose jobs come every `decision_every` is kept idle: `keep_idle`
    /// when set, else the interval and a minute (the next job comes within it).
    pub fn keep_for(&self, decision_every: Option<tradegraph_core::Timeframe>) -> Duration {
        self.keep_idle.unwrap_or_else(|| {
            decision_every.map_or(KEEP_IDLE_FALLBACK, |tf| {
                Duration::from_millis(u64::try_from(tf.millis()).unwrap_or(0))
                    + Duration::from_secs(60)
            })
        })
    }

    /// Sets the name.
    #[must_use]
    pub fn id(mut self, id: WorkerId) -> Self {
        self.id = id;
        self
    }

    /// Sets the concurrency limit (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets how long an idle instrument is kept.
    #[must_use]
    pub fn keep_idle(mut self, keep: Duration) -> Self {
        self.keep_idle = Some(keep);
        self
    }

    /// Renews leases three times per `lease` (the queue's [`QueueConfig::lease`](tradegraph_store::queue::QueueConfig)).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.renew_every = (lease / 3).max(Duration::from_millis(10));
        self
    }

    /// Sets how often an idle slot asks for an instrument.
    #[must_use]
    pub fn idle_poll(mut self, poll: Duration) -> Self {
        self.idle_poll = poll;
        self
    }
}

/// What a worker did, when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Jobs acknowledged.
    pub done: u64,
    /// Instruments taken (engines started).
    pub taken: u64,
}

/// Called with each cycle's final state and the instrument.
pub type OnCycle = Arc<dyn Fn(&Symbol, &TradingState) + Send + Sync>;

/// A worker: `concurrency` slots, each holding one instrument at a time (see the
/// [module documentation](super)).
pub struct Worker<Q: ?Sized, I: ?Sized> {
    queue: Arc<Q>,
    instruments: Arc<I>,
    checkpoints: Arc<dyn Checkpointer<TradingState>>,
    config: WorkerConfig,
    on_cycle: OnCycle,
    shared: Shared,
}

#[derive(Default)]
struct Shared {
    done: AtomicU64,
    taken: AtomicU64,
    /// The instrument of each busy slot, and its engine (for cancellations).
    held: Mutex<BTreeMap<u32, (Symbol, BotHandle)>>,
    stopping: CancellationToken,
    /// The wait after instruments whose stores did not answer.
    away: Mutex<Away>,
}

/// The worker's wait after instruments whose stores did not answer ([`Ended::Away`]): every
/// slot waits it out before taking an instrument again (one outage, one pace for the whole
/// worker, whichever slot met it), 1 s at first, then longer up to 30 s, until a job is done
/// again.
struct Away {
    attempts: Attempts,
    until: Option<Instant>,
}

impl Default for Away {
    fn default() -> Self {
        Self {
            attempts: Attempts::new(Backoff::new(
                Duration::from_secs(1),
                Duration::from_secs(30),
            )),
            until: None,
        }
    }
}

/// Tells the watcher, if any, how the engine ended.
async fn unwatch(watcher: Option<Box<dyn Watcher>>, stopped_on: Option<String>) {
    if let Some(watcher) = watcher {
        watcher.ended(stopped_on).await;
    }
}

/// How a slot's work on an instrument ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Shutdown: the job in flight finished and was acknowledged; the instrument goes back.
    Graceful,
    /// Its queue stayed empty past `keep_idle`: the instrument goes back.
    Idle,
    /// The lease ran out (another worker may hold it): nothing more is done.
    Lost,
    /// The engine stopped on its own, or the queue failed: the job in flight is not
    /// acknowledged, and the lease runs out, so that the job is delivered again (counted).
    Failed,
    /// The instrument's stores did not answer (opening it, starting its engine, saving a
    /// cycle): it goes back at once, before the slot's teardown, its job not counted as
    /// delivered (an outage must not send jobs to the dead letters), and the worker's slots
    /// wait longer each time before taking one again ([`Away`]).
    Away,
}

impl<Q, I> Worker<Q, I>
where
    Q: RunQueue + CancelChannel + ?Sized + 'static,
    I: Instruments + ?Sized + 'static,
{
    /// A worker on `queue`, opening instruments with `instruments`, keeping the graph's runs in
    /// `checkpoints` (Redis or MongoDB: a run cut short goes on from there on another worker).
    pub fn new(
        queue: Arc<Q>,
        instruments: Arc<I>,
        checkpoints: Arc<dyn Checkpointer<TradingState>>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            queue,
            instruments,
            checkpoints,
            config,
            on_cycle: Arc::new(|_, _| {}),
            shared: Shared::default(),
        }
    }

    /// Calls `f` with each finished cycle's state.
    #[must_use]
    pub fn on_cycle(mut self, f: OnCycle) -> Self {
        self.on_cycle = f;
        self
    }

    /// Works until `shutdown` completes; then each slot finishes its job in flight,
    /// acknowledges it, stops its engine (which saves the instrument's state) and gives the
    /// instrument back to the queue, so another worker takes it at once.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> WorkerSummary {
        let stopping = self.shared.stopping.clone();
        let watch = async move {
            shutdown.await;
            tracing::info!("worker: stopping; the cycles in flight finish, then the instruments go back to the queue");
            stopping.cancel();
            std::future::pending::<()>().await;
        };
        let started = crate::engine::wall_now();
        let slots = futures::future::join_all((0..self.config.concurrency).map(|n| self.slot(n)));
        let work = async {
            futures::join!(slots, self.beats(started), self.cancellations());
        };
        tokio::select! {
            () = work => {}
            () = watch => {}
        }
        // Its last report: no instrument held any more (it is listed until it is 3 beats old).
        if let Err(e) = self.queue.beat(&self.info(started)).await {
            tracing::warn!(error = %e, "worker: its last beat was not reported");
        }
        WorkerSummary {
            done: self.shared.done.load(Ordering::Relaxed),
            taken: self.shared.taken.load(Ordering::Relaxed),
        }
    }

    /// Stops the worker as its `run` shutdown would.
    pub fn stop(&self) {
        self.shared.stopping.cancel();
    }

    /// The worker's report of itself now.
    pub fn info(&self, started: Timestamp) -> WorkerInfo {
        let instruments = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|(symbol, _)| symbol.clone())
            .collect();
        WorkerInfo {
            id: self.config.id.clone(),
            started,
            beat: crate::engine::wall_now(),
            interval_ms: u64::try_from(self.config.beat_every.as_millis()).unwrap_or(u64::MAX),
            instruments,
            capacity: self.config.concurrency,
            done: self.shared.done.load(Ordering::Relaxed),
        }
    }

    async fn beats(&self, started: Timestamp) {
        let mut timer = tokio::time::interval(self.config.beat_every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                () = self.shared.stopping.cancelled() => return,
                _ = timer.tick() => {}
            }
            match self.queue.beat(&self.info(started)).await {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "worker: its beat was not reported; the API does not list it until the queue answers");
                }
                Err(_) => {}
            }
        }
    }

    async fn cancellations(&self) {
        let mut requests = match self.queue.cancellations().await {
            Ok(requests) => requests,
            Err(e) => {
                tracing::error!(error = %e, "worker: cannot listen for cancellations; cycles run to their end");
                return;
            }
        };
        loop {
            let symbol = tokio::select! {
                () = self.shared.stopping.cancelled() => return,
                symbol = requests.recv() => match symbol {
                    Some(symbol) => symbol,
                    None => return,
                },
            };
            let handle = self
                .shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .find(|(held, _)| *held == symbol)
                .map(|(_, handle)| handle.clone());
            if let Some(handle) = handle {
                if handle.cancel_cycle() {
                    tracing::warn!(%symbol, "worker: the decision cycle in flight was cancelled on request");
                } else {
                    tracing::info!(%symbol, "worker: cancellation asked, no cycle in flight");
                }
            }
        }
    }

    async fn slot(&self, n: u32) {
        let id = self.config.id.slot(n);
        let mut attempts = Attempts::new(Backoff::new(
            Duration::from_millis(100),
            Duration::from_secs(5),
        ));
        let stopping = &self.shared.stopping;
        while !stopping.is_cancelled() {
            if let Some(wait) = self.away_wait() {
                tokio::select! {
                    () = stopping.cancelled() => {}
                    () = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let wait = match self.queue.acquire(&id).await {
                Ok(Some(lease)) => {
                    attempts.healthy();
                    match Box::pin(self.serve(n, &lease)).await {
                        // The lease runs out on its own, and the job is delivered again
                        // (counted), to whichever worker takes the instrument then: this slot
                        // asks only once it has (it would get its own lease back before).
                        Ended::Failed => self.config.renew_every * 4,
                        // The worker's wait was raised before the instrument went back.
                        Ended::Away => continue,
                        Ended::Graceful | Ended::Idle | Ended::Lost => continue,
                    }
                }
                Ok(None) => {
                    attempts.healthy();
                    self.config.idle_poll
                }
                Err(e) => {
                    let (attempt, delay) = attempts.failed();
                    tracing::warn!(worker = %id, attempt, error = %e, "worker: the queue did not answer; trying again");
                    delay
                }
            };
            tokio::select! {
                () = stopping.cancelled() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The worker's wait after instruments whose stores did not answer.
    fn away(&self) -> std::sync::MutexGuard<'_, Away> {
        self.shared
            .away
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How long every slot still waits after instruments whose stores did not answer.
    fn away_wait(&self) -> Option<Duration> {
        let away = self.away();
        away.until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|wait| !wait.is_zero())
    }

    /// An instrument's stores did not answer (`slot` gives it back): the worker's slots wait
    /// longer each time before taking one again (one step per wait, however many slots met
    /// the outage meanwhile).
    fn stores_away(&self, slot: &WorkerId) {
        let mut away = self.away();
        if away.until.is_some_and(|until| until > Instant::now()) {
            return;
        }
        let (attempt, delay) = away.attempts.failed();
        away.until = Some(Instant::now() + delay);
        tracing::info!(worker = %slot, attempt, ?delay, "worker: waiting before taking an instrument again (its stores did not answer)");
    }

    /// A job was done: the stores answer again.
    fn stores_back(&self) {
        let mut away = self.away();
        away.attempts.healthy();
        away.until = None;
    }

    /// Works `lease`'s instrument until it is given back, lost or failed.
    async fn serve(&self, n: u32, lease: &Lease) -> Ended {
        let symbol = lease.instrument.clone();
        // A slot takes an instrument that has a job: it waits for it no longer than a minute
        // (or the configured keep).
        let first_wait = self.config.keep_idle.unwrap_or(Duration::from_secs(60));
        let first = match self.next_job(lease, Instant::now(), first_wait).await {
            Ok(job) => job,
            Err(ended) => return self.give_back(lease, ended).await,
        };
        let (id, job) = first;
        let opened = self
            .renewing(lease, self.instruments.open(&job, &lease.worker))
            .await;
        let Opened {
            mut config,
            mut watcher,
        } = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) if e.is_transient() => {
                tracing::warn!(%symbol, job = %id, error = %e, "worker: the instrument cannot be opened now; it is given back, its job not counted as delivered");
                self.stores_away(&lease.worker);
                return self.give_back(lease, Ended::Away).await;
            }
            Ok(Err(e)) => {
                tracing::error!(%symbol, job = %id, error = %e, "worker: the instrument cannot be opened; its job is delivered again once the lease runs out, then set aside");
                return Ended::Failed;
            }
            Err(ended) => return ended,
        };
        configure_for_jobs(&mut config, job.starts_at());
        config.checkpoints = Some(self.checkpoints.clone());
        let stores = config.stores.clone();
        let clock = SimulatedClock::new(job.starts_at());
        let (feed, control) = JobFeed::new(clock.clone());
        let started = match paper_broker(&config) {
            Ok(broker) => {
                self.renewing(lease, Box::pin(Engine::start(config, clock, feed, broker)))
                    .await
            }
            Err(e) => Ok(Err(e)),
        };
        let engine = match started {
            Ok(Ok(engine)) => engine,
            Err(ended) => {
                unwatch(watcher, None).await;
                stores.shutdown().await;
                return ended;
            }
            Ok(Err(e)) if e.is_transient() => {
                tracing::warn!(%symbol, job = %id, error = %e, "worker: the instrument's engine cannot start now (a store did not answer); it is given back, its job not counted as delivered");
                // Given back before the teardown, which waits on the stores that are away and
                // would let the lease run out (the delivery then counted); the stores' own
                // alerts say they are away, not `engine_stopped`.
                self.stores_away(&lease.worker);
                let ended = self.give_back(lease, Ended::Away).await;
                unwatch(watcher, None).await;
                stores.shutdown().await;
                return ended;
            }
            Ok(Err(e)) => {
                tracing::error!(%symbol, job = %id, error = %e, "worker: the instrument's engine cannot start; its job is delivered again once the lease runs out, then set aside");
                unwatch(
                    watcher,
                    Some(format!("the engine of {symbol} cannot start on worker {}: {e}; its decision cycle is delivered again", lease.worker)),
                )
                .await;
                stores.shutdown().await;
                return Ended::Failed;
            }
        };
        if let Some(watcher) = watcher.as_mut() {
            watcher.started(&engine.handle());
        }
        self.shared.taken.fetch_add(1, Ordering::Relaxed);
        self.hold(n, Some((symbol.clone(), engine.handle())));
        tracing::info!(%symbol, worker = %lease.worker, token = lease.token, "worker: instrument taken");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let on_cycle = self.on_cycle.clone();
        let cycle_symbol = symbol.clone();
        let run = engine.run(
            async move {
                let _ = stopped.await;
            },
            move |state| on_cycle(&cycle_symbol, state),
        );
        let mut run = std::pin::pin!(run);
        let drive = self.drive(lease, (id, job), control);
        let (mut stopped_on, mut away) = (None, false);
        let ended = tokio::select! {
            result = &mut run => {
                let why = match result {
                    Ok(_) => {
                        tracing::error!(%symbol, "worker: the engine stopped on its own; the job in flight is delivered again");
                        "it stopped on its own".to_owned()
                    }
                    Err(e) if e.is_transient() => {
                        away = true;
                        tracing::warn!(%symbol, error = %e, "worker: the engine stopped, a store did not answer; the instrument is given back, the job in flight not counted as delivered");
                        e.to_string()
                    }
                    Err(e) => {
                        tracing::error!(%symbol, error = %e, "worker: the engine stopped; the job in flight is delivered again");
                        e.to_string()
                    }
                };
                if away {
                    // The stores' own alerts say they are away, not `engine_stopped`.
                    Ended::Away
                } else {
                    stopped_on = Some(format!(
                        "the engine of {symbol} stopped on worker {}: {why}; its decision cycle is delivered again",
                        lease.worker
                    ));
                    Ended::Failed
                }
            }
            ended = drive => {
                if ended == Ended::Lost {
                    // Another worker may own the instrument now: this engine is dropped where
                    // it stands, as if its process had died (no last save over the new owner's
                    // state, its cycle's checkpoints left for the new owner to go on from).
                    tracing::warn!(%symbol, "worker: the lease was lost; the instrument's engine is dropped unsaved");
                } else {
                    let _ = stop.send(());
                    if let Err(e) = run.await {
                        tracing::warn!(%symbol, error = %e, "worker: the engine stopped on an error");
                    }
                }
                ended
            }
        };
        self.hold(n, None);
        if ended == Ended::Away {
            // Given back before the teardown, which waits on the stores that are away and
            // would let the lease run out (the delivery then counted).
            self.stores_away(&lease.worker);
            self.give_back(lease, ended).await;
            unwatch(watcher, stopped_on).await;
            stores.shutdown().await;
            return ended;
        }
        unwatch(watcher, stopped_on).await;
        stores.shutdown().await;
        self.give_back(lease, ended).await
    }

    /// Gives the instrument back when the slot stopped with it in order, or its stores did not
    /// answer (its job then not counted as delivered).
    async fn give_back(&self, lease: &Lease, ended: Ended) -> Ended {
        if matches!(ended, Ended::Graceful | Ended::Idle | Ended::Away) {
            if let Err(e) = self.queue.release(lease).await {
                tracing::warn!(symbol = %lease.instrument, error = %e, "worker: the instrument was not given back; another worker takes it once the lease runs out");
            } else {
                tracing::info!(symbol = %lease.instrument, "worker: instrument given back");
            }
        }
        ended
    }

    /// Slots of this worker that hold no instrument now.
    fn free_slots(&self) -> usize {
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        usize::try_from(self.config.concurrency)
            .unwrap_or(usize::MAX)
            .saturating_sub(held)
    }

    fn hold(&self, n: u32, held: Option<(Symbol, BotHandle)>) {
        let mut slots = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match held {
            Some(held) => slots.insert(n, held),
            None => slots.remove(&n),
        };
    }

    /// Runs `work` while keeping `lease` alive (opening an instrument and starting its engine
    /// may take longer than a lease); `Err(Lost)` as soon as a renewal says it is gone.
    async fn renewing<T>(&self, lease: &Lease, work: impl Future<Output = T>) -> Result<T, Ended> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                () = tokio::time::sleep(self.config.renew_every) => match self.queue.renew(lease).await {
                    Ok(true) => {}
                    Ok(false) => return Err(Ended::Lost),
                    Err(e) => tracing::warn!(symbol = %lease.instrument, error = %e, "worker: the lease was not renewed; trying again"),
                },
            }
        }
    }

    /// Hands the jobs to the engine one at a time, acknowledging each once the engine is done
    /// with it, renewing the lease meanwhile.
    async fn drive(
        &self,
        lease: &Lease,
        first: (JobId, CycleJob),
        mut control: FeedControl,
    ) -> Ended {
        let symbol = lease.instrument.to_string();
        let (mut id, mut job) = first;
        loop {
            let waited = super::job::wall_us()
                .saturating_sub(job.published_us)
                .max(0);
            #[allow(clippy::cast_precision_loss)]
            metrics::histogram!(names::workers::QUEUE_WAIT_SECONDS, "instrument" => symbol.clone())
                .record(waited as f64 / 1e6);
            let delivery = Delivery {
                id: id.clone(),
                events: job.events,
            };
            if control.deliver.send(delivery).await.is_err() {
                return Ended::Failed;
            }
            let finished = async {
                loop {
                    match control.done.recv().await {
                        Some(done) if done == id => return true,
                        Some(_) => {}
                        None => return false,
                    }
                }
            };
            match self.renewing(lease, finished).await {
                Ok(true) => {}
                Ok(false) => return Ended::Failed,
                Err(ended) => {
                    tracing::error!(%symbol, "worker: the lease ran out during a cycle; stopping this instrument");
                    return ended;
                }
            }
            match self.queue.ack(lease, &id).await {
                Ok(true) => {
                    self.stores_back();
                    self.shared.done.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!(names::workers::WORKER_JOBS_TOTAL, "instrument" => symbol.clone(), "outcome" => "done").increment(1);
                }
                Ok(false) => {
                    tracing::error!(%symbol, job = %id, "worker: the job was done after the lease ran out; another worker runs it again (its orders go out once)");
                    return Ended::Lost;
                }
                Err(e) => {
                    tracing::error!(%symbol, job = %id, error = %e, "worker: the job was done and not acknowledged; it is delivered again (its orders go out once)");
                    return Ended::Failed;
                }
            }
            if self.shared.stopping.is_cancelled() {
                return Ended::Graceful;
            }
            let keep = self.config.keep_for(job.decision_every);
            match self.next_job(lease, Instant::now(), keep).await {
                Ok(next) => (id, job) = next,
                Err(ended) => return ended,
            }
        }
    }

    /// The lease's next readable job; malformed ones are set aside in the dead letters and
    /// logged. `Err`: the slot stops with this instrument (stopping, idle past `keep`, lost,
    /// failed).
    async fn next_job(
        &self,
        lease: &Lease,
        idle_since: Instant,
        keep: Duration,
    ) -> Result<(JobId, CycleJob), Ended> {
        let symbol = lease.instrument.to_string();
        let mut attempts = Attempts::new(Backoff::new(
            Duration::from_millis(100),
            Duration::from_secs(2),
        ));
        let mut asked = false;
        loop {
            // Kept until its next job only while a slot of this worker is free for an
            // instrument that waits; with every slot held, a minute, as before (no instrument
            // starves behind idle ones).
            let keep = if self.config.keep_idle.is_none() && self.free_slots() == 0 {
                keep.min(BUSY_KEEP_IDLE)
            } else {
                keep
            };
            let wait = keep
                .saturating_sub(idle_since.elapsed())
                .min(Duration::from_secs(5));
            // asked once at least, whatever `keep_idle` (a slot that just took the instrument
            // has a job waiting)
            if wait.is_zero() && asked {
                return Err(Ended::Idle);
            }
            asked = true;
            let wait = wait.max(Duration::from_millis(1));
            let next = tokio::select! {
                () = self.shared.stopping.cancelled() => return Err(Ended::Graceful),
                next = self.queue.next(lease, wait) => next,
            };
            match next {
                Ok(Next::Job(job)) => match CycleJob::decode(&job) {
                    Ok(decoded) => return Ok((job.id, decoded)),
                    Err(e) => {
                        // Another version's (a rolling upgrade): kept for a worker that can read
                        // it, never deleted.
                        tracing::error!(error = %e, job = %job.id, "worker: an unreadable job is set aside in the dead letters");
                        metrics::counter!(names::workers::WORKER_JOBS_TOTAL, "instrument" => symbol.clone(), "outcome" => "malformed").increment(1);
                        match self.queue.set_aside(lease, &job).await {
                            Ok(true) => {}
                            Ok(false) => return Err(Ended::Lost),
                            Err(_) => return Err(Ended::Failed),
                        }
                    }
                },
                Ok(Next::Idle) => {}
                Ok(Next::Lost) => return Err(Ended::Lost),
                Err(e) => {
                    let (attempt, delay) = attempts.failed();
                    tracing::warn!(%symbol, attempt, error = %e, "worker: the queue did not answer; trying again");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Timeframe;

    /// Jobs come once per decision interval: an instrument kept a minute only (the old default)
    /// was given back before every job, its engine started again for each, its alerts' peak
    /// equity and cool-downs starting over.
    #[test]
    fn an_idle_instrument_is_kept_until_its_next_job_by_default() {
        let config = WorkerConfig::default();
        let m15 = Duration::from_secs(15 * 60);
        assert!(config.keep_for(Some(Timeframe::M15)) > m15);
        assert_eq!(
            config.keep_for(Some(Timeframe::H1)),
            Duration::from_secs(61 * 60)
        );
        assert!(config.keep_for(None) > m15, "a job of an older version");
        let set = config.keep_idle(Duration::from_secs(5));
        assert_eq!(set.keep_for(Some(Timeframe::M15)), Duration::from_secs(5));
    }
}
