//! A bot from its settings: the agents (rule mode, or models with a budget), the stores, the
//! news and macro inputs, the feed and the broker — shared by `run` and `backtest`.

use crate::config::{FeedSettings, Settings};
use crate::engine::{
    paper_broker, paper_broker_with, BotConfig, BotHandle, BotSummary, Engine, EngineError,
    Execution, Mode,
};
use futures::Stream;
use rust_decimal::Decimal;
use std::error::Error;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use tradegraph_agents::model::LlmModel;
use tradegraph_agents::node::Brain;
use tradegraph_agents::prompt::Prompts;
use tradegraph_agents::TradingState;
use tradegraph_core::Timestamp;
use tradegraph_llm::record::{RecordBook, RecordMode};
use tradegraph_llm::Llm;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::feed::synthetic::{Pacing, SyntheticConfig, SyntheticGenerator};
use tradegraph_market::feed::Feed;
use tradegraph_market::{Clock, MarketEvent, SimulatedClock, SystemClock};
use tradegraph_store::Stores;

/// What a command does with a live configuration (`TRADEGRAPH_LIVE=1` and `live = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LiveUse {
    /// It runs a bot (`run`): it may trade live, and it delivers alerts. Live trading with paper-only settings or without the venue's keys
    /// is refused before anything connects, each refusal naming the setting, and so is a
    /// webhook whose URL variable is set nowhere.
    Trades,
    /// It runs other processes' instruments on paper (`worker`): a live instrument is refused
    /// when a job for it comes, not the worker itself; it delivers alerts.
    Workers,
    /// It trades on the paper broker whatever the settings (`backtest`), and says so.
    Paper,
    /// It trades nothing (`store replay-rejected`).
    None,
}

/// The settings of a command from its flags, the environment and the working directory, with
/// their notices written to `err`; the exit code when they cannot be had. A live
/// configuration is refused or set aside as `live` says.
pub(super) fn settings(
    command: &str,
    flags: &crate::config::Flags,
    live: LiveUse,
    err: &mut dyn Write,
) -> Result<Settings, u8> {
    let cwd = std::env::current_dir().map_err(|e| {
        let _ = writeln!(err, "{command}: the current directory cannot be read: {e}");
        super::EXIT_USAGE
    })?;
    let settings = Settings::resolve(flags, &|k| std::env::var(k).ok(), &cwd).map_err(|e| {
        let _ = writeln!(err, "{e}");
        if e.is_unreadable() {
            super::EXIT_USAGE
        } else {
            super::EXIT_INVALID
        }
    })?;
    for notice in &settings.notices {
        let _ = writeln!(err, "note: {notice}");
    }
    // The commands that deliver alerts need every webhook configured.
    if matches!(live, LiveUse::Trades | LiveUse::Workers)
        && settings.alerts.enabled
        && !settings.alerts.unset_webhooks.is_empty()
    {
        for why in &settings.alerts.unset_webhooks {
            let _ = writeln!(err, "{why}");
        }
        return Err(super::EXIT_INVALID);
    }
    // The commands that serve the control API need a token a request can present.
    if live == LiveUse::Trades {
        if let Some(why) = settings
            .api_token
            .as_ref()
            .and_then(|token| crate::config::api_token_problem(token.expose()))
        {
            let _ = writeln!(err, "{command}: {why}");
            return Err(super::EXIT_INVALID);
        }
    }
    if settings.live && live == LiveUse::Paper {
        let _ = writeln!(
            err,
            "note: the live settings are not used: a {command} trades on the paper broker"
        );
    }
    if settings.live && live == LiveUse::Trades {
        let refused = super::live::refusals(&settings);
        for why in &refused {
            let _ = writeln!(err, "{command}: live trading refused: {why}");
        }
        if !refused.is_empty() {
            let _ = writeln!(
                err,
                "{command}: fix the settings above, or unset TRADEGRAPH_LIVE or `live` in the \
                 configuration to run on paper."
            );
            return Err(super::EXIT_USAGE);
        }
    }
    Ok(settings)
}

/// The runtime a bot runs on (one thread: the agents' model calls are I/O and run concurrently
/// on it).
pub(super) fn runtime(command: &str, err: &mut dyn Write) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "{command}: the async runtime cannot start: {e}");
            super::EXIT_FAILED
        })
}

/// Model calls one cycle of the default graph makes at most: four analysts, two debate rounds
/// of two turns, the risk and portfolio managers, and the learning agent when a trade closed.
pub(super) const MODEL_CALLS_PER_CYCLE: u64 = 11;

