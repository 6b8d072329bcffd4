//! What a run saw and decided, recorded as it goes: the bars (first, last, how many), one line
//! of `decisions.jsonl` per decision cycle, each agent's reports and signals, the prompt versions.

use super::ReportError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tradegraph_agents::learning::Lesson;
use tradegraph_agents::reports::{
    AgentReport, FundamentalReport, MacroReport, PortfolioDecision, RiskAssessment,
    SentimentReport, Signal, TechnicalReport,
};
use tradegraph_agents::{AgentName, DebateEntry, TradingState};
use tradegraph_core::order::Order;
use tradegraph_core::position::Account;
use tradegraph_core::risk::{Finding, Verdict};
use tradegraph_core::Timestamp;
use tradegraph_market::MarketEvent;

/// The file of one line per decision cycle.
pub const DECISIONS_FILE: &str = "decisions.jsonl";

/// The file of the prompts the models were sent, one line per distinct text (a
/// [`PromptRecord`](tradegraph_store::PromptRecord), as the prompt log stores it: `prompt_hash`,
/// `instrument`, `agent`, `prompt_version`, `system`, `user`, and the `timestamp` of the first
/// decision that used it), which `decisions.jsonl`'s reports name by `exchange.prompt_hash`.
/// Empty in rule mode.
pub const PROMPTS_FILE: &str = "prompts.jsonl";

/// One bar of the data: when it opened and its prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarPoint {
    /// The bar's open time.
    pub ts: Timestamp,
    /// First price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
}

/// The bars a run was given: how many, the first and the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSpan {
    /// Closed candles the engine was given.
    pub bars: u64,
    /// The first of them.
    pub first: Option<BarPoint>,
    /// The last of them.
    pub last: Option<BarPoint>,
}

impl DataSpan {
    /// Counts `event` when it is a closed candle (the feed adapter calls this for every event
    /// it passes on).
    ///
    /// ```
    /// use tradegraph::backtest::report::DataSpan;
    /// use tradegraph::core::Timeframe;
    /// use tradegraph::market::feed::replay::LineParser;
    /// let parser = LineParser::csv("timestamp,open,high,low,close,volume", "BTCUSDT".into(), Timeframe::M1)?;
    /// let mut span = DataSpan::default();
    /// for line in ["2024-01-01T00:00:00Z,10,11,9,10.5,1", "2024-01-01T00:01:00Z,10.5,12,10,11,1"] {
    ///     span.observe(&parser.parse(line)?);
    /// }
    /// assert_eq!(span.bars, 2);
    /// assert_eq!(span.first.map(|b| b.open.to_string()), Some("10".to_owned()));
    /// assert_eq!(span.last.map(|b| b.close.to_string()), Some("11".to_owned()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe(&mut self, event: &MarketEvent) {
        if let MarketEvent::Candle {
            candle,
            closed: true,
            ..
        } = event
        {
            let bar = BarPoint {
                ts: candle.open_time,
                open: candle.open,
                high: candle.high,
                low: candle.low,
                close: candle.close,
            };
            self.bars += 1;
            self.first.get_or_insert(bar);
            self.last = Some(bar);
        }
    }
}

/// One line of `decisions.jsonl`: a cycle's price and account, its reports, the guard's
/// verdict, the orders and the lessons learned, borrowed from the cycle's state (written as
/// the run goes; [`DecisionRecord`] reads a line back). A backtest stops at a failed cycle, so
/// the cycles are numbered without gaps.
#[derive(Debug, Serialize)]
pub struct Decision<'a> {
    /// The cycle's number in the run, from 1.
    pub cycle: u64,
    /// The decision time.
    pub as_of: Timestamp,
    /// The price the cycle decided at.
    pub price: Decimal,
    /// The account at the cycle's start: cash, equity and positions (did a sell close a long
    /// or open a short?).
    pub account: &'a Option<Account>,
    /// The technical analyst's report.
    pub technical: &'a Option<AgentReport<TechnicalReport>>,
    /// The fundamental analyst's report.
    pub fundamental: &'a Option<AgentReport<FundamentalReport>>,
    /// The sentiment analyst's report.
    pub sentiment: &'a Option<AgentReport<SentimentReport>>,
    /// The macro analyst's report.
    pub macro_view: &'a Option<AgentReport<MacroReport>>,
    /// The bull/bear debate.
    pub debate: &'a [DebateEntry],
    /// The risk manager's assessment.
    pub risk: &'a Option<AgentReport<RiskAssessment>>,
    /// The portfolio manager's decision.
    pub decision: &'a Option<AgentReport<PortfolioDecision>>,
    /// The risk guard's verdict.
    pub verdict: &'a Option<Verdict>,
    /// Why the execution agent refused to send the order, if it did.
    pub refusal: &'a Option<Finding>,
    /// The orders submitted.
    pub orders: &'a [Order],
    /// The lessons the learner drew from the trades closed in the cycle.
    pub new_lessons: &'a [Lesson],
}

