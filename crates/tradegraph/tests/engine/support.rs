//! What the engine tests share: a scripted portfolio manager, bar files, a harness that runs
//! the engine on a replayed file, and the check that the trade log agrees with the fills.

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tradegraph::engine::{paper_broker, BotConfig, BotSummary, Engine, Execution, Mode};
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::{AgentName, TradingState};
use tradegraph_broker::PaperBroker;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Instrument, Symbol, Timeframe, Timestamp};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::feed::Feed;
use tradegraph_market::SimulatedClock;
use tradegraph_store::{Query, Stores, TradeStatus};

/// Answers the portfolio manager from a script — by cycle (the n-th question) or by decision
/// time (read from the prompt's `Decision time:` line, so a restarted bot gets the same
/// answers); HOLD otherwise. Every other agent gets no answer and runs its rules.
#[derive(Debug, Default)]
pub(crate) struct ScriptedPm {
    by_cycle: Vec<Option<Value>>,
    by_time: HashMap<String, Value>,
    cycle: AtomicUsize,
    pub(crate) asked: AtomicUsize,
}

impl ScriptedPm {
    /// The n-th answer is `decisions[n]`.
    pub(crate) fn cycles(decisions: Vec<Option<Value>>) -> Arc<Self> {
        Arc::new(Self {
            by_cycle: decisions,
            ..Self::default()
        })
    }

    /// The answer at a decision time (RFC 3339, as the prompt shows it).
    pub(crate) fn at(decisions: &[(&str, Value)]) -> Arc<Self> {
        let by_time = decisions
            .iter()
            .map(|(t, v)| {
                let t: Timestamp = t.parse().unwrap();
                (t.to_string(), v.clone())
            })
            .collect();
        Arc::new(Self {
            by_time,
            ..Self::default()
        })
    }
}

#[async_trait]
impl ReportModel for ScriptedPm {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("scripted: rules for this agent".into()));
        }
        self.asked.fetch_add(1, Ordering::SeqCst);
        let cycle = self.cycle.fetch_add(1, Ordering::SeqCst);
        let at = prompt
            .user
            .lines()
            .find_map(|l| l.trim().strip_prefix("Decision time: "))
            .and_then(|l| l.split(". ").next())
            .map(|t| t.trim_end_matches('.').to_owned());
        let value = at
            .and_then(|t| self.by_time.get(&t).cloned())
            .or_else(|| self.by_cycle.get(cycle).cloned().flatten())
            .unwrap_or_else(hold);
        Ok(ModelAnswer::new(value, "script", "pm"))
    }
}

pub(crate) fn hold() -> Value {
    json!({"action": "HOLD", "size_pct": 0, "stop_loss": null, "take_profit": null,
           "trailing_pct": null, "confidence": 0.5, "rationale": "scripted hold"})
}

pub(crate) fn buy(
    size: f64,
    stop: f64,
    take_profit: Option<f64>,
    trailing_pct: Option<f64>,
) -> Option<Value> {
    Some(
        json!({"action": "BUY", "size_pct": size, "stop_loss": stop, "take_profit": take_profit,
                "trailing_pct": trailing_pct, "confidence": 0.8, "rationale": "scripted"}),
    )
}

pub(crate) fn sell(size: f64, stop: f64) -> Option<Value> {
    Some(
        json!({"action": "SELL", "size_pct": size, "stop_loss": stop, "take_profit": null,
                "trailing_pct": null, "confidence": 0.8, "rationale": "scripted"}),
    )
}

pub(crate) fn close() -> Option<Value> {
    Some(
        json!({"action": "CLOSE", "size_pct": 0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.8, "rationale": "scripted close"}),
    )
}

/// Minute bars `(open, high, low, close)` from `start`, written to a temporary CSV.
pub(crate) fn bars_file(name: &str, start: &str, bars: &[(f64, f64, f64, f64)]) -> PathBuf {
    let start: Timestamp = start.parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for (i, (o, h, l, c)) in bars.iter().enumerate() {
        let ts = start.add_millis(i as i64 * 60_000);
        csv += &format!("{ts},{o:.2},{h:.2},{l:.2},{c:.2},10\n");
    }
    let path = std::env::temp_dir().join(format!(
        "tradegraph-engine-{}-{name}.csv",
        std::process::id()
    ));
    std::fs::write(&path, csv).unwrap();
    path
}

pub(crate) fn flat(price: f64, n: usize) -> Vec<(f64, f64, f64, f64)> {
    vec![(price, price, price, price); n]
}

/// An instrument like BTC/USDT under a symbol of its own (unique keys in shared servers).
pub(crate) fn btc_as(symbol: &str) -> Instrument {
    let mut i = Instrument::btc_usdt();
    i.symbol = Symbol::new(symbol);
    i
}

/// A unique name for this process and call, of letters and digits (symbols, databases).
pub(crate) use tradegraph_testkit::services::unique_compact as unique;

/// A bot on `instrument` answering through `pm`, 15-minute decisions.
pub(crate) fn config(
    instrument: Instrument,
    pm: Arc<ScriptedPm>,
    limits: RiskLimits,
    stores: Stores,
    mode: Mode,
) -> BotConfig {
    let cash = tradegraph::config::default_cash(instrument.currency);
    let brain = Brain::rules_only().unwrap().with_model(pm);
    let mut config = BotConfig::new(instrument, brain, cash, mode);
    config.graph_yaml = DEFAULT_GRAPH.to_owned();
    config.graph_origin = "trading.yaml".into();
    config.decision_every = Timeframe::M15;
    config.risk_limits = limits;
    config.stores = stores;
    config
}