/// The bot's configuration, and the model chain when one is configured.
pub(super) struct Bot {
    pub(super) config: BotConfig,
    pub(super) llm: Option<Llm>,
}

/// What a run may spend on models when the settings set no budget: a cap in US dollars, and
/// the calls the run plans (the cap when the chain's models have no price, so their cost cannot
/// be counted).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DefaultBudget {
    pub(super) usd: Option<Decimal>,
    pub(super) planned_calls: Option<u64>,
}

/// With Redis configured, the providers' rate limits (`requests_per_minute`,
/// `tokens_per_minute`) are kept there, so that every bot using a provider shares its quota.
/// Not for a replay: it calls no provider.
#[cfg(feature = "redis")]
fn share_limits(
    config: &mut tradegraph_llm::config::LlmConfig,
    settings: &Settings,
    replay: bool,
    out: &mut dyn Write,
) -> Result<(), Box<dyn Error>> {
    let Some(url) = settings.stores.redis_url.as_ref().filter(|_| !replay) else {
        return Ok(());
    };
    let limited: Vec<&str> = config
        .providers
        .iter()
        .filter(|p| p.limits.requests_per_minute.is_some() || p.limits.tokens_per_minute.is_some())
        .map(|p| p.name())
        .collect();
    if limited.is_empty() {
        return Ok(());
    }
    // A call waits for this at most: Redis away, the process's own limits decide.
    let redis = tradegraph_store::redis::RedisConfig::new(url.clone())
        .cluster(settings.stores.redis_cluster)
        .timeout(std::time::Duration::from_millis(250));
    let shared = tradegraph_store::redis::RedisLlmLimits::connect(redis)?;
    config.shared_limits = Some(tradegraph_llm::fallback::SharedLimitsHandle(Arc::new(
        shared,
    )));
    writeln!(
        out,
        "LLM rate limits: shared in Redis with every bot using it ({})",
        limited.join(", ")
    )?;
    Ok(())
}