impl<'a> Decision<'a> {
    /// The record of cycle `cycle` (from 1) whose final state is `state`.
    pub fn of(cycle: u64, state: &'a TradingState) -> Self {
        Self {
            cycle,
            as_of: state.as_of,
            price: state.market.price,
            account: &state.account,
            technical: &state.technical,
            fundamental: &state.fundamental,
            sentiment: &state.sentiment,
            macro_view: &state.macro_view,
            debate: &state.debate,
            risk: &state.risk,
            decision: &state.decision,
            verdict: &state.verdict,
            refusal: &state.refusal,
            orders: &state.orders,
            new_lessons: &state.new_lessons,
        }
    }
}

/// A line of `decisions.jsonl` read back: [`Decision`]'s fields, owned.
///
/// ```
/// use tradegraph::backtest::report::{Decision, DecisionRecord};
/// use tradegraph::agents::TradingState;
/// # fn demo(state: &TradingState) -> Result<(), serde_json::Error> {
/// let line = serde_json::to_string(&Decision::of(1, state))?;
/// let back: DecisionRecord = serde_json::from_str(&line)?;
/// assert_eq!(back.cycle, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecisionRecord {
    /// The cycle's number in the run, from 1.
    pub cycle: u64,
    /// The decision time.
    pub as_of: Timestamp,
    /// The price the cycle decided at.
    pub price: Decimal,
    /// The account at the cycle's start.
    pub account: Option<Account>,
    /// The technical analyst's report.
    pub technical: Option<AgentReport<TechnicalReport>>,
    /// The fundamental analyst's report.
    pub fundamental: Option<AgentReport<FundamentalReport>>,
    /// The sentiment analyst's report.
    pub sentiment: Option<AgentReport<SentimentReport>>,
    /// The macro analyst's report.
    pub macro_view: Option<AgentReport<MacroReport>>,
    /// The bull/bear debate.
    pub debate: Vec<DebateEntry>,
    /// The risk manager's assessment.
    pub risk: Option<AgentReport<RiskAssessment>>,
    /// The portfolio manager's decision.
    pub decision: Option<AgentReport<PortfolioDecision>>,
    /// The risk guard's verdict.
    pub verdict: Option<Verdict>,
    /// Why the execution agent refused to send the order, if it did.
    pub refusal: Option<Finding>,
    /// The orders submitted.
    pub orders: Vec<Order>,
    /// The lessons learned in the cycle.
    pub new_lessons: Vec<Lesson>,
}

/// One agent over the run: its reports, how they were made, its signals and (analysts) how often
/// the trades it called went its way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStats {
    /// Reports written.
    pub reports: u64,
    /// Reports a model wrote.
    pub by_model: u64,
    /// Reports rules wrote.
    pub by_rules: u64,
    /// Reports where a model was asked and rules took over.
    pub fallbacks: u64,
    /// Buy signals (analysts).
    pub buy: u64,
    /// Sell signals (analysts).
    pub sell: u64,
    /// Hold signals (analysts).
    pub hold: u64,
    /// Closed trades the analyst took a side on (buy or sell) in the cycle that opened them.
    pub judged: u64,
    /// Of those, the ones that went its way (the learning agent's rule: a long that made money
    /// or a short that lost was a rise).
    pub hits: u64,
    /// Hits per judged trade, `null` before any.
    pub hit_rate: Option<f64>,
}

impl AgentStats {
    /// Counts a closed trade the agent took a side on, `hit` when it went its way.
    pub fn judge(&mut self, hit: bool) {
        self.judged += 1;
        if hit {
            self.hits += 1;
        }
        self.hit_rate = Some(self.hits as f64 / self.judged as f64);
    }
}

/// Writes `decisions.jsonl` as the cycles finish and tallies the agents.
#[derive(Debug)]
pub struct Recorder {
    decisions: Lines,
    cycles: u64,
    failed: Option<ReportError>,
    agents: BTreeMap<AgentName, AgentStats>,
    prompt_versions: BTreeMap<AgentName, String>,
    prompts: Lines,
    prompts_seen: std::collections::HashSet<String>,
}

