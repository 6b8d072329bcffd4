//! [`AlertService`]: the alerts of a running bot, on a task of their own.

use super::sample::{equity_figures, resident_memory_mb, WinWindow};
use super::sink::{EventSink, LogSink, Sink, SinkQueue, StoreSink, WebhookSink};
use super::{
    rule, AlertClock, AlertError, Alerter, AlertsConfig, Input, RecentAlerts, Sample, WallClock,
};
use crate::engine::{AlertEvent, AlertKind, BotEvent, BotHandle, Severity};
use crate::service::EventHub;
use crate::telemetry::{error_count, ErrorRate};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};
use tradegraph_core::Instrument;
use tradegraph_llm::fallback::LlmEvent;
use tradegraph_llm::Llm;
use tradegraph_store::{StoreEvent, Stores};

/// How long [`AlertService::shutdown`] waits for the sinks in all, when nothing stopped them
/// before.
const SINK_GRACE: Duration = Duration::from_secs(10);
/// How long the win rate's one read of the trade log (at start) may take.
const TRADES_READ: Duration = Duration::from_secs(2);

/// What the alerts watch and where they write.
#[derive(Clone)]
pub struct AlertSources {
    /// The bot's event hub: its events are read, alerts are published on it.
    pub hub: EventHub,
    /// The stores: their events (`Stores.alerts`) are read, alerts written to `alert_log`,
    /// closed trades read once from `trades` at start to seed the win rate.
    pub stores: Stores,
    /// The model chain, when the agents use models.
    pub llm: Option<Llm>,
    /// The bot's instrument.
    pub instrument: Instrument,
}

enum Control {
    /// The engine stopped: what happened and what to do, in words.
    EngineStopped(String),
    /// Stop the rules, deliver what is queued (until the deadline at most), end.
    Stop(tokio::time::Instant, oneshot::Sender<()>),
}

/// The alerts of one bot: rules over the bot's events, the stores' and the model chain's
/// events and a periodic sample, a cool-down per key, and the sinks (the log, the event
/// stream, the store's alert log, the webhooks), each behind its own queue.
///
/// Start it before the engine runs (it subscribes to the hub then), [`attach`](Self::attach)
/// the engine's handle when it has one (the equity curve for the Sharpe ratio and the
/// drawdown); once the engine stopped and before the stores close, say how it stopped
/// ([`engine_stopped`](Self::engine_stopped)) and [`stop`](Self::stop) it, which delivers what
/// is queued; [`shutdown`](Self::shutdown) at the end.
pub struct AlertService {
    control: mpsc::Sender<Control>,
    task: tokio::task::JoinHandle<()>,
    bot: Arc<OnceLock<BotHandle>>,
    recent: RecentAlerts,
}

impl AlertService {
    /// Starts the alerts with `config`'s rules and webhooks. Must be called inside a tokio
    /// runtime.
    ///
    /// # Errors
    /// [`AlertError::Tls`] or [`AlertError::Client`] when a webhook's HTTP client cannot be
    /// built.
    pub fn start(config: &AlertsConfig, sources: AlertSources) -> Result<Self, AlertError> {
        Self::start_with(config, sources, Arc::new(WallClock))
    }

