//! `tradegraph worker`, and the ingesting side of `tradegraph run --workers redis`.

use super::bot::{assemble, open_feed, DefaultBudget};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::alerts::{AlertError, AlertService, AlertSources};
use crate::config::AlertsConfig;
use crate::config::{FeedKind, Flags, Settings};
use crate::engine::BotHandle;
use crate::engine::{describe_cycle, BotConfig, EngineError, Mode};
use crate::service::checks::Checker;
use crate::service::{EventHub, HealthBoard, UsageBook, DEFAULT_EVENTS_KEPT};
use crate::workers::{
    CycleJob, Ingest, IngestService, Instruments, Opened, Watcher, Worker, WorkerConfig,
    WorkerError,
};
use async_trait::async_trait;
use clap::Args;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_agents::TradingState;
use tradegraph_graph::Checkpointer;
use tradegraph_store::queue::{QueueConfig, WorkerId};
use tradegraph_store::redis::{RedisCheckpointer, RedisConfig, RedisRunQueue};
use tradegraph_store::{StoreError, Stores};

/// The options of `tradegraph worker` (its help text is on `Command::Worker`).
#[derive(Debug, Args)]
pub(super) struct WorkerArgs {
    /// The configuration file the instruments' settings come from, as `tradegraph run` reads
    /// it [env: TRADEGRAPH_CONFIG; default: tradegraph.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Instruments this worker runs at once (its concurrency limit).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// The worker's name among the queue's workers [default: <host>-<pid>-<random>].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Seconds an instrument whose queue is empty is kept (its engine running) before it goes
    /// back to the queue [default: its decision interval and a minute].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    keep_idle_secs: Option<u64>,
    /// Deliveries of a job to owners that died on it, could not open its instrument or whose
    /// engine failed on it, before it goes to the instrument's dead letters (a store that did
    /// not answer does not count).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    max_deliveries: u32,
    /// Serve /healthz and /metrics (the queue's waits, the jobs done) on this address; none
    /// unless set. A worker runs its engines on one thread: run one worker per core.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
}

pub(super) fn run(args: WorkerArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // The instruments' feeds are the ingesting processes': a synthetic feed here resolves
    // without reading a data file.
    let flags = Flags {
        config: args.config.clone(),
        feed: Some(FeedKind::Synthetic),
        ..Flags::default()
    };
    // The default instrument's settings give the queue's address; an instrument configured
    // for live trading (its own process trades it) is refused when a job for it comes.
    let base = match super::bot::settings("worker", &flags, super::bot::LiveUse::Workers, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(url) = base.stores.redis_url.clone() else {
        let _ = writeln!(
            err,
            "worker: the run queue is in Redis: set REDIS_URL (or [stores] redis_url in the \
             configuration), the one `tradegraph run --workers redis` publishes to"
        );
        return EXIT_USAGE;
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            let _ = writeln!(err, "worker: the current directory cannot be read: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match super::bot::runtime("worker", err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let redis = RedisConfig::new(url).cluster(base.stores.redis_cluster);
    match runtime.block_on(work(args, redis, FromSettings { flags, cwd }, out)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "worker: {e}");
            EXIT_FAILED
        }
    }
}

async fn work(
    args: WorkerArgs,
    redis: RedisConfig,
    instruments: FromSettings,
    out: &mut dyn Write,
) -> Result<(), Box<dyn Error>> {
    if let Err(e) = crate::telemetry::install() {
        tracing::warn!(error = %e, "metrics: the Prometheus recorder is not installed");
    }
    let queue = Arc::new(RedisRunQueue::connect(
        redis.clone(),
        QueueConfig::default().max_deliveries(args.max_deliveries),
    )?);
    // The graph's runs, so that a cycle cut short goes on from its last superstep elsewhere.
    let checkpoints: Arc<dyn Checkpointer<TradingState>> =
        Arc::new(RedisCheckpointer::connect(redis).await?.keep_last(16));
    let id = args
        .name
        .as_deref()
        .map_or_else(WorkerId::unique, WorkerId::new);
    let mut config = WorkerConfig::default()
        .id(id.clone())
        .concurrency(args.concurrency)
        .lease(queue.config().lease);
    if let Some(secs) = args.keep_idle_secs {
        config = config.keep_idle(Duration::from_secs(secs));
    }
    writeln!(
        out,
        "worker {id}: up to {} instruments at once from the Redis run queue; a line per \
         decision cycle; SIGINT or SIGTERM finishes the cycles in flight and gives the \
         instruments back",
        args.concurrency
    )?;
    out.flush()?;
    let server = match args.listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("--listen {address}: {e}"))?;
            writeln!(
                out,
                "worker {id}: /healthz and /metrics on http://{}",
                listener.local_addr()?
            )?;
            let router = axum::Router::new()
                .route(
                    "/healthz",
                    axum::routing::get(|| async {
                        axum::Json(serde_json::json!({"status": "ok"}))
                    }),
                )
                .route(
                    "/metrics",
                    axum::routing::get(crate::service::router::metrics),
                );
            Some(tokio::spawn(crate::service::serve_router(
                listener,
                router,
                std::future::pending(),
            )))
        }
        None => None,
    };
    let (lines, mut printed) = tokio::sync::mpsc::unbounded_channel::<String>();
    let worker = Worker::new(queue, Arc::new(instruments), checkpoints, config).on_cycle(Arc::new(
        move |_, state| {
            let _ = lines.send(describe_cycle(state));
        },
    ));
    let summary = {
        let run = std::pin::pin!(worker.run(super::run::shutdown_signal()));
        let mut run = run;
        loop {
            tokio::select! {
                summary = &mut run => break summary,
                Some(line) = printed.recv() => {
                    writeln!(out, "{line}")?;
                    out.flush()?;
                }
            }
        }
    };
    while let Ok(line) = printed.try_recv() {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "worker {id}: {} jobs done, {} instruments taken",
        summary.done, summary.taken
    )?;
    if let Some(server) = server {
        server.abort();
    }
    Ok(())
}

