//! `tradegraph run`: a long-running paper bot on a live, replayed or synthetic feed, served over
//! HTTP (the API, the event stream, operator control, health) on `--listen`.

use super::bot::{assemble, drive, BudgetWatch, DefaultBudget};
use super::{EXIT_FAILED, EXIT_OK};
use crate::alerts::{AlertService, AlertSources};
use crate::config::{FeedSettings, Flags, Settings};
use crate::engine::wall_now;
use crate::engine::{describe_cycle, summary_text, InstanceClaiming, InstanceLease, Mode};
use crate::service::checks::Checker;
use crate::service::{ApiToken, EventHub, HealthBoard, Service, UsageBook, DEFAULT_EVENTS_KEPT};
use clap::Args;
use std::io::Write;

/// The options of `tradegraph run` (its help text is on `Command::Run`).
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    #[command(flatten)]
    flags: Flags,
    /// Run the decision cycles on `tradegraph worker` processes: this process then only
    /// ingests (the feed into the hot cache and the history) and publishes each decision cycle
    /// on the instrument's run queue (`redis`: Redis Streams at REDIS_URL). It serves its
    /// status, the workers' load and POST /api/v1/cycle/cancel on --listen.
    #[arg(long, value_enum, value_name = "QUEUE")]
    workers: Option<QueueKind>,
}

/// Where `run --workers` publishes the decision cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum QueueKind {
    /// Redis Streams, at REDIS_URL (one server or a cluster).
    Redis,
}