/// A JSON Lines file being written.
#[derive(Debug)]
struct Lines {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
}

impl Lines {
    fn create(path: PathBuf, capacity: usize) -> Result<Self, ReportError> {
        let file = std::fs::File::create(&path)
            .map_err(|e| ReportError::io(&path, "creating the file failed", e))?;
        Ok(Self {
            path,
            out: BufWriter::with_capacity(capacity, file),
        })
    }

    fn write<T: Serialize>(&mut self, line: &T) -> Result<(), ReportError> {
        serde_json::to_writer(&mut self.out, line)
            .map_err(|source| ReportError::Json {
                path: self.path.clone(),
                source,
            })
            .and_then(|()| {
                self.out
                    .write_all(b"\n")
                    .map_err(|e| ReportError::io(&self.path, "writing a line failed", e))
            })
    }

    fn flush(&mut self) -> Result<(), ReportError> {
        self.out
            .flush()
            .map_err(|e| ReportError::io(&self.path, "writing the file failed", e))
    }
}

/// What the [`Recorder`] gathered over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLog {
    /// Cycles recorded (lines of `decisions.jsonl`).
    pub cycles: u64,
    /// Each agent's tally (hit rates filled by [`Report::new`](super::Report::new)).
    pub agents: BTreeMap<AgentName, AgentStats>,
    /// The prompt version each agent used (the last seen).
    pub prompt_versions: BTreeMap<AgentName, String>,
}

impl Recorder {
    /// Creates `dir` (and its parents) and `decisions.jsonl` in it, before the run starts, so
    /// an output folder that cannot be written is found at once.
    ///
    /// # Errors
    /// [`ReportError::Io`] naming the folder or the file.
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ReportError::io(dir, "creating the report folder failed", e))?;
        Ok(Self {
            // a year of cycles is ~100 MiB: large writes, few system calls
            decisions: Lines::create(dir.join(DECISIONS_FILE), 1 << 20)?,
            cycles: 0,
            failed: None,
            agents: BTreeMap::new(),
            prompt_versions: BTreeMap::new(),
            prompts: Lines::create(dir.join(PROMPTS_FILE), 1 << 16)?,
            prompts_seen: std::collections::HashSet::new(),
        })
    }

    /// The report's folder.
    pub fn dir(&self) -> &Path {
        self.decisions.path.parent().unwrap_or(Path::new("."))
    }

    /// Records a finished cycle: its line, its agents' reports and signals. The first write
    /// error is kept for [`Self::finish`]; the run goes on.
    pub fn observe(&mut self, state: &TradingState) {
        self.cycles += 1;
        for (agent, mode) in state.report_modes() {
            let stats = self.agents.entry(agent).or_default();
            stats.reports += 1;
            if mode.is_rule() {
                stats.by_rules += 1;
            } else {
                stats.by_model += 1;
            }
            if mode.is_fallback() {
                stats.fallbacks += 1;
            }
        }
        for (agent, signal) in state.analyst_signals() {
            let stats = self.agents.entry(agent).or_default();
            match signal {
                Signal::Buy => stats.buy += 1,
                Signal::Sell => stats.sell += 1,
                Signal::Hold => stats.hold += 1,
            }
        }
        for (agent, version) in &state.prompt_versions {
            if self.prompt_versions.get(agent) != Some(version) {
                self.prompt_versions.insert(*agent, version.clone());
            }
        }
        if self.failed.is_some() {
            return;
        }
        let mut written = self.decisions.write(&Decision::of(self.cycles, state));
        for (hash, prompt) in &state.prompts {
            if written.is_ok() && self.prompts_seen.insert(hash.clone()) {
                written = self.prompts.write(&tradegraph_store::PromptRecord::new(
                    hash.clone(),
                    state.instrument.symbol.clone(),
                    prompt.agent.as_str(),
                    prompt.version.clone(),
                    prompt.system.clone(),
                    prompt.user.clone(),
                    state.as_of,
                ));
            }
        }
        if let Err(e) = written {
            self.failed = Some(e);
        }
    }

    /// Flushes `decisions.jsonl` and hands back the tallies.
    ///
    /// # Errors
    /// The first write error of the run, or the flush's.
    pub fn finish(mut self) -> Result<RunLog, ReportError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.decisions.flush()?;
        self.prompts.flush()?;
        Ok(RunLog {
            cycles: self.cycles,
            agents: self.agents,
            prompt_versions: self.prompt_versions,
        })
    }
}