/// Opens an instrument as `tradegraph run --instrument <name>` resolves it, from the same
/// configuration file and environment.
struct FromSettings {
    flags: Flags,
    cwd: PathBuf,
}

#[async_trait(?Send)]
impl Instruments for FromSettings {
    async fn open(&self, job: &CycleJob, slot: &WorkerId) -> Result<Opened, WorkerError> {
        let refuse = |reason: String| WorkerError::Open {
            instrument: job.instrument.clone(),
            reason,
        };
        // Its stores did not answer: the instrument is given back, and opened again later.
        let unavailable = |source: StoreError| WorkerError::Unavailable {
            instrument: job.instrument.clone(),
            source,
        };
        let flags = Flags {
            instrument: Some(job.instrument.clone()),
            ..self.flags.clone()
        };
        let mut settings = Settings::resolve(&flags, &|k| std::env::var(k).ok(), &self.cwd)
            .map_err(|e| refuse(e.to_string()))?;
        if settings.instrument.symbol != job.symbol {
            return Err(refuse(format!(
                "it trades {} in this worker's configuration, and the job is for {}: give the \
                 workers the configuration the ingesting bots run with",
                settings.instrument.symbol, job.symbol
            )));
        }
        if let Some(cut) = job
            .decision_every
            .filter(|cut| *cut != settings.decision_every)
        {
            return Err(refuse(format!(
                "it decides every {} in this worker's configuration, and the ingesting bot cuts \
                 its cycles every {cut}: give the workers the configuration the ingesting bots \
                 run with",
                settings.decision_every
            )));
        }
        if settings.live {
            return Err(refuse(
                "it is configured for live trading, which runs in one process (`tradegraph run` \
                 without --workers): workers trade on paper"
                    .into(),
            ));
        }
        if settings.approval.is_required() {
            return Err(refuse(
                "its entries wait for an operator's approval, which needs the bot's own API \
                 (`tradegraph run` without --workers)"
                    .into(),
            ));
        }
        // MongoDB's spill file is a worker slot's, whatever the instrument (the ingesting bot on
        // this machine holds the instrument's own): the first of this machine's worker spill
        // files not in use from the slot's own number on (slots of one process opening at once
        // never pick the same), so that the next engine to open it, in this process or a
        // restarted one, writes what an earlier one left in it. A slot of another process
        // (the same number) may take the file between finding it free and opening it: the
        // next free one is taken instead.
        let base = settings.stores.spill_path.clone();
        let mut from = slot.slot_number().map_or(0, |n| n as usize);
        let mut attempts = 0;
        let bot = loop {
            let (number, spill) = worker_spill(&base, from);
            settings.stores.spill_path = spill;
            let mut said = Vec::new();
            match assemble(
                &settings,
                Mode::Service,
                DefaultBudget::default(),
                None,
                &mut said,
            )
            .await
            {
                Ok(bot) => {
                    for line in String::from_utf8_lossy(&said).lines() {
                        tracing::info!(instrument = %job.instrument, "{line}");
                    }
                    break bot;
                }
                Err(e) => {
                    let e = match e.downcast::<StoreError>() {
                        Ok(store) => *store,
                        Err(other) => return Err(refuse(other.to_string())),
                    };
                    if e.is_transient() {
                        return Err(unavailable(e));
                    }
                    let taken = matches!(
                        &e,
                        StoreError::InUse { path, .. } if *path == settings.stores.spill_path
                    );
                    attempts += 1;
                    if !taken || attempts >= MAX_WORKER_SPILLS {
                        return Err(refuse(e.to_string()));
                    }
                    tracing::debug!(instrument = %job.instrument, spill = %settings.stores.spill_path.display(), "worker: another process took the spill file first; the next one is tried");
                    from = number + 1;
                }
            }
        };
        let backend = bot.config.stores.state_backend();
        if !matches!(backend, "mongodb" | "redis") {
            bot.config.stores.shutdown().await;
            return Err(refuse(format!(
                "its state is kept in {backend}, which other workers cannot read: set \
                 MONGODB_URI (or REDIS_URL alone) so that every worker shares it"
            )));
        }
        let mut config = bot.config;
        // The model calls by day, saved with the instrument's state as the bot alone saves
        // them: the day's calls made before this open (by this worker or another, before a
        // restart) count against the day's budget, which a new chain would otherwise start
        // from nothing at each open.
        let usage = match &bot.llm {
            Some(llm) => {
                match UsageBook::start(llm, config.stores.state.clone(), job.symbol.clone()).await {
                    Ok(book) => Some(book),
                    Err(EngineError::Store(e)) if e.is_transient() => {
                        config.stores.shutdown().await;
                        return Err(unavailable(e));
                    }
                    Err(e) => {
                        config.stores.shutdown().await;
                        return Err(refuse(format!("its model usage cannot be read: {e}")));
                    }
                }
            }
            None => None,
        };
        let alerts = if settings.alerts.enabled {
            // The worker's own settings were checked at its start; an instrument's
            // `.env.<name>` may still lack a webhook's variable: said, and its alerts go to
            // the others.
            for why in &settings.alerts.unset_webhooks {
                tracing::error!(instrument = %job.instrument, "{why}; this instrument's alerts go without that webhook");
            }
            match InstrumentAlerts::start(&settings.alerts, &mut config, bot.llm) {
                Ok(alerts) => Some(alerts),
                Err(e) => {
                    config.stores.shutdown().await;
                    return Err(refuse(e.to_string()));
                }
            }
        } else {
            None
        };
        if alerts.is_none() && usage.is_none() {
            return Ok(config.into());
        }
        Ok(Opened::from(config).watched(Box::new(InstrumentWatch { alerts, usage })))
    }
}