    /// [`start`](Self::start) on `clock`.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_with(
        config: &AlertsConfig,
        sources: AlertSources,
        clock: Arc<dyn AlertClock>,
    ) -> Result<Self, AlertError> {
        let symbol = sources.instrument.symbol.clone();
        let mut sinks: Vec<Arc<dyn Sink>> = vec![
            Arc::new(LogSink),
            Arc::new(EventSink(sources.hub.clone())),
            Arc::new(StoreSink::new(
                sources.stores.alert_log.clone(),
                symbol.clone(),
            )),
        ];
        for (i, hook) in config.webhooks.iter().enumerate() {
            sinks.push(Arc::new(WebhookSink::new(
                i + 1,
                hook.clone(),
                symbol.clone(),
            )?));
        }
        // The engine's own alerts reach the stream from here, numbered, not from the hub.
        sources.hub.alerts_numbered();
        let bot = Arc::new(OnceLock::new());
        let recent = RecentAlerts::default();
        let (control, commands) = mpsc::channel(4);
        let worker = Worker {
            alerter: Alerter::new(rule::standard(config), config.cooldown, clock.clone()),
            clock,
            sinks: sinks.into_iter().map(SinkQueue::start).collect(),
            recent: recent.clone(),
            raised: 0,
            errors: ErrorRate::default(),
            wins: WinWindow::new(config.window_trades),
            wins_seeded: false,
            bars_per_year: crate::engine::bars_per_year(&sources.instrument),
            bot: bot.clone(),
            sources: sources.clone(),
        };
        let inputs = Inputs {
            bot: Some(sources.hub.sender().subscribe()),
            store: Some(sources.stores.alerts.subscribe()),
            llm: sources.llm.as_ref().map(Llm::subscribe),
        };
        let task = tokio::spawn(worker.run(inputs, commands, config.sample_every));
        Ok(Self {
            control,
            task,
            bot,
            recent,
        })
    }

    /// Gives the alerts the engine's handle (the equity curve). Only the first call counts.
    pub fn attach(&self, bot: BotHandle) {
        let _ = self.bot.set(bot);
    }

    /// The alerts this service raised in this run, newest kept (`GET /api/v1/alerts` answers
    /// from them when the store does not).
    pub fn recent(&self) -> RecentAlerts {
        self.recent.clone()
    }

    /// Raises the critical `engine_stopped` alert: the engine stopped on `error` (its message,
    /// which never holds a secret) and the bot no longer trades. [`stop`](Self::stop) delivers
    /// it.
    pub async fn engine_stopped(&self, error: &str) {
        self.engine_stopped_saying(format!(
            "the engine stopped on an error and the bot no longer trades: {error}; fix the \
             cause and start the bot again (its state is restored)"
        ))
        .await;
    }

    /// Raises the critical `engine_stopped` alert with `message` as its words (what happened
    /// and what to do: a worker's engine stopping does not stop the bot, another worker runs
    /// its cycle again). [`stop`](Self::stop) delivers it.
    pub async fn engine_stopped_saying(&self, message: String) {
        let _ = self.control.send(Control::EngineStopped(message)).await;
    }

    /// Stops the rules and delivers what every sink holds, `within` in all (what is left then
    /// is dropped, saying so). Call it once the engine stopped and before the stores close:
    /// the store's alert log still takes the last alerts. Later calls do nothing.
    pub async fn stop(&self, within: Duration) {
        let (tx, rx) = oneshot::channel();
        let deadline = tokio::time::Instant::now() + within;
        if self.control.send(Control::Stop(deadline, tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// [`stop`](Self::stop)s (when not stopped yet) and ends the service's task.
    pub async fn shutdown(self) {
        self.stop(SINK_GRACE).await;
        let _ = self.task.await;
    }
}

impl std::fmt::Debug for AlertService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertService").finish_non_exhaustive()
    }
}

struct Inputs {
    bot: Option<broadcast::Receiver<BotEvent>>,
    store: Option<broadcast::Receiver<StoreEvent>>,
    llm: Option<broadcast::Receiver<LlmEvent>>,
}

/// The next event of `rx`; `None` when it closed (the branch is then dropped); never while
/// there is no receiver.
async fn next<T: Clone>(rx: &mut Option<broadcast::Receiver<T>>, what: &str) -> Option<T> {
    let Some(receiver) = rx.as_mut() else {
        return std::future::pending().await;
    };
    loop {
        match receiver.recv().await {
            Ok(event) => return Some(event),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    source = what,
                    "alerts: fell behind; events were skipped"
                );
            }
            Err(broadcast::error::RecvError::Closed) => {
                *rx = None;
                return None;
            }
        }
    }
}