/// Assembles the bot: prompts, models (with `defaults` as the spending cap when the settings
/// set none; recorded into or replayed from `answers` when given), the stores, the news and
/// macro inputs.
pub(super) async fn assemble(
    settings: &Settings,
    mode: Mode,
    defaults: DefaultBudget,
    answers: Option<&Arc<RecordBook>>,
    out: &mut dyn Write,
) -> Result<Bot, Box<dyn Error>> {
    let prompts = match &settings.prompts_dir {
        Some(dir) => Prompts::with_overrides(dir)?,
        None => Prompts::embedded()?,
    };
    let mut brain = Brain::rules_only()?.with_prompts(Arc::new(prompts));
    let mut llm = None;
    let replay = answers.filter(|book| book.mode() == RecordMode::Replay);
    if let Some(book) = answers.filter(|_| replay.is_none() && settings.llm.providers.is_empty()) {
        return Err(format!(
            "--record {} records model answers, and no model is configured: set a key such as OPENAI_API_KEY (or OLLAMA_HOST)",
            book.path().display()
        )
        .into());
    }
    if settings.llm.providers.is_empty() && replay.is_none() {
        writeln!(
            out,
            "No LLM keys: the agents run in rule mode (set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY \
             or GOOGLE_API_KEY, GROQ_API_KEY, TOGETHER_API_KEY, OPENROUTER_API_KEY or OLLAMA_HOST to use models)."
        )?;
    } else {
        let mut config = settings.llm.clone();
        let configured = config.budget.max_cost.is_some()
            || config.budget.max_calls.is_some()
            || config.budget.max_tokens.is_some()
            || settings.llm_budget_usd.is_some();
        if let Some(cap) = settings.llm_budget_usd.or(defaults.usd) {
            config.budget.max_cost = Some(config.budget.max_cost.map_or(cap, |c| c.min(cap)));
        }
        // a replay's chain is the recorded one, whatever is configured
        let chain: Vec<(String, String)> = match replay {
            Some(book) => book
                .chain()
                .iter()
                .map(|c| (c.provider.clone(), c.model.clone()))
                .collect(),
            None => config
                .providers
                .iter()
                .map(|p| (p.name().to_owned(), p.model_asked().to_owned()))
                .collect(),
        };
        let unpriced: Vec<String> = chain
            .iter()
            .filter(|(name, model)| config.prices.lookup(name, model).is_none())
            .map(|(name, model)| format!("{name} ({model})"))
            .collect();
        if !unpriced.is_empty() {
            writeln!(
                out,
                "LLM prices: none configured for {} (the [llm.prices] table), so their cost is not counted",
                unpriced.join(", ")
            )?;
            if !configured && config.budget.max_calls.is_none() {
                if let Some(calls) = defaults.planned_calls {
                    config.budget.max_calls = Some(calls);
                    writeln!(
                        out,
                        "LLM budget: at most {calls} model calls, the run's plan"
                    )?;
                }
            }
        }
        #[cfg(feature = "redis")]
        share_limits(&mut config, settings, replay.is_some(), out)?;
        let client = match answers {
            Some(book) => config.build_recorded(book).await?,
            None => config.build().await?,
        };
        if let Some(book) = answers {
            match book.mode() {
                RecordMode::Record => writeln!(
                    out,
                    "LLM answers: recorded to {} (replay them with --replay); no cycle \
                     deadline, so that every answer is recorded",
                    book.path().display()
                )?,
                RecordMode::Replay => writeln!(
                    out,
                    "LLM answers: replayed from {} ({} answers); no model is called and no \
                     cycle deadline applies",
                    book.path().display(),
                    book.answers()
                )?,
            }
        }
        let chain: Vec<String> = client
            .providers()
            .into_iter()
            .map(|(name, model)| format!("{name} ({model})"))
            .collect();
        writeln!(out, "LLM chain: {}", chain.join(" -> "))?;
        match config.budget.max_cost {
            Some(cap) => writeln!(
                out,
                "LLM budget: {cap} USD for this run; when it is spent the agents run in rule mode"
            )?,
            None => writeln!(
                out,
                "LLM budget: none set (TRADEGRAPH_LLM_BUDGET_USD or [llm] budget_usd caps spending)"
            )?,
        }
        brain = brain.with_model(Arc::new(LlmModel::new(client.clone())));
        llm = Some(client);
    }
    let instrument = settings.instrument.clone();
    // A bot on the wall clock reads live providers when they are configured; a backtest, or a
    // bot replaying a file (its cycles are in the past, the providers answer as of now), reads
    // the bundled data.
    let running = mode == Mode::Service
        && !matches!(settings.feed, crate::config::FeedSettings::Replay { .. });
    let news = settings.news.open(instrument.currency, running)?;
    writeln!(out, "{}", news.description)?;
    let macros = settings.macros.open(instrument.currency, running).await?;
    writeln!(out, "{}", macros.description)?;
    let mut stores_config = settings.stores.clone();
    if mode == Mode::Backtest {
        // a backtest starts fresh and keeps nothing: it leaves a running bot's state file alone
        stores_config.state_file = None;
    }
    let stores = Stores::connect(stores_config).await?;
    writeln!(
        out,
        "stores: hot cache in {}, history and logs in {}, bot state in {}",
        if settings.stores.redis_url.is_some() {
            "Redis"
        } else {
            "memory"
        },
        if settings.stores.mongodb_uri.is_some() {
            "MongoDB"
        } else {
            "memory"
        },
        stores.state_backend(),
    )?;
    let mut config = BotConfig::new(instrument, brain, settings.cash, mode);
    config.graph_yaml = settings.graph.yaml.clone();
    config.graph_origin = settings.graph.origin.clone();
    config.decision_every = settings.decision_every;
    config.keep_candles = settings.keep_candles;
    config.risk_limits = settings.risk.clone();
    config.max_verdict_age = settings.max_verdict_age;
    // A recorded or replayed run has no deadline: a call dropped at it would be missing from
    // the record, and a replay must not depend on how fast this machine is.
    config.cycle_deadline = answers.is_none().then_some(settings.cycle_deadline);
    config.recall.max_distance = settings.lesson_max_distance;
    if !settings.refine_prompts {
        config.brain = config
            .brain
            .clone()
            .with_refine(tradegraph_agents::learning::RefinePolicy::off());
    }
    config.approval = settings.approval;
    config.stale_after = settings.health.feed_stale_after;
    config.broker_quiet_after = settings.health.broker_quiet_after();
    config.execution = settings.execution.clone();
    if let Some(source) = news.source {
        config.news = source;
    }
    config.macros = macros.source;
    config.stores = stores;
    // A backtest's market data is history replayed: written to the stores a live bot shares,
    // it would move the live price keys back in time and replace the recorded candles (unless
    // asked for: `--store-market-data`).
    config.writes_market = mode != Mode::Backtest;
    Ok(Bot { config, llm })
}

