//! What an engine runs on, besides its clock, feed and broker.

use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_agents::deadline::DEFAULT_CYCLE_DEADLINE;
use tradegraph_agents::learning::Recall;
use tradegraph_agents::node::{Brain, CustomKinds, Desk};
use tradegraph_agents::{ExternalInputs, TradingState};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Instrument, Timeframe, Timestamp};
use tradegraph_graph::yaml::Registry;
use tradegraph_graph::Checkpointer;
use tradegraph_market::aggregate::EmptyMinutes;
use tradegraph_market::news::{FixtureNews, MacroSource, NewsError, NewsQuery, NewsSource};
use tradegraph_store::Stores;

use super::{Approval, BotEvent};

/// How the engine treats time and state: a backtest or a bot that runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A replay on a simulated clock that starts fresh and keeps nothing: candles close on the
    /// data's own time only.
    Backtest,
    /// A bot that runs on (paper or live, on any feed): its state is restored at start and
    /// saved as it changes; a candle also closes when the market goes quiet past its end.
    Service,
}

/// A bot's configuration (the clock, the feed and the broker are given to the engine apart).
#[derive(Clone)]
pub struct BotConfig {
    /// What is traded.
    pub instrument: Instrument,
    /// The graph, as YAML (the default is `graphs/trading.yaml`).
    pub graph_yaml: String,
    /// Where the YAML came from, for error messages.
    pub graph_origin: String,
    /// Node kinds of your own that [`graph_yaml`](Self::graph_yaml) may name, next to the
    /// built-in ones (see [`with_kinds`](Self::with_kinds)).
    pub kinds: CustomKinds,
    /// A decision cycle runs when a candle of this timeframe closes.
    pub decision_every: Timeframe,
    /// Paper capital (for a fresh paper account).
    pub cash: Decimal,
    /// Prompts, model and rule-mode knobs of the agents.
    pub brain: Brain,
    /// Where the agents' news comes from: asked at each cycle for the 20 latest stories
    /// published by the cycle's time (none unless set; `tradegraph run` and `backtest` set the
    /// bundled fixtures, or a live provider behind a
    /// [`CachedNews`](tradegraph_market::news::CachedNews)).
    pub news: Arc<dyn NewsSource>,
    /// Where the macro figures come from: asked at each cycle for those public by its time
    /// (`None`: the macro analyst has none).
    pub macros: Option<Arc<dyn MacroSource>>,
    /// Candles kept per timeframe in the agents' view.
    pub keep_candles: usize,
    /// The risk guard's limits (DESIGN.md's defaults unless set).
    pub risk_limits: RiskLimits,
    /// Where candles, decisions, trades, the bot's state and order intents go.
    pub stores: Stores,
    /// The oldest verdict whose order may still go out.
    pub max_verdict_age: Duration,
    /// A decision cycle's deadline ([`DEFAULT_CYCLE_DEADLINE`], 30 s, unless set): an agent
    /// whose model has not answered in its share of it answers by its rules
    /// ([`tradegraph_agents::deadline`]). `None`: no deadline (`tradegraph backtest --record`
    /// and `--replay`, so that a record is complete and a replay identical).
    pub cycle_deadline: Option<Duration>,
    /// How many lessons the agents are shown, and how near the cycle's situation each must be
    /// ([`Recall`]: 3 within a distance of 1 unless set; `[bot] lesson_max_distance`).
    pub recall: Recall,
    /// Backtest or service.
    pub mode: Mode,
    /// Where the engine publishes its [`BotEvent`]s (`None`: nowhere, at no cost). The HTTP
    /// service numbers and streams them; any receiver may listen.
    pub events: Option<tokio::sync::broadcast::Sender<BotEvent>>,
    /// Whether entries wait for an operator's approval (service mode only; a backtest never
    /// waits).
    pub approval: Approval,
    /// A live feed with no market data this long while the market is open is reported stale
    /// (the `feed` check fails; `[health] feed_stale_secs`, [`FEED_STALE_AFTER`]).
    pub stale_after: Duration,
    /// No call to the broker answered this long while the market is open: the `broker` check
    /// is degraded ([`HealthConfig::broker_quiet_after`](crate::config::HealthConfig::broker_quiet_after),
    /// 180 s by default: the engine reads the account at each closed minute).
    pub broker_quiet_after: Duration,
    /// The paper broker's cost table, slippage and fill timing (`[paper]`; the venue's fees,
    /// 2 bp, next-open fills in a backtest unless set).
    pub execution: crate::backtest::execution::ExecutionSettings,
    /// Where the decision graph keeps each cycle's supersteps (`None`: nowhere). With one, a
    /// cycle cut short (its process killed, its instrument taken over by another worker) goes
    /// on from its newest checkpoint at the next start instead of running again from the top,
    /// and the checkpoints of a finished cycle are deleted. The engine writes a cycle's market
    /// view once per cycle and keeps superstep checkpoints only, best effort (see
    /// `engine::checkpoints`). `tradegraph worker` sets the Redis one. Not with entries waiting
    /// for approval (their paused runs are kept in the bot's state).
    pub checkpoints: Option<Arc<dyn Checkpointer<TradingState>>>,
    /// Whether the engine writes the market data it sees (ticks, the latest price, candles) to
    /// the hot cache and the history (`true`). A worker's engine does not: the process that
    /// ingests the feed wrote them before it published the cycle.
    pub writes_market: bool,
    /// The agents' view is warmed up at start from the hot cache's candles that closed by this
    /// time only (`None`: all of them). A worker's engine starts at a job, and the ingesting
    /// process may already have cached the candles of later ones.
    pub warm_up_until: Option<Timestamp>,
    /// Whether the feed's silence on the wall clock means something (`true`): a candle closes
    /// when the market goes quiet past its end, and a silent feed is reported stale. A
    /// worker's engine is fed by jobs, whose candles close on the exchange's time alone, and
    /// whose gaps are the ingesting process's to report.
    pub watches_feed: bool,
    /// What the engine's candle aggregator makes of a minute no data came for:
    /// [`EmptyMinutes::Fill`] (a flat minute at the last close, as exchanges chart a quiet
    /// minute) for a bot on its own feed. A worker's engine skips them
    /// ([`EmptyMinutes::Skip`]): the ingesting process filled the quiet minutes in its jobs,
    /// so a minute missing from them is a gap in its feed, which no price filled.
    pub empty_minutes: EmptyMinutes,
    /// Whether a cycle whose state cannot be saved (the store away, the logs not durable in
    /// time) stops the engine with [`EngineError::Unsaved`](super::EngineError::Unsaved)
    /// (`false`: it is logged and saved with the next change, the bot goes on). A worker sets
    /// it: the job is acknowledged once the engine is done with it, so the state must be saved
    /// by then, or the job delivered again.
    pub strict_saves: bool,
    /// This bot's claim on its instrument in the state store (service mode): a second instance
    /// is refused while the first renews its claim, and one that finds its claim taken over
    /// stops (see the [`instance`](super::instance) module). Off by default (a state file is
    /// locked by the operating system, memory is one process's); `tradegraph run` with a Redis
    /// or MongoDB state store claims before it connects a venue's broker, with `[bot]
    /// instance_lease_secs` ([`INSTANCE_LEASE`](super::INSTANCE_LEASE) by default), and hands
    /// the claim over ([`InstanceClaiming::Held`](super::InstanceClaiming::Held)), releasing it
    /// itself after its last writes (the engine releases only a claim it took). A start after
    /// a crash waits one lease, unless the crashed process is known gone (same host and
    /// process-id namespace).
    pub instance: super::InstanceClaiming,
}

