//! The per-instrument examples' main: a paper bot on the bundled data, with whatever keys the
//! environment or `.env.<instrument>` provides.

use super::{backtest, describe_cycle, BotConfig, BotSummary, DotEnv, InstrumentKey};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tradegraph_agents::model::LlmModel;
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_agents::prompt::Prompts;
use tradegraph_core::{Currency, Timeframe};
use tradegraph_llm::config::LlmConfig;
use tradegraph_market::news::{FileMacro, FixtureNews};
use tradegraph_store::{Stores, StoresConfig};

/// Runs the example bot for `key` from the repository at `root`: reads `.env.<key>`, replays the
/// bundled one-minute bars through `graphs/trading.yaml` with the paper broker, prints a line
/// per decision and a summary. With LLM keys the agents ask the models (with fallback) and say
/// when they fell back to rules; without, they run in rule mode. Returns the exit code.
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub async fn example_main(key: InstrumentKey, root: &Path) -> ExitCode {
    match run(key, root).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", key.key());
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
async fn run(key: InstrumentKey, root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let env = DotEnv::load(&root.join(format!(".env.{}", key.key())))?;
    if env.var("TRADEGRAPH_LIVE").as_deref() == Some("1") {
        println!("TRADEGRAPH_LIVE=1 is set, but the examples replay sample data: paper trading.");
    }
    let instrument = key.instrument();
    let prompts = match env.var("TRADEGRAPH_PROMPTS_DIR") {
        Some(dir) => Prompts::with_overrides(Path::new(&dir))?,
        None => Prompts::embedded()?,
    };
    let mut brain = Brain {
        prompts: Arc::new(prompts),
        ..Brain::rules_only()?
    };
    let llm_config = LlmConfig::from_env(|k| env.var(k))?;
    if llm_config.providers.is_empty() {
        println!(
            "No LLM keys: the agents run in rule mode. Set OPENAI_API_KEY (or ANTHROPIC_API_KEY, \
             GEMINI_API_KEY, GROQ_API_KEY, TOGETHER_API_KEY, OPENROUTER_API_KEY, OLLAMA_BASE_URL) \
             in the environment or .env.{} to use models.",
            key.key()
        );
    } else {
        let llm = llm_config.build().await?;
        let chain: Vec<String> = llm
            .providers()
            .into_iter()
            .map(|(name, model)| format!("{name} ({model})"))
            .collect();
        println!("LLM chain: {}", chain.join(" -> "));
        brain = brain.with_model(Arc::new(LlmModel::new(llm)));
    }
    let (news, macro_snapshots) = match instrument.currency {
        Currency::Inr => (
            FixtureNews::bundled_india().items().to_vec(),
            FileMacro::bundled_india()?.snapshots().to_vec(),
        ),
        _ => (FixtureNews::bundled_crypto().items().to_vec(), Vec::new()),
    };
    let redis = env.var("REDIS_URL");
    let mongodb = env.var("MONGODB_URI");
    let stores = Stores::connect(
        StoresConfig::new()
            .redis(redis.clone())
            .mongodb(mongodb.clone(), "tradegraph")
            .spill_path(root.join(format!(".tradegraph/spill-{}.jsonl", key.key()))),
    )
    .await?;
    println!(
        "stores: hot cache in {}, history and logs in {}",
        if redis.is_some() { "Redis" } else { "memory" },
        if mongodb.is_some() {
            "MongoDB"
        } else {
            "memory"
        }
    );
    let config = BotConfig {
        stores: stores.clone(),
        data: root.join(key.sample_data()),
        graph_yaml: DEFAULT_GRAPH.to_owned(),
        graph_origin: "graphs/trading.yaml".into(),
        decision_every: Timeframe::M15,
        cash: tradegraph_agents::fixture::paper_cash(&instrument),
        brain,
        news,
        macro_snapshots,
        keep_candles: 50,
        risk_limits: Default::default(),
        instrument,
    };
    println!(
        "{}: paper trading {} on {} with {} {}; a decision every 15 minutes",
        key.key(),
        config.instrument.symbol,
        key.sample_data(),
        config.cash,
        format!("{:?}", config.instrument.currency).to_uppercase(),
    );
    let summary = Box::pin(backtest(config, |state| {
        println!("{}", describe_cycle(state))
    }))
    .await?;
    print_summary(key, &summary);
    stores.shutdown().await;
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_summary(key: InstrumentKey, s: &BotSummary) {
    let bars_per_year = match key {
        InstrumentKey::Btc => 525_600.0,
        _ => 375.0 * 250.0,
    };
    let pct = |x: Option<f64>| x.map_or("n/a".to_owned(), |v| format!("{v:+.2}%"));
    println!("--- summary ---");
    println!(
        "cycles {} (acted on {}), verdicts approved {} / clamped {} / rejected {}, orders {}",
        s.cycles, s.decisions_to_act, s.verdicts[0], s.verdicts[1], s.verdicts[2], s.orders
    );
    println!(
        "trades {}, win rate {}, P&L {} ({:+.2}%), max drawdown {:.2}%, Sharpe {}, buy-and-hold {}",
        s.trades,
        s.win_rate_pct()
            .map_or("n/a".to_owned(), |w| format!("{w:.0}%")),
        s.pnl().round_dp(2),
        s.return_pct(),
        s.max_drawdown_pct(),
        s.sharpe(bars_per_year)
            .map_or("n/a".to_owned(), |v| format!("{v:.2}")),
        pct(s.buy_and_hold_pct()),
    );
    println!(
        "reports by model {}, by rules {} (fallbacks from a model: {}), lessons {}",
        s.reports_by_model, s.reports_by_rules, s.fallbacks, s.lessons
    );
}