pub(crate) type TestEngine<B = PaperBroker> = Engine<SimulatedClock, Feed, B>;

/// The engine on a replay of `data`, with the paper broker.
pub(crate) async fn start(config: BotConfig, data: &std::path::Path) -> TestEngine {
    let broker = paper_broker(&config).unwrap();
    start_on(config, data, broker).await
}

/// The engine on a replay of `data`, with `broker`.
pub(crate) async fn start_on<B: Execution>(
    config: BotConfig,
    data: &std::path::Path,
    broker: B,
) -> TestEngine<B> {
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), config.instrument.symbol.clone())
    })
    .unwrap();
    Box::pin(Engine::start(config, clock, replay.stream(), broker))
        .await
        .unwrap()
}

pub(crate) struct Run {
    pub(crate) summary: BotSummary,
    pub(crate) cycles: Vec<TradingState>,
    pub(crate) stores: Stores,
    /// Every fill the paper broker keeps at the end (this run's and those restored).
    pub(crate) broker_fills: Vec<tradegraph_core::order::Fill>,
}

/// Runs `engine` to the end of its data, keeping every cycle's state.
pub(crate) async fn finish<B: Execution>(engine: TestEngine<B>, stores: Stores) -> Run {
    let broker = engine.broker().inner().clone();
    let cycles = Arc::new(Mutex::new(Vec::new()));
    let sink = cycles.clone();
    let summary = Box::pin(engine.run(std::future::pending(), move |s| {
        sink.lock().unwrap().push(s.clone())
    }))
    .await
    .unwrap();
    let cycles = cycles.lock().unwrap().clone();
    let broker_fills = tradegraph_broker::Broker::fills_since(broker.as_ref(), 0)
        .await
        .unwrap();
    Run {
        summary,
        cycles,
        stores,
        broker_fills,
    }
}

/// A backtest of `data` with the PM's decisions per cycle (the scenarios' harness).
pub(crate) async fn run(
    instrument: Instrument,
    data: PathBuf,
    decisions: Vec<Option<Value>>,
    limits: RiskLimits,
) -> Run {
    run_with(instrument, data, decisions, limits, Stores::memory()).await
}

pub(crate) async fn run_with(
    instrument: Instrument,
    data: PathBuf,
    decisions: Vec<Option<Value>>,
    limits: RiskLimits,
    stores: Stores,
) -> Run {
    let config = config(
        instrument,
        ScriptedPm::cycles(decisions),
        limits,
        stores.clone(),
        Mode::Backtest,
    );
    let engine = start(config, &data).await;
    let run = finish(engine, stores).await;
    std::fs::remove_file(data).unwrap();
    run
}

pub(crate) fn sells(run: &Run) -> Vec<(Timestamp, f64)> {
    run.summary
        .fills
        .iter()
        .filter(|f| f.side == tradegraph_core::Side::Sell)
        .map(|f| (f.ts, f.price.try_into().unwrap()))
        .collect()
}

pub(crate) fn flat_at_end(run: &Run) -> bool {
    run.summary
        .final_account
        .as_ref()
        .unwrap()
        .positions
        .iter()
        .all(|p| p.quantity.is_zero())
}

/// The trade log agrees with the broker's fills: every trade is `Closed` with an exit price,
/// time and P&L; their count and P&L are the summary's; flat at the end, the P&L is the
/// account's change to the cent; and each trade's P&L is what its fills give.
pub(crate) async fn check_trade_log(run: &Run, symbol: &str, trades: usize) {
    run.stores.flush().await.unwrap();
    let log = run.stores.trades.trades(&Query::new(symbol)).await.unwrap();
    assert_eq!(log.len(), trades, "{log:#?}");
    assert_eq!(run.summary.trades, trades as u64);
    let mut total = Decimal::ZERO;
    for trade in &log {
        assert_eq!(trade.status, TradeStatus::Closed, "{trade:#?}");
        assert!(
            trade.exit_price.is_some() && trade.exit_timestamp.is_some(),
            "{trade:#?}"
        );
        let pnl = trade.realized_pnl.unwrap();
        // what the fills of this trade give: from its entry to its exit
        let fills: Vec<_> = run
            .summary
            .fills
            .iter()
            .filter(|f| f.ts >= trade.entry_timestamp && Some(f.ts) <= trade.exit_timestamp)
            .collect();
        let from_fills: Decimal = fills
            .iter()
            .map(|f| -f.signed_quantity() * f.price - f.fee)
            .sum();
        assert_eq!(pnl, from_fills, "{trade:#?} {fills:#?}");
        total += pnl;
    }
    assert_eq!(
        total, run.summary.realized_pnl,
        "the summary's realized P&L is the trade log's"
    );
    if flat_at_end(run) {
        assert_eq!(
            total.round_dp(2),
            run.summary.pnl().round_dp(2),
            "to the cent"
        );
        assert_eq!(total, run.summary.pnl(), "exactly");
    }
}

pub(crate) use crate::shared::services;