/// The default of [`BotConfig::stale_after`] and `[health] feed_stale_secs`: 60 s.
pub const FEED_STALE_AFTER: Duration = Duration::from_secs(60);

impl BotConfig {
    /// A configuration with the defaults: 15-minute decisions, 50 candles, the default limits,
    /// a one-minute verdict age, in-memory stores, no news.
    pub fn new(instrument: Instrument, brain: Brain, cash: Decimal, mode: Mode) -> Self {
        Self {
            instrument,
            graph_yaml: tradegraph_agents::node::DEFAULT_GRAPH.to_owned(),
            graph_origin: "graphs/trading.yaml".into(),
            kinds: CustomKinds::new(),
            decision_every: Timeframe::M15,
            cash,
            brain,
            news: Arc::new(FixtureNews::from_items(Vec::new())),
            macros: None,
            keep_candles: 50,
            risk_limits: RiskLimits::default(),
            stores: Stores::memory(),
            max_verdict_age: Duration::from_secs(60),
            cycle_deadline: Some(DEFAULT_CYCLE_DEADLINE),
            recall: Recall::default(),
            mode,
            events: None,
            approval: Approval::None,
            stale_after: FEED_STALE_AFTER,
            broker_quiet_after: Duration::from_secs(180),
            execution: crate::backtest::execution::ExecutionSettings::default(),
            checkpoints: None,
            writes_market: true,
            warm_up_until: None,
            watches_feed: true,
            empty_minutes: EmptyMinutes::Fill,
            strict_saves: false,
            instance: super::InstanceClaiming::Off,
        }
    }

