//! The baselines of a run, on the same data: buy-and-hold, and the graph in rule mode.

use super::hold::{buy_and_hold_until, HoldEntry};
use super::Metrics;
use crate::engine::{paper_broker, BotConfig, BotSummary, Engine, EngineError, Mode};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tokio::sync::watch;
use tradegraph_agents::node::Brain;
use tradegraph_agents::TradingState;
use tradegraph_core::Timestamp;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::{MarketEvent, SimulatedClock};
use tradegraph_store::Stores;

/// The part of a data file a run reads: events stamped at or after `from` and before `to`
/// (`tradegraph backtest --from/--to`); both `None`, the whole file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first time read (inclusive).
    pub from: Option<Timestamp>,
    /// The end (exclusive).
    pub to: Option<Timestamp>,
}

impl Period {
    /// Whether an event stamped `ts` is read.
    pub fn contains(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t)
    }
}

/// What a run is measured against, on the same data and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// All the cash into the instrument at the first decision, held to the end, through the
    /// run's paper broker (see [`buy_and_hold`](super::buy_and_hold)).
    pub buy_and_hold: Metrics,
    /// Buy-and-hold's buy (`None`: the cash could not buy one lot, or no decision came).
    pub buy_and_hold_entry: Option<HoldEntry>,
    /// The same graph, prompts and rule knobs with no model (`None` when the run is in rule
    /// mode already: [`rule_mode_note`](Self::rule_mode_note) says so).
    pub rule_mode: Option<Metrics>,
    /// Why there is no separate rule-mode run.
    pub rule_mode_note: Option<String>,
}

/// The note of [`Baselines::rule_mode_note`] for a run in rule mode.
pub const RULE_MODE_IS_THE_RUN: &str =
    "the run is in rule mode (no model): its own metrics are the rule-mode baseline";

/// `brain` without its model: the same prompts and rule knobs (the graph in rule mode).
///
/// # Errors
/// [`AgentError::Prompt`](tradegraph_agents::AgentError::Prompt) when an embedded template is
/// broken.
pub fn rule_mode_brain(brain: &Brain) -> Result<Brain, tradegraph_agents::AgentError> {
    Ok(Brain::rules_only()?
        .with_prompts(brain.prompts().clone())
        .with_rules(brain.rules()))
}

/// The baselines of `config`'s backtest of `data` within `period`: buy-and-hold, and a second
/// engine run of the same configuration in rule mode ([`rule_mode_brain`], in-memory stores,
/// no events) unless the run is in rule mode already.
///
/// ```no_run
/// use tradegraph::backtest::metrics::{baselines, Period};
/// use tradegraph::engine::{BotConfig, Mode};
/// use tradegraph::agents::node::Brain;
/// use tradegraph::core::{Decimal, Instrument};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = BotConfig::new(Instrument::btc_usdt(), Brain::rules_only()?, Decimal::from(100_000), Mode::Backtest);
/// let b = baselines(&config, "examples/data/btcusdt-1m.csv".as_ref(), Period::default()).await?;
/// println!("buy-and-hold {:?}", b.buy_and_hold.total_return);
/// assert!(b.rule_mode.is_none(), "{:?}", b.rule_mode_note);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`EngineError`] when the data, the graph or the broker cannot be set up, or a cycle fails.
pub async fn baselines(
    config: &BotConfig,
    data: &Path,
    period: Period,
) -> Result<Baselines, EngineError> {
    baselines_until(config, data, period, &Halt::never()).await
}