/// Says once when the model budget has been spent.
pub(super) struct BudgetWatch {
    llm: Option<Llm>,
    said: bool,
}

impl BudgetWatch {
    pub(super) fn new(llm: Option<Llm>) -> Self {
        Self { llm, said: false }
    }

    /// A line to print when the budget has just run out.
    pub(super) fn check(&mut self) -> Option<String> {
        let llm = self.llm.as_ref()?;
        if self.said {
            return None;
        }
        let books = llm.accounting();
        let cost = books.budget.max_cost.filter(|cap| books.run.cost >= *cap);
        let calls = books.budget.max_calls.filter(|cap| books.run.calls >= *cap);
        let what = match (cost, calls) {
            (Some(cap), _) => format!("{} of {cap} USD", books.run.cost.round_dp(4)),
            (None, Some(cap)) => format!("{} of {cap} calls", books.run.calls),
            (None, None) => return None,
        };
        self.said = true;
        Some(format!(
            "LLM budget spent ({what}): the agents run in rule mode from now on"
        ))
    }
}

/// What a run does with its bot once the engine has started (before its loop runs): serve it.
pub(super) type OnStart<'a> = Box<dyn FnOnce(BotHandle) + 'a>;

/// What a run does once the engine stopped and before the stores close, given the error the
/// bot stopped on (`None`: the feed ended or a signal stopped it): deliver its last alerts.
pub(super) type OnStop<'a> =
    Box<dyn FnOnce(Option<String>) -> std::pin::Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

/// Runs `bot` on the feed its settings name (through `adapt`: a progress bar, a time window),
/// with the paper broker, until the feed ends or `shutdown` completes; `on_start` gets the
/// bot's handle once the engine has started; `on_stop` runs once the engine stopped, before
/// the stores close. Every way out, errors before the engine starts included, runs `on_stop`
/// and flushes and stops the stores.
pub(super) async fn drive(
    settings: &Settings,
    bot: BotConfig,
    shutdown: impl Future<Output = ()>,
    on_cycle: impl FnMut(&TradingState),
    adapt: impl FnOnce(Feed) -> Feed,
    on_start: OnStart<'_>,
    on_stop: OnStop<'_>,
) -> Result<BotSummary, Box<dyn Error>> {
    let stores = bot.stores.clone();
    let claim = match &bot.instance {
        crate::engine::InstanceClaiming::Held(claim) => Some(claim.clone()),
        _ => None,
    };
    let result = drive_feed(settings, bot, shutdown, on_cycle, adapt, on_start).await;
    on_stop(result.as_ref().err().map(ToString::to_string)).await;
    // Before the stores close and after `on_stop`'s last writes (the model usage): the claim
    // handed to the engine is released here, whether the engine ran or failed to start (the
    // venue refused the keys), so that the next start does not wait a lease (a claim taken
    // over is left as it is).
    if let Some(claim) = claim {
        claim.release().await;
    }
    stores.shutdown().await;
    result
}

async fn drive_feed(
    settings: &Settings,
    bot: BotConfig,
    shutdown: impl Future<Output = ()>,
    on_cycle: impl FnMut(&TradingState),
    adapt: impl FnOnce(Feed) -> Feed,
    on_start: OnStart<'_>,
) -> Result<BotSummary, Box<dyn Error>> {
    let (feed, clock) = open_feed(settings)?;
    let feed = adapt(feed);
    match clock {
        Some(clock) => {
            let broker = if matches!(settings.feed, FeedSettings::Replay { .. }) {
                // Restarted, the bot replays its file from the start: the restored paper account
                // skips the trades and ticks it had already taken at its latest millisecond.
                paper_broker_with(&bot, |paper| paper.feed_resends(true))?
            } else {
                paper_broker(&bot)?
            };
            go(bot, clock, feed, broker, shutdown, on_cycle, on_start).await
        }
        None => on_venue(settings, bot, feed, shutdown, on_cycle, on_start).await,
    }
}