    /// Adds node kinds of your own: `add` registers them when the engine compiles the graph,
    /// given the [`Brain`] (the configured model, prompts and rules, with the decision
    /// timeframe) and the [`Desk`] (broker, guard, learner, market view) its nodes share. A
    /// kind with the name of a built-in kind stops [`Engine::start`](super::Engine::start)
    /// with [`AgentError::KindTaken`](tradegraph_agents::AgentError::KindTaken). The guide
    /// [write your own agent](crate::guide::agent) runs one in a backtest.
    #[must_use]
    pub fn with_kinds(
        mut self,
        add: impl Fn(&mut Registry<TradingState>, &Brain, &Desk) + Send + Sync + 'static,
    ) -> Self {
        self.kinds = self.kinds.with(add);
        self
    }

    /// The 20 latest stories published by `as_of` (newest first) and the macro figures public
    /// by then. A source that fails is logged and the cycle goes on without what it would have
    /// given; a macro source with nothing that early gives nothing.
    pub async fn inputs_at(&self, as_of: Timestamp) -> ExternalInputs {
        let query = NewsQuery::new().as_of(as_of).limit(20);
        let macros = async {
            match &self.macros {
                None => None,
                Some(source) => Some(source.snapshot(as_of).await),
            }
        };
        // Both at once: a cycle waits for the slower, not for the sum.
        let (news, macro_snapshot) = tokio::join!(self.news.latest(&query), macros);
        let news = match news {
            Ok(news) => news,
            Err(e) => {
                tracing::warn!(symbol = %self.instrument.symbol, error = %e, "news unavailable: this cycle's agents read none");
                Vec::new()
            }
        };
        let macro_snapshot = match macro_snapshot {
            None | Some(Err(NewsError::NoSnapshot { .. })) => None,
            Some(Ok(snapshot)) => Some(snapshot).filter(|s| s.as_of <= as_of),
            Some(Err(e)) => {
                tracing::warn!(symbol = %self.instrument.symbol, error = %e, "macro figures unavailable: this cycle's agents read none");
                None
            }
        };
        ExternalInputs {
            news,
            macro_snapshot,
        }
    }
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("instrument", &self.instrument.symbol)
            .field("decision_every", &self.decision_every)
            .field("cash", &self.cash)
            .field("mode", &self.mode)
            .field("approval", &self.approval)
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}