/// What a slot runs beside an instrument's engine: its alerts, and its model usage (saved once
/// more when the slot lets go of it).
struct InstrumentWatch {
    alerts: Option<InstrumentAlerts>,
    usage: Option<UsageBook>,
}

#[async_trait(?Send)]
impl Watcher for InstrumentWatch {
    fn started(&mut self, engine: &BotHandle) {
        if let Some(alerts) = &mut self.alerts {
            alerts.started(engine);
        }
    }

    async fn ended(self: Box<Self>, stopped_on: Option<String>) {
        if let Some(book) = &self.usage {
            book.flush_within(USAGE_GRACE).await;
        }
        if let Some(alerts) = self.alerts {
            Box::new(alerts).ended(stopped_on).await;
        }
    }
}

/// How long saving an instrument's model usage may take when a slot lets go of it.
const USAGE_GRACE: Duration = Duration::from_secs(5);

/// The first worker spill file beside `spill` (`spill-worker-<n>.jsonl`) from `from` on
/// (wrapping round) that no process holds now, with its number: the same names on every
/// start, so that what a stopped or killed worker left in one is written by the next engine
/// to open it.
fn worker_spill(spill: &std::path::Path, from: usize) -> (usize, PathBuf) {
    let at = |n: usize| spill.with_file_name(format!("spill-worker-{n}.jsonl"));
    (0..MAX_WORKER_SPILLS)
        .map(|k| (from + k) % MAX_WORKER_SPILLS)
        .map(|n| (n, at(n)))
        .find(|(_, path)| !tradegraph_store::in_use(path))
        .unwrap_or_else(|| (MAX_WORKER_SPILLS, at(MAX_WORKER_SPILLS)))
}

