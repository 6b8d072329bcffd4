//! The engine on a replayed file: simulated clock, replay feed, paper broker.

use super::{BotConfig, BotSummary, Engine, EngineError, Mode};
use std::path::Path;
use tradegraph_agents::TradingState;
use tradegraph_broker::paper::PaperConfig;
use tradegraph_broker::PaperBroker;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::SimulatedClock;

/// The paper broker for `config`'s instrument and cash, executing as
/// [`BotConfig::execution`] says: the venue's fees unless set (Binance spot's VIP 0 for crypto,
/// Zerodha's futures charge sheet for rupees), 2 bp slippage unless set, and market orders at
/// the next bar's open in a backtest ([`Mode::Backtest`]) and on replayed bars (`run` on a
/// file), or at once for the paper bot on a tick feed, unless set
/// ([`ExecutionSettings::timing_for`](crate::backtest::execution::ExecutionSettings::timing_for)).
///
/// # Errors
/// [`EngineError::Broker`] when the cash, the instrument or a cost setting cannot work.
pub fn paper_broker(config: &BotConfig) -> Result<PaperBroker, EngineError> {
    paper_broker_with(config, |paper| paper)
}

/// [`paper_broker`], with `adjust` applied to the paper configuration first (`run` on a file
/// says that its feed resends after a restart: [`PaperConfig::feed_resends`]).
///
/// # Errors
/// As [`paper_broker`].
pub fn paper_broker_with(
    config: &BotConfig,
    adjust: impl FnOnce(PaperConfig) -> PaperConfig,
) -> Result<PaperBroker, EngineError> {
    let paper = config
        .execution
        .paper_config(config.instrument.clone(), config.cash, config.mode);
    Ok(PaperBroker::new(adjust(paper))?)
}

/// Replays `data` (a CSV of one-minute bars or a JSONL recording) through the engine in
/// [`Mode::Backtest`] on a simulated clock with the paper broker, calling `on_cycle` with each
/// cycle's final state. The agents only ever see data stamped at or before the simulated time.
///
/// ```no_run
/// use tradegraph::engine::{backtest, BotConfig, Mode};
/// use tradegraph::agents::node::Brain;
/// use tradegraph::core::{Decimal, Instrument};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = BotConfig::new(Instrument::btc_usdt(), Brain::rules_only()?, Decimal::from(100_000), Mode::Backtest);
/// let summary = backtest(config, "examples/data/btcusdt-1m.csv".as_ref(), |_| {}).await?;
/// println!("{} cycles, {} trades", summary.cycles, summary.trades);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`EngineError`] when the data, the graph or the broker cannot be set up, or a cycle fails.
pub async fn backtest(
    mut config: BotConfig,
    data: &Path,
    on_cycle: impl FnMut(&TradingState),
) -> Result<BotSummary, EngineError> {
    config.mode = Mode::Backtest;
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), config.instrument.symbol.clone())
    })?;
    let broker = paper_broker(&config)?;
    let engine = Engine::start(config, clock, replay.stream(), broker).await?;
    engine.run(std::future::pending(), on_cycle).await
}