struct Worker {
    alerter: Alerter,
    clock: Arc<dyn AlertClock>,
    sinks: Vec<SinkQueue>,
    /// The alerts raised, for the API when the store does not answer.
    recent: RecentAlerts,
    /// Alerts raised so far (numbers their ids).
    raised: u64,
    errors: ErrorRate,
    wins: WinWindow,
    /// Whether the win rate's window was read from the trade log.
    wins_seeded: bool,
    bars_per_year: f64,
    bot: Arc<OnceLock<BotHandle>>,
    sources: AlertSources,
}

impl Worker {
    async fn run(
        mut self,
        mut inputs: Inputs,
        mut commands: mpsc::Receiver<Control>,
        every: Duration,
    ) {
        let mut ticker = tokio::time::interval(every.max(Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(event) = next(&mut inputs.bot, "events") => {
                    if let BotEvent::TradeClosed(trade) = &event {
                        if let Some(pnl) = trade.pnl {
                            self.wins.close(&trade.trade_id, pnl);
                        }
                    }
                    self.handle(&Input::Bot(&event));
                }
                Some(event) = next(&mut inputs.store, "stores") => self.handle(&Input::Store(&event)),
                Some(event) = next(&mut inputs.llm, "models") => self.handle(&Input::Llm(&event)),
                _ = ticker.tick() => {
                    self.seed_wins().await;
                    let sample = self.sample().await;
                    self.handle(&Input::Sample(&sample));
                }
                command = commands.recv() => match command {
                    Some(Control::EngineStopped(message)) => self.engine_stopped(message),
                    Some(Control::Stop(deadline, done)) => {
                        self.close(deadline).await;
                        let _ = done.send(());
                        return;
                    }
                    None => {
                        self.close(tokio::time::Instant::now() + SINK_GRACE).await;
                        return;
                    }
                },
            }
        }
    }

    /// The win rate's window, from the trade log once the engine is attached (its run, which
    /// it keeps across restarts, is known then); closed trades keep it from then on.
    async fn seed_wins(&mut self) {
        if self.wins_seeded {
            return;
        }
        let Some(run) = self.bot.get().map(|bot| bot.status().run_id) else {
            return;
        };
        self.wins_seeded = true;
        let seed = self.wins.seed(
            self.sources.stores.trades.as_ref(),
            &self.sources.instrument.symbol,
            &run,
        );
        if tokio::time::timeout(TRADES_READ, seed).await.is_err() {
            tracing::warn!("alerts: the trade log did not answer in time; the win rate counts the trades closed from now on");
        }
    }

    fn handle(&mut self, input: &Input<'_>) {
        for alert in self.alerter.observe(input) {
            self.send(alert);
        }
    }

    fn engine_stopped(&mut self, message: String) {
        let alert = AlertEvent::new(
            AlertKind::EngineStopped,
            "",
            Severity::Critical,
            message,
            self.clock.now(),
        );
        if let Some(alert) = self.alerter.raise(alert) {
            self.send(alert);
        }
    }

    /// Numbers `alert` (its id in the alert log), keeps it, and queues it for every sink.
    fn send(&mut self, mut alert: AlertEvent) {
        self.raised += 1;
        alert.alert_id = Some(StoreSink::id_of(
            &self.sources.instrument.symbol,
            alert.at,
            self.raised,
        ));
        self.recent.push(alert.clone());
        for sink in &self.sinks {
            sink.offer(&alert);
        }
    }

    async fn sample(&mut self) -> Sample {
        let (sharpe, drawdown_pct) = match self.bot.get() {
            Some(bot) => equity_figures(bot, self.bars_per_year),
            None => (None, None),
        };
        Sample {
            memory_mb: resident_memory_mb().await,
            errors_per_minute: Some(self.errors.per_minute(Instant::now(), error_count())),
            win_rate: self.wins.rate(),
            sharpe,
            drawdown_pct,
        }
    }

    /// Delivers what every sink holds, until `deadline` in all.
    async fn close(self, deadline: tokio::time::Instant) {
        futures::future::join_all(self.sinks.into_iter().map(|s| s.close(deadline))).await;
    }
}