/// Worker spill files looked at on one machine (slots of every worker process there).
const MAX_WORKER_SPILLS: usize = 1024;

/// How long the ingesting process's alerts may take to deliver what they hold once it stopped.
const INGEST_ALERTS_GRACE: Duration = Duration::from_secs(10);

/// How long an instrument's alerts may take to deliver what they hold when a worker's slot
/// lets go of it (the instrument goes back to the queue after).
const ALERTS_GRACE: Duration = Duration::from_secs(5);

/// The alerts of an instrument while a worker's slot holds it, as `tradegraph run` raises
/// them for the bot alone: the rules on the engine's events (the guard, trades, the feed as
/// the jobs bring it), the stores' and the models' events and the engine's equity, delivered
/// to the log, the store's alert log and the webhooks. An engine that stops on an error raises
/// `engine_stopped` (its cycle is delivered again, to this worker or another), unless its
/// stores did not answer (the instrument goes back to wait for them: the ingesting process's
/// store checks say MongoDB or Redis is away). The cool-downs
/// are the slot's: an instrument taken again, here or elsewhere, raises a condition that still
/// holds once more.
struct InstrumentAlerts {
    hub: EventHub,
    service: AlertService,
}

impl InstrumentAlerts {
    /// Alerts on `bot`'s events (its event sender set here).
    fn start(
        config: &AlertsConfig,
        bot: &mut BotConfig,
        llm: Option<tradegraph_llm::Llm>,
    ) -> Result<Self, AlertError> {
        let hub = EventHub::start(DEFAULT_EVENTS_KEPT);
        bot.events = Some(hub.sender());
        let sources = AlertSources {
            hub: hub.clone(),
            stores: bot.stores.clone(),
            llm,
            instrument: bot.instrument.clone(),
        };
        let service = AlertService::start(config, sources)?;
        Ok(Self { hub, service })
    }
}

#[async_trait(?Send)]
impl Watcher for InstrumentAlerts {
    fn started(&mut self, engine: &BotHandle) {
        self.service.attach(engine.clone());
    }

    async fn ended(self: Box<Self>, stopped_on: Option<String>) {
        if let Some(message) = stopped_on {
            self.service.engine_stopped_saying(message).await;
        }
        self.service.stop(ALERTS_GRACE).await;
        self.service.shutdown().await;
        self.hub.close();
    }
}

