//! A paper bot built in code: the settings, the agents, the stores, the clock, the feed, the
//! broker and the engine, step by step. `btc.rs`, `banknifty.rs` and `nifty.rs` call it with
//! their instrument; copy it to build your own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tradegraph::agents::model::LlmModel;
use tradegraph::agents::node::Brain;
use tradegraph::agents::prompt::Prompts;
use tradegraph::config::{FeedSettings, Flags, LogArgs, Settings};
use tradegraph::engine::{
    describe_cycle, paper_broker, summary_text, BotConfig, BotSummary, Engine, Mode,
};
use tradegraph::market::feed::replay::{Replay, ReplayConfig};
use tradegraph::market::SimulatedClock;
use tradegraph::store::Stores;

/// What a run may spend on models unless `TRADEGRAPH_LLM_BUDGET_USD` says otherwise.
const BUDGET_USD: i64 = 5;

/// Runs the paper bot for `name` (`btc`, `banknifty`, `nifty`) on its bundled one-minute bars.
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn main(name: &str) -> ExitCode {
    tradegraph::telemetry::log::install(&LogArgs::default());
    // boxed: a bot's future is large
    match Box::pin(run(name)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
async fn run(name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");

    // 1. Settings: the defaults, then `.env`, `.env.<name>` and the environment (LLM keys,
    //    REDIS_URL, MONGODB_URI). The feed is the bundled sample, replayed.
    let flags = Flags {
        instrument: Some(name.to_owned()),
        ..Flags::default()
    };
    let settings = Settings::resolve(&flags, &|k| std::env::var(k).ok(), &root)?;
    let FeedSettings::Replay { path } = &settings.feed else {
        return Err("the examples replay the bundled data; unset TRADEGRAPH_FEED".into());
    };
    let data = root.join(path);

    // 2. The agents: prompts, and a model chain when keys are set (rule mode otherwise).
    let mut brain = Brain::rules_only()?.with_prompts(Arc::new(match &settings.prompts_dir {
        Some(dir) => Prompts::with_overrides(dir)?,
        None => Prompts::embedded()?,
    }));
    if settings.llm.providers.is_empty() {
        println!("No LLM keys: the agents run in rule mode.");
    } else {
        // The plan: at most 11 model calls a cycle (4 analysts, 2 debate rounds of 2 turns,
        // risk, portfolio, learning), a cycle every 15 one-minute bars. Spending is capped in
        // dollars, and in calls for models without a price (their cost cannot be counted).
        let bars = std::fs::read_to_string(&data)?
            .lines()
            .count()
            .saturating_sub(1) as u64;
        let calls = bars / 15 * 11;
        let mut llm = settings.llm.clone();
        let cap = settings.llm_budget_usd.unwrap_or(BUDGET_USD.into());
        llm.budget.max_cost = Some(cap);
        llm.budget.max_calls.get_or_insert(calls);
        let llm = llm.build().await?;
        println!(
            "LLM chain: {:?}; about {calls} model calls planned; budget {cap} USD and {calls} calls, then rule mode",
            llm.providers()
        );
        brain = brain.with_model(Arc::new(LlmModel::new(llm)));
    }

    // 3. The stores: memory, or Redis and MongoDB when their URLs are set. A replay keeps no
    //    bot state (`Mode::Backtest` below), so no state file either.
    //    Built without a server's feature (the default), its URL is refused: say how to build it.
    let unbuilt = (settings.stores.redis_url.is_some() && !cfg!(feature = "redis"))
        || (settings.stores.mongodb_uri.is_some() && !cfg!(feature = "mongodb"));
    let stores = match Stores::connect(settings.stores.clone().state_file(None)).await {
        Ok(stores) => stores,
        Err(e) if unbuilt => {
            return Err(format!(
                "{e}\nThe example bots write to Redis and MongoDB only when built with them: \
                 cargo run --release -p tradegraph-examples --features redis,mongodb --bin {name}"
            )
            .into())
        }
        Err(e) => return Err(e.into()),
    };

    // 4. The bot: instrument, agents, graph, limits, news and macro inputs, stores.
    let instrument = settings.instrument.clone();
    let mut config = BotConfig::new(instrument.clone(), brain, settings.cash, Mode::Backtest);
    config.graph_yaml = settings.graph.yaml.clone();
    config.graph_origin = settings.graph.origin.clone();
    config.decision_every = settings.decision_every;
    config.risk_limits = settings.risk.clone();
    config.stores = stores.clone();
    // The bundled news and macro figures (a backtest never reads live providers).
    if let Some(news) = settings.news.open(instrument.currency, false)?.source {
        config.news = news;
    }
    config.macros = settings
        .macros
        .open(instrument.currency, false)
        .await?
        .source;

    // 5.-7. Run, then flush and stop the stores on every way out, an error included.
    // Boxed: the engine is a large value, held across the run's awaits.
    let summary = Box::pin(trade(config, name, &data)).await;
    stores.shutdown().await;
    println!("{}", summary_text(&summary?, &instrument));
    Ok(())
}

/// Steps 5 to 7: the feed, the broker and the engine, run to the end of the data.
#[allow(clippy::print_stdout)]
async fn trade(
    config: BotConfig,
    name: &str,
    data: &Path,
) -> Result<BotSummary, Box<dyn std::error::Error>> {
    let instrument = config.instrument.clone();
    // 5. The clock and the feed: the bundled bars, replayed on a simulated clock that each
    //    event moves (the agents never see data stamped after it). A live bot uses the wall
    //    clock and a `BinanceFeed` or `KiteFeed` here instead: the engine is the same.
    let clock = SimulatedClock::default();
    let feed = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), instrument.symbol.clone())
    })?
    .stream();

    // 6. The broker: paper, with the venue's fees.
    let broker = paper_broker(&config)?;

    // 7. The engine: one loop, one cycle of the graph per closed 15-minute candle.
    println!(
        "{name}: paper trading {} on {} with {} {:?}",
        instrument.symbol,
        short(data),
        config.cash,
        instrument.currency
    );
    let engine = Engine::start(config, clock, feed, broker).await?;
    let summary = engine
        .run(std::future::pending(), |state| {
            println!("{}", describe_cycle(state))
        })
        .await?;
    Ok(summary)
}

fn short(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}