/// [`baselines`] that end early, their figures partial, once `halt` is set (the caller
/// discards them: [`walk::run_one`](crate::backtest::walk::run_one) halts them when its run is
/// stopped or fails).
pub(crate) async fn baselines_until(
    config: &BotConfig,
    data: &Path,
    period: Period,
    halt: &Halt,
) -> Result<Baselines, EngineError> {
    // boxed: an engine run's future is large
    let hold = Box::pin(buy_and_hold_until(config, data, period, halt)).await?;
    let (rule_mode, rule_mode_note) = if config.brain.model().is_none() {
        (None, Some(RULE_MODE_IS_THE_RUN.to_owned()))
    } else {
        let mut rules = config.clone();
        rules.brain = rule_mode_brain(&config.brain)?;
        rules.stores = Stores::memory();
        rules.events = None;
        let instrument = rules.instrument.clone();
        let summary = Box::pin(run_period_until(rules, data, period, |_| {}, halt.wait())).await?;
        (Some(Metrics::of_run(&summary, &instrument)), None)
    };
    Ok(Baselines {
        buy_and_hold: hold.metrics,
        buy_and_hold_entry: hold.entry,
        rule_mode,
        rule_mode_note,
    })
}

/// [`engine::backtest`](crate::engine::backtest) on the events of `data` within `period` (a
/// run of `tradegraph backtest --from/--to`, or one window of a walk-forward).
///
/// # Errors
/// [`EngineError`] when the data, the graph or the broker cannot be set up, or a cycle fails.
pub async fn run_period(
    config: BotConfig,
    data: &Path,
    period: Period,
    on_cycle: impl FnMut(&TradingState),
) -> Result<BotSummary, EngineError> {
    run_period_until(config, data, period, on_cycle, std::future::pending()).await
}

/// [`run_period`] that ends when `stop` resolves, as a stopped engine does.
async fn run_period_until(
    mut config: BotConfig,
    data: &Path,
    period: Period,
    on_cycle: impl FnMut(&TradingState),
    stop: impl std::future::Future<Output = ()>,
) -> Result<BotSummary, EngineError> {
    config.mode = Mode::Backtest;
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), config.instrument.symbol.clone())
    })?;
    let feed = replay
        .stream()
        // the replay is in time order: nothing after the period's end is read
        .take_while(move |event| {
            let before_end = matches!(event, MarketEvent::Notice { .. })
                || period.to.is_none_or(|to| event.ts() < to);
            futures::future::ready(before_end)
        })
        .filter(move |event| {
            let keep = matches!(event, MarketEvent::Notice { .. }) || period.contains(event.ts());
            futures::future::ready(keep)
        })
        .boxed();
    let broker = paper_broker(&config)?;
    // Boxed: the engine is large, and a caller's future would hold it twice over.
    let engine = Box::pin(Engine::start(config, clock, feed, broker)).await?;
    Box::pin(engine.run(stop, on_cycle)).await
}

/// Tells the baselines, on their thread, to end early: set by [`HaltHandle::set`], or when its
/// [`HaltHandle`] is dropped (the run that owns it ended, however).
#[derive(Debug, Clone)]
pub(crate) struct Halt(Option<watch::Receiver<bool>>);

/// The side of a [`Halt`] that sets it; dropping it sets it too.
#[cfg(feature = "report")]
#[derive(Debug)]
pub(crate) struct HaltHandle(watch::Sender<bool>);

impl Halt {
    /// A halt and its handle.
    #[cfg(feature = "report")]
    pub(crate) fn new() -> (Self, HaltHandle) {
        let (tx, rx) = watch::channel(false);
        (Self(Some(rx)), HaltHandle(tx))
    }

    /// A halt that is never set.
    pub(crate) fn never() -> Self {
        Self(None)
    }

    /// Whether it is set (or its handle is gone).
    pub(crate) fn is_set(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|rx| *rx.borrow() || rx.has_changed().is_err())
    }

    /// Resolves once it is set (never for [`Halt::never`]).
    pub(crate) async fn wait(&self) {
        match self.0.clone() {
            Some(mut rx) => {
                // an error: the handle is gone, which sets it
                let _ = rx.wait_for(|set| *set).await;
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(feature = "report")]
impl HaltHandle {
    /// Sets the halt.
    pub(crate) fn set(&self) {
        self.0.send_replace(true);
    }
}