/// `tradegraph run --workers redis`: ingests the feed and publishes the decision cycles, serving
/// the ingest's status, the workers and cancellation on `--listen`.
pub(super) async fn ingest(settings: &Settings, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    if let Err(e) = crate::telemetry::install() {
        tracing::warn!(error = %e, "metrics: the Prometheus recorder is not installed; /metrics stays empty");
    }
    let refused = |why: &str| Err(Box::new(super::InputRefused(why.to_owned())) as Box<dyn Error>);
    let Some(url) = settings.stores.redis_url.clone() else {
        return refused(
            "--workers redis publishes the decision cycles in Redis: set REDIS_URL (or \
             [stores] redis_url in the configuration)",
        );
    };
    if settings.live {
        return refused(
            "live trading runs in one process: run without --workers (workers trade on paper)",
        );
    }
    if settings.approval.is_required() {
        return refused(
            "entries that wait for approval need the bot's own API: run without --workers, or \
             without [bot] approval",
        );
    }
    let stores = Stores::connect(settings.stores.clone()).await?;
    let redis = RedisConfig::new(url).cluster(settings.stores.redis_cluster);
    let queue = Arc::new(RedisRunQueue::connect(redis, QueueConfig::default())?);
    let (feed, _) = open_feed(settings)?;
    let symbol = settings.instrument.symbol.clone();
    // The process's own alerts (its feed, the stores, the process), as the bot alone raises
    // them; the engine's are the workers'.
    let hub = EventHub::start(DEFAULT_EVENTS_KEPT);
    let alerts = if settings.alerts.enabled {
        let sources = AlertSources {
            hub: hub.clone(),
            stores: stores.clone(),
            llm: None,
            instrument: settings.instrument.clone(),
        };
        Some(AlertService::start(&settings.alerts, sources)?)
    } else {
        None
    };
    let board = HealthBoard::new();
    let checker = Checker::for_bot(
        board.clone(),
        settings.health,
        &settings.stores,
        &stores,
        None,
        symbol.as_str(),
    )
    .publish_to(hub.sender())
    .start();
    let ingest = Ingest::new(
        feed,
        queue.clone(),
        settings.instrument.clone(),
        settings.name.clone(),
        settings.decision_every,
        stores.clone(),
    )
    .stale_after(settings.health.feed_stale_after)
    .events(hub.sender());
    let (listener, token) = super::run::listen(settings, out).await?;
    let address = listener.local_addr()?;
    let service = IngestService::new(queue, symbol.clone(), ingest.status(), token)
        .with_health(board)
        .router();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::service::serve_router(
        listener,
        service,
        async move {
            let _ = stopped.await;
        },
    ));
    writeln!(
        out,
        "{}: ingesting {symbol} on the {} feed; each decision cycle (every {}) is a job on the \
         Redis run queue for `tradegraph worker`",
        settings.name,
        settings.feed.kind().as_str(),
        settings.decision_every,
    )?;
    writeln!(
        out,
        "service: http://{address}/api/v1/status, /api/v1/workers, POST /api/v1/cycle/cancel \
         with the API token, /healthz, /readyz, /metrics"
    )?;
    out.flush()?;
    let published = ingest.run(super::run::shutdown_signal()).await;
    checker.stop().await;
    if let Some(alerts) = alerts {
        if let Err(e) = &published {
            alerts
                .engine_stopped_saying(format!(
                    "the ingesting process of {symbol} stopped on an error and publishes no \
                     more decision cycles: {e}; fix the cause and start it again"
                ))
                .await;
        }
        alerts.stop(INGEST_ALERTS_GRACE).await;
        alerts.shutdown().await;
    }
    hub.close();
    let _ = stop.send(());
    if tokio::time::timeout(super::run::SERVER_GRACE, server)
        .await
        .is_err()
    {
        tracing::warn!("the HTTP service did not stop in time; stopping anyway");
    }
    stores.shutdown().await;
    let published = published?;
    writeln!(out, "{symbol}: {published} decision cycles published")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A job cut at another decision timeframe than the worker's settings decide at is
    /// refused, naming both (the engine would run several cycles a job, late, or skip some).
    #[tokio::test]
    async fn an_instrument_deciding_at_another_timeframe_than_its_jobs_is_refused() {
        let cwd = std::env::temp_dir().join(format!("tg-worker-tf-{}", std::process::id()));
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::write(
            cwd.join("tradegraph.toml"),
            "[bot]\ndecision_timeframe = \"5m\"\n",
        )
        .unwrap();
        let instruments = FromSettings {
            flags: Flags {
                feed: Some(FeedKind::Synthetic),
                ..Flags::default()
            },
            cwd: cwd.clone(),
        };
        let job = CycleJob {
            format: crate::workers::JOB_FORMAT,
            instrument: "btc".into(),
            symbol: tradegraph_core::Symbol::new("BTCUSDT"),
            events: Vec::new(),
            at: tradegraph_core::Timestamp::from_millis(0),
            published_us: 0,
            decision_every: Some(tradegraph_core::Timeframe::M15),
        };
        let refused = match instruments.open(&job, &WorkerId::new("w/0")).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("opened an instrument deciding at 5m for 15m jobs"),
        };
        assert!(
            refused.contains(
                "it decides every 5min in this worker's configuration, and the ingesting bot \
                 cuts its cycles every 15min: give the workers"
            ),
            "{refused}"
        );
        let _ = std::fs::remove_dir_all(&cwd);
    }

    /// Slots of two worker processes with the same number open their instruments at once:
    /// both find the same spill file free, and the one that reaches it second takes the next
    /// (it was refused: its job counted as delivered, toward the dead letters).
    #[tokio::test]
    async fn slots_of_two_processes_opening_at_once_each_get_a_spill_file() {
        let Some(mongodb) = tradegraph_testkit::services::mongodb_uri() else {
            return;
        };
        let cwd = std::env::temp_dir().join(tradegraph_testkit::services::unique("tg-worker-race"));
        std::fs::create_dir_all(&cwd).unwrap();
        let database = tradegraph_testkit::services::unique("wrace");
        let mut toml = format!(
            "[bot]\ndecision_timeframe = \"1m\"\n\n[stores]\nmongodb_uri = \"{mongodb}\"\n\
             database = \"{database}\"\n\n"
        );
        for (name, symbol) in [("ra", "RAUSDT"), ("rb", "RBUSDT")] {
            toml += &format!(
                "[[instruments]]\nname = \"{name}\"\nsymbol = \"{symbol}\"\nvenue = \"none\"\n\
                 exchange = \"BINANCE\"\nsegment = \"spot\"\ncurrency = \"USDT\"\n\
                 tick_size = \"0.01\"\nlot_size = \"0.0001\"\nsession = \"24x7\"\n\n"
            );
        }
        std::fs::write(cwd.join("tradegraph.toml"), toml).unwrap();
        let instruments = FromSettings {
            flags: Flags {
                feed: Some(FeedKind::Synthetic),
                ..Flags::default()
            },
            cwd: cwd.clone(),
        };
        let job = |instrument: &str, symbol: &str| CycleJob {
            format: crate::workers::JOB_FORMAT,
            instrument: instrument.into(),
            symbol: tradegraph_core::Symbol::new(symbol),
            events: Vec::new(),
            at: tradegraph_core::Timestamp::from_millis(0),
            published_us: 0,
            decision_every: Some(tradegraph_core::Timeframe::M1),
        };
        let (a, b) = (job("ra", "RAUSDT"), job("rb", "RBUSDT"));
        let (slot_a, slot_b) = (WorkerId::new("wk-a/0"), WorkerId::new("wk-b/0"));
        let (first, second) =
            tokio::join!(instruments.open(&a, &slot_a), instruments.open(&b, &slot_b),);
        let spills = cwd.join(".tradegraph");
        let mut opened = Vec::new();
        for (symbol, result) in [("RAUSDT", first), ("RBUSDT", second)] {
            match result {
                Ok(o) => opened.push(o),
                Err(e) => panic!("{symbol} was not opened: {e}"),
            }
        }
        for n in 0..2 {
            let spill = spills.join(format!("spill-worker-{n}.jsonl"));
            assert!(
                tradegraph_store::in_use(&spill),
                "{} is not held",
                spill.display()
            );
        }
        for o in opened {
            o.config.stores.shutdown().await;
        }
        let client = mongodb::Client::with_uri_str(&mongodb).await.unwrap();
        client.database(&database).drop().await.unwrap();
        let _ = std::fs::remove_dir_all(&cwd);
    }

    /// A worker's spill file has the same name on every start (its id was in the name, so a
    /// restarted worker never wrote what a killed one had spilled), and two slots at once
    /// never share one.
    #[test]
    fn worker_spill_files_are_found_again_and_never_shared() {
        let dir = std::env::temp_dir().join(format!("tg-worker-spill-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("spill-btc.jsonl");
        let (_, first) = worker_spill(&base, 0);
        assert_eq!(first, dir.join("spill-worker-0.jsonl"));
        // Slots opening at once start from their own numbers.
        assert_eq!(
            worker_spill(&base, 3),
            (3, dir.join("spill-worker-3.jsonl"))
        );
        // A slot holds it: the next slot takes another.
        let held = tradegraph_store::FileState::open(&first).unwrap();
        assert_eq!(
            worker_spill(&base, 0),
            (1, dir.join("spill-worker-1.jsonl"))
        );
        // Let go (the slot's engine ended, or its process died): found again.
        drop(held);
        assert_eq!(worker_spill(&base, 0), (0, first));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