/// The feed the settings name, and the simulated clock it moves (`None`: a venue's live feed,
/// on the wall clock).
pub(super) fn open_feed(
    settings: &Settings,
) -> Result<(Feed, Option<SimulatedClock>), Box<dyn Error>> {
    let symbol = settings.instrument.symbol.clone();
    match &settings.feed {
        FeedSettings::Replay { path } => {
            let clock = SimulatedClock::default();
            let replay = Replay::new(ReplayConfig {
                clock: clock.clone(),
                ..ReplayConfig::new(path.clone(), symbol)
            })?;
            Ok((replay.stream(), Some(clock)))
        }
        FeedSettings::Synthetic { seed, speed } => {
            let start = Timestamp::from_datetime(chrono::Utc::now());
            let config =
                SyntheticConfig::for_instrument(&settings.instrument, *seed).with_start(start);
            let clock = SimulatedClock::new(start);
            let feed =
                SyntheticGenerator::new(config)?.stream(clock.clone(), Pacing::Speed(*speed))?;
            Ok((feed, Some(clock)))
        }
        FeedSettings::Binance { ws_url, .. } => {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let mut config = tradegraph_market::feed::binance::BinanceConfig::new(symbol.as_str());
            config.url = ws_url.clone();
            let feed = tradegraph_market::feed::binance::BinanceFeed::new(config, clock)?.stream();
            Ok((feed, None))
        }
        FeedSettings::Kite {
            ws_url,
            api_key,
            access_token,
            tokens,
            ..
        } => {
            use tradegraph_market::feed::kite::{KiteConfig, KiteFeed};
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let mut config =
                KiteConfig::new(api_key.expose(), access_token.expose(), tokens.clone());
            config.url = ws_url.clone();
            Ok((KiteFeed::new(config, clock)?.stream(), None))
        }
    }
}

/// A bot on a venue's live feed: with the paper broker, or (live trading asked for and
/// allowed) with the venue's broker, after a banner.
async fn on_venue(
    settings: &Settings,
    bot: BotConfig,
    feed: Feed,
    shutdown: impl Future<Output = ()>,
    on_cycle: impl FnMut(&TradingState),
    on_start: OnStart<'_>,
) -> Result<BotSummary, Box<dyn Error>> {
    use super::live::{banner, connect, LiveBroker};
    if !settings.live {
        let broker = paper_broker(&bot)?;
        return go(bot, SystemClock, feed, broker, shutdown, on_cycle, on_start).await;
    }
    // `settings` refused paper-only settings (a memory state among them) before this.
    let (broker, venue) = connect(settings, &bot.stores).await?;
    match broker {
        LiveBroker::Binance(broker) => {
            say_live(&banner(&broker, &venue, settings).await);
            go(bot, SystemClock, feed, broker, shutdown, on_cycle, on_start).await
        }
        LiveBroker::Kite(broker) => {
            say_live(&banner(&broker, &venue, settings).await);
            // The feed streams the contract traded at start: when the broker rolls to the
            // next month's (only when flat), the bot stops rather than decide on the expiring
            // contract's prices while trading the next one's.
            let traded = broker.tradingsymbol();
            let reader = broker.contract_reader();
            let rolled = std::sync::Mutex::new(None);
            let stop = async {
                tokio::select! {
                    () = shutdown => {}
                    to = super::live::rolled_away(&reader, &traded, super::live::ROLL_CHECK_EVERY) => {
                        *rolled.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(to);
                    }
                }
            };
            let summary = go(bot, SystemClock, feed, broker, stop, on_cycle, on_start).await?;
            match rolled
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                Some(to) => Err(super::live::rolled_message(&settings.name, &traded, &to).into()),
                None => Ok(summary),
            }
        }
    }
}

/// Writes the live banner to stderr itself: no log filter hides it and no log format mangles
/// it.
fn say_live(banner: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{banner}");
    let _ = err.flush();
}

async fn go<C, F, B>(
    bot: BotConfig,
    clock: C,
    feed: F,
    broker: B,
    shutdown: impl Future<Output = ()>,
    on_cycle: impl FnMut(&TradingState),
    on_start: OnStart<'_>,
) -> Result<BotSummary, Box<dyn Error>>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    let started = Engine::start(bot, clock, feed, broker).await;
    let result: Result<BotSummary, EngineError> = match started {
        Ok(engine) => {
            let r = engine.reconciled();
            if !r.found.is_empty() || !r.abandoned.is_empty() {
                tracing::warn!(
                    found = r.found.len(),
                    abandoned = r.abandoned.len(),
                    working = r.working.len(),
                    "order intents reconciled with the broker at start"
                );
            }
            on_start(engine.handle());
            engine.run(shutdown, on_cycle).await
        }
        Err(e) => Err(e),
    };
    Ok(result?)
}