pub(super) fn run(args: RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let settings = match super::bot::settings("run", &args.flags, super::bot::LiveUse::Trades, err)
    {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    // Refused with the other live refusals (exit 2), not as a failure of the bot (exit 3,
    // which a supervisor restarts).
    if settings.live && args.workers.is_some() {
        let _ = writeln!(
            err,
            "run: live trading refused: live trading runs in one process: run without \
             --workers (workers trade on paper)\nrun: fix the settings above, or unset \
             TRADEGRAPH_LIVE or `live` in the configuration to run on paper."
        );
        return super::EXIT_USAGE;
    }
    // The graph file's structure is checked before anything starts (the stores, the
    // instance's claim, the service and its generated token); its node kinds are resolved by
    // the engine.
    if let Err(errors) =
        tradegraph_graph::yaml::check_str(&settings.graph.yaml, &settings.graph.origin)
    {
        for error in &errors {
            let _ = writeln!(err, "run: {error}");
        }
        return super::EXIT_INVALID;
    }
    // A replay file that cannot be read is refused as early.
    if let FeedSettings::Replay { path } = &settings.feed {
        let opened = std::fs::File::open(path).and_then(|file| {
            if file.metadata()?.is_dir() {
                return Err(std::io::Error::other("it is a directory"));
            }
            Ok(())
        });
        if let Err(e) = opened {
            let _ = writeln!(
                err,
                "run: the replay file {} cannot be read: {e}",
                path.display()
            );
            return super::EXIT_USAGE;
        }
    }
    let runtime = match super::bot::runtime("run", err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let served = match args.workers {
        Some(QueueKind::Redis) => runtime.block_on(super::worker::ingest(&settings, out)),
        None => runtime.block_on(serve(&settings, out)),
    };
    match served {
        Ok(()) => EXIT_OK,
        // The venue's rules refuse the live settings: fixed in the settings, not by a restart.
        Err(e) if e.is::<super::live::LiveRefused>() => {
            let _ = writeln!(
                err,
                "run: {e}\nrun: fix the settings above, or unset TRADEGRAPH_LIVE or `live` in \
                 the configuration to run on paper."
            );
            super::EXIT_USAGE
        }
        Err(e) if e.is::<super::InputRefused>() => {
            let _ = writeln!(err, "run: {e}");
            super::EXIT_USAGE
        }
        // The graph the engine could not build (a node kind or a node's settings): fixed in
        // the configuration, not by a restart.
        Err(e)
            if matches!(
                e.downcast_ref::<crate::engine::EngineError>(),
                Some(crate::engine::EngineError::GraphFile(_))
            ) =>
        {
            let _ = writeln!(err, "run: {e}");
            super::EXIT_INVALID
        }
        Err(e) => {
            let _ = writeln!(err, "run: {e}");
            EXIT_FAILED
        }
    }
}

async fn serve(settings: &Settings, out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
    // The Prometheus recorder, before anything records: the service serves it at /metrics.
    if let Err(e) = crate::telemetry::install() {
        tracing::warn!(error = %e, "metrics: the Prometheus recorder is not installed; /metrics stays empty");
    }
    let mut bot = assemble(settings, Mode::Service, DefaultBudget::default(), None, out).await?;
    let stores = bot.config.stores.clone();
    // A state server is shared: one instance of the bot at a time (a state file is locked).
    // Claimed before anything reaches the venue or the bot's state: a venue broker resumes
    // its book as it connects (exits found owed placed), and the model usage is read and
    // saved whole.
    let claim = if matches!(stores.state_backend(), "redis" | "mongodb") {
        let claimed = InstanceLease::claim(
            stores.state.clone(),
            &settings.instrument.symbol,
            settings.instance_lease,
            wall_now(),
        )
        .await;
        match claimed {
            Ok(claim) => Some(std::sync::Arc::new(claim)),
            Err(e) => {
                stores.shutdown().await;
                return Err(e.into());
            }
        }
    } else {
        None
    };
    if let Some(claim) = &claim {
        bot.config.instance = InstanceClaiming::Held(claim.clone());
    }
    let served = serve_bot(settings, bot, out).await;
    // `drive` released the claim once the engine stopped (or failed to start); an error
    // before it ran (the listener, the model usage) releases it here.
    if let Some(claim) = claim {
        claim.release().await;
    }
    // Every way out once the stores are open, an error before the engine runs included: they
    // are flushed and closed here (`drive` closed them already when the engine ran, before the
    // server stopped; closing again does nothing).
    stores.shutdown().await;
    served
}

/// Serves `bot` until it stops; the caller closes the stores.
async fn serve_bot(
    settings: &Settings,
    mut bot: super::bot::Bot,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let (listener, token) = listen(settings, out).await?;
    let address = listener.local_addr()?;
    let hub = EventHub::start(DEFAULT_EVENTS_KEPT);
    bot.config.events = Some(hub.sender());
    writeln!(
        out,
        "{}: {} {} on the {} feed with {} {:?}; a decision every {}",
        settings.name,
        if settings.live {
            "LIVE trading (real orders at the venue)"
        } else {
            "paper trading"
        },
        settings.instrument.symbol,
        settings.feed.kind().as_str(),
        settings.cash,
        settings.instrument.currency,
        settings.decision_every,
    )?;
    writeln!(
        out,
        "service: http://{address}/ (the dashboard; /overview for every bot), \
         http://{address}/api/v1/status, events at /api/v1/events, control endpoints with the \
         API token{}",
        if settings.approval.is_required() {
            "; entries wait for approval (GET /api/v1/approvals)"
        } else {
            ""
        }
    )?;
    if bot.llm.is_some() {
        writeln!(
            out,
            "models: up to {} calls per decision cycle",
            super::bot::MODEL_CALLS_PER_CYCLE
        )?;
    }
    let mut budget = BudgetWatch::new(bot.llm.clone());
    let instrument = bot.config.instrument.clone();
    let (stores, llm) = (bot.config.stores.clone(), bot.llm.clone());
    // The model calls by agent, provider and day, counted from the chain's events and saved
    // with the bot's state (GET /api/v1/llm/usage).
    let usage = match &llm {
        Some(llm) => {
            Some(UsageBook::start(llm, stores.state.clone(), instrument.symbol.clone()).await?)
        }
        None => None,
    };
    let served_usage = usage.clone();
    // The alerts (the log, the event stream, the store's alert log, the webhooks), subscribed
    // to the hub before anything publishes on it.
    let alerts = if settings.alerts.enabled {
        let sources = AlertSources {
            hub: hub.clone(),
            stores: stores.clone(),
            llm: llm.clone(),
            instrument: instrument.clone(),
        };
        Some(AlertService::start(&settings.alerts, sources)?)
    } else {
        None
    };
    let peers = settings.dashboard_peers.clone();
    // The periodic health checks (Redis, MongoDB, the models) on the board the service reads.
    let board = HealthBoard::new();
    let checker = Checker::for_bot(
        board.clone(),
        settings.health,
        &settings.stores,
        &stores,
        llm.clone(),
        instrument.symbol.as_str(),
    )
    .publish_to(hub.sender())
    .start();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = None;
    // The bot's own model, for asking a stored decision's prompts again.
    let model = bot.config.brain.model().cloned();
    let start_serving = |handle: crate::engine::BotHandle| {
        if let Some(alerts) = &alerts {
            alerts.attach(handle.clone());
        }
        let mut service =
            Service::new(handle, stores, instrument.clone(), token, hub.clone()).with_peers(peers);
        if let Some(llm) = llm {
            service = service.with_llm(llm);
        }
        if let Some(model) = model {
            service = service.with_model(model);
        }
        if let Some(book) = served_usage {
            service = service.with_usage(book);
        }
        service = service.with_health(board);
        if let Some(alerts) = &alerts {
            service = service.with_alerts(alerts.recent());
        }
        let shutdown = async move {
            let _ = stopped.await;
        };
        server = Some(tokio::spawn(service.serve(listener, shutdown)));
    };
    let alerts_ref = alerts.as_ref();
    let usage_ref = usage.as_ref();
    let result = {
        let out = &mut *out;
        Box::pin(drive(
            settings,
            bot.config,
            shutdown_signal(),
            |state| {
                let _ = writeln!(out, "{}", describe_cycle(state));
                if let Some(line) = budget.check() {
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
            },
            |feed| feed,
            Box::new(start_serving),
            // Once the engine stopped (a signal, the feed's end, an error) and before the
            // stores close: the health checks stop, the last model calls are saved in the
            // usage by day, an error raises `engine_stopped`, and every sink delivers what it
            // holds (the store's alert log included).
            Box::new(move |error: Option<String>| {
                Box::pin(async move {
                    checker.stop().await;
                    if let Some(book) = usage_ref {
                        book.flush_within(USAGE_GRACE).await;
                    }
                    if let Some(alerts) = alerts_ref {
                        if let Some(error) = &error {
                            alerts.engine_stopped(error).await;
                        }
                        alerts.stop(ALERTS_GRACE).await;
                    }
                })
            }),
        ))
        .await
    };
    // The bot stopped: event streams end, requests in flight finish, then the server stops.
    if let Some(alerts) = alerts {
        alerts.shutdown().await;
    }
    hub.close();
    let _ = stop.send(());
    if let Some(server) = server {
        match tokio::time::timeout(SERVER_GRACE, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the HTTP service stopped on an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP service's task failed"),
            Err(_) => tracing::warn!(
                "the HTTP service did not stop within {SERVER_GRACE:?}; stopping anyway"
            ),
        }
    }
    let summary = result?;
    writeln!(out, "{}", summary_text(&summary, &instrument))?;
    Ok(())
}

/// The service's listener on `--listen`, and the control endpoints' token (generated and
/// printed to `out` when none is set).
pub(super) async fn listen(
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(tokio::net::TcpListener, ApiToken), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| {
            format!(
                "the HTTP service cannot listen on {}: {e}; is another bot or program using it? \
                 choose another address with --listen or TRADEGRAPH_LISTEN",
                settings.listen
            )
        })?;
    let token = match &settings.api_token {
        Some(token) => ApiToken::new(token.expose())?,
        None => {
            let (token, text) = ApiToken::generate();
            // Shown once, here, never logged: whoever started the bot may operate it.
            writeln!(
                out,
                "API token for the control endpoints (generated for this run; set \
                 TRADEGRAPH_API_TOKEN to choose one): {text}"
            )?;
            token
        }
    };
    Ok((listener, token))
}

/// How long saving the model usage may take once the bot stopped.
const USAGE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long the alerts' sinks may take, in all, to deliver what they hold once the bot stopped.
const ALERTS_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long requests in flight may take to finish once the bot stopped.
pub(super) const SERVER_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Completes on SIGINT (Ctrl-C) or SIGTERM; a second one exits at once (code 130), without
/// waiting for the cycle in flight.
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the cycle in flight, saving, stopping (again to stop at once)"),
            _ = int.recv() => tracing::info!("SIGINT: finishing the cycle in flight, saving, stopping (again to stop at once)"),
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::warn!("second signal: stopping at once; the state saved so far is restored at the next start");
            std::process::exit(130);
        });
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
