//! The trading state: everything one decision cycle reads and writes.

use crate::learning::{AgentWeights, Lesson};
use crate::reports::{
    AgentReport, DebateTurn, FundamentalReport, MacroReport, PortfolioDecision, RiskAssessment,
    SentimentReport, Stance, TechnicalReport,
};
use crate::snapshot::{ExternalInputs, MarketSnapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Instrument, Timestamp};
use tradegraph_graph::GraphState;

/// One turn of the debate, as recorded in the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebateEntry {
    /// 1-based round.
    pub round: u32,
    /// Who spoke.
    pub stance: Stance,
    /// What they said.
    pub turn: AgentReport<DebateTurn>,
}

/// The state of one decision cycle. Each analyst writes its own field, so the four run in
/// parallel without conflicts; the debate transcript grows by appending; prompt versions merge
/// by agent name.
#[derive(Debug, Clone, Serialize, Deserialize, GraphState)]
pub struct TradingState {
    /// What is traded.
    pub instrument: Instrument,
    /// The decision time: nothing later is visible.
    pub as_of: Timestamp,
    /// Candles, indicators, book and order flow.
    pub market: MarketSnapshot,
    /// News and macro figures.
    pub inputs: ExternalInputs,
    /// The technical analyst's report.
    pub technical: Option<AgentReport<TechnicalReport>>,
    /// The fundamental analyst's report.
    pub fundamental: Option<AgentReport<FundamentalReport>>,
    /// The sentiment analyst's report.
    pub sentiment: Option<AgentReport<SentimentReport>>,
    /// The macro analyst's report.
    pub macro_view: Option<AgentReport<MacroReport>>,
    /// The bull/bear debate, in order.
    #[reducer(append)]
    pub debate: Vec<DebateEntry>,
    /// The risk manager's assessment.
    pub risk: Option<AgentReport<RiskAssessment>>,
    /// The portfolio manager's decision (a proposal until the risk guard has ruled).
    pub decision: Option<AgentReport<PortfolioDecision>>,
    /// The weight of each analyst in the portfolio manager's view, from learning.
    pub weights: AgentWeights,
    /// Lessons from earlier trades in similar situations, given to the agents.
    pub lessons: Vec<Lesson>,
    /// The prompt version each agent used, by agent name.
    #[reducer(merge)]
    pub prompt_versions: BTreeMap<String, String>,
}

impl TradingState {
    /// A fresh cycle.
    pub fn new(instrument: Instrument, market: MarketSnapshot, inputs: ExternalInputs) -> Self {
        Self {
            instrument,
            as_of: market.as_of,
            market,
            inputs,
            technical: None,
            fundamental: None,
            sentiment: None,
            macro_view: None,
            debate: Vec::new(),
            risk: None,
            decision: None,
            weights: AgentWeights::default(),
            lessons: Vec::new(),
            prompt_versions: BTreeMap::new(),
        }
    }

    /// The last turn of one side, if it has spoken.
    pub fn last_turn(&self, stance: Stance) -> Option<&DebateEntry> {
        self.debate.iter().rev().find(|e| e.stance == stance)
    }

    /// Completed debate rounds (both sides spoke).
    pub fn debate_rounds(&self) -> u32 {
        self.debate
            .iter()
            .filter(|e| e.stance == Stance::Bear)
            .map(|e| e.round)
            .max()
            .unwrap_or(0)
    }
}
