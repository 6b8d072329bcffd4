//! The trading state: everything one decision cycle reads and writes.

use crate::book::Book;
use crate::learning::{AdoptedAmendment, AgentWeights, Lesson, PromptRef, Situation, TradeOutcome};
use crate::reports::{
    AgentMode, AgentReport, DebateTurn, FundamentalReport, MacroReport, PortfolioDecision,
    RiskAssessment, SentimentReport, Signal, Stance, TechnicalReport,
};
use crate::snapshot::{ExternalInputs, MarketSnapshot};
use crate::AgentName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::order::{ClientOrderId, Fill, Order};
use tradegraph_core::position::Account;
use tradegraph_core::risk::{Finding, GuardState, Verdict};
use tradegraph_core::{Instrument, Timeframe, Timestamp};
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
    /// The account when the cycle started (cash, equity, open positions, the day's P&L).
    pub account: Option<Account>,
    /// The rest of the book when the cycle started: the instrument's working orders and what
    /// the risk guard allows now. `None` outside a bot (a bare graph run).
    #[serde(default)]
    pub book: Option<Book>,
    /// The risk guard's ruling on the decision, with every clamp and rejection and its reason.
    pub verdict: Option<Verdict>,
    /// The risk guard's state once it ruled (what it latched: a circuit-breaker trip, the
    /// daily halt). The bot saves the guard after each cycle; a run continued from its
    /// checkpoint after a crash hands this back, so a latch set before the crash holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardState>,
    /// Orders the execution agent submitted this cycle.
    #[reducer(append)]
    pub orders: Vec<Order>,
    /// Fills of those orders (a market order fills at once on the paper broker).
    #[reducer(append)]
    pub fills: Vec<Fill>,
    /// The weight of each analyst in the portfolio manager's view, from learning.
    pub weights: AgentWeights,
    /// Lessons from earlier trades in similar situations, given to the agents.
    pub lessons: Vec<Lesson>,
    /// The prompt version each agent used, by agent name.
    #[reducer(merge)]
    pub prompt_versions: BTreeMap<AgentName, String>,
    /// The amendments the agents' prompts carry this cycle (the learner's adopted prompt
    /// versions), appended to their system messages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub amendments: BTreeMap<AgentName, AdoptedAmendment>,
    /// The prompts the agents' models were sent this cycle, by their
    /// [`hash`](crate::prompt::RenderedPrompt::hash), which each report's
    /// [`Exchange`](crate::reports::Exchange) names (empty in rule mode).
    #[reducer(merge)]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<String, crate::prompt::RenderedPrompt>,
    /// Trades the trade ledger closed since the previous cycle (from the broker's fills), for
    /// the learning agent to judge.
    #[serde(default)]
    pub closed_trades: Vec<TradeOutcome>,
    /// Lessons the learning agent wrote this cycle (every one is saved to the lesson log).
    #[reducer(append)]
    #[serde(default)]
    pub new_lessons: Vec<Lesson>,
    /// Why the execution agent refused to send the verdict's order: the guard's re-check on
    /// the market as it was when the order was about to go out.
    #[serde(default)]
    pub refusal: Option<Finding>,
    /// The order a run of this cycle before a restart had already placed: this run asked for
    /// it again (sized on the account as it is now) and the journal answered with that first
    /// order, sending nothing. The cycle's verdict is this run's, its order the first run's.
    #[serde(default)]
    pub placed_earlier: Option<ClientOrderId>,
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
            account: None,
            book: None,
            verdict: None,
            guard: None,
            orders: Vec::new(),
            fills: Vec::new(),
            weights: AgentWeights::default(),
            lessons: Vec::new(),
            prompt_versions: BTreeMap::new(),
            amendments: BTreeMap::new(),
            prompts: BTreeMap::new(),
            closed_trades: Vec::new(),
            new_lessons: Vec::new(),
            refusal: None,
            placed_earlier: None,
        }
    }

    /// The last turn of one side, if it has spoken.
    pub fn last_turn(&self, stance: Stance) -> Option<&DebateEntry> {
        self.debate.iter().rev().find(|e| e.stance == stance)
    }

    /// Each analyst's signal, from the reports written so far.
    pub fn analyst_signals(&self) -> BTreeMap<AgentName, Signal> {
        let mut out = BTreeMap::new();
        if let Some(r) = &self.technical {
            out.insert(AgentName::Technical, r.report.signal);
        }
        if let Some(r) = &self.fundamental {
            out.insert(AgentName::Fundamental, r.report.signal);
        }
        if let Some(r) = &self.sentiment {
            out.insert(AgentName::Sentiment, r.report.signal());
        }
        if let Some(r) = &self.macro_view {
            out.insert(AgentName::Macro, r.report.signal());
        }
        out
    }

    /// The prompt each analyst made its call with, from the reports written so far: only the
    /// reports a model wrote (a report the rules wrote after the model failed says nothing of
    /// the prompt).
    pub fn analyst_prompts(&self) -> BTreeMap<AgentName, PromptRef> {
        fn of<T>(r: &crate::reports::AgentReport<T>) -> Option<PromptRef> {
            match (&r.mode, &r.exchange) {
                (crate::reports::AgentMode::Llm { .. }, Some(exchange)) => Some(PromptRef {
                    version: r.prompt_version.clone(),
                    hash: Some(exchange.prompt_hash.clone()),
                }),
                _ => None,
            }
        }
        [
            (AgentName::Technical, self.technical.as_ref().and_then(of)),
            (
                AgentName::Fundamental,
                self.fundamental.as_ref().and_then(of),
            ),
            (AgentName::Sentiment, self.sentiment.as_ref().and_then(of)),
            (AgentName::Macro, self.macro_view.as_ref().and_then(of)),
        ]
        .into_iter()
        .filter_map(|(agent, used)| used.map(|u| (agent, u)))
        .collect()
    }

    /// The version of `agent`'s prompt this cycle: the template's `version`, with the
    /// adopted amendment's number when the prompt carries one (`technical@00ff+v2`).
    pub fn prompt_version_of(&self, agent: AgentName, version: &str) -> String {
        match self.amendments.get(&agent) {
            Some(amendment) => amendment.version_of(version),
            None => version.to_owned(),
        }
    }

    /// The market situation, for lessons: RSI, trend against the SMA, ATR in percent of the
    /// price (decision timeframe `15min`, else `1min`), and the news sentiment.
    pub fn situation(&self) -> Situation {
        let ind = self
            .market
            .indicators(Timeframe::M15)
            .or_else(|| self.market.indicators(Timeframe::M1));
        let price = self.market.price_f64();
        let pct = |x: Option<f64>| x.filter(|v| v.is_finite()).unwrap_or(0.0);
        Situation {
            rsi: ind
                .and_then(|i| i.rsi)
                .filter(|v| v.is_finite())
                .unwrap_or(50.0),
            trend_pct: pct(ind
                .and_then(|i| i.sma)
                .map(|sma| 100.0 * (price - sma) / sma)),
            volatility_pct: pct(ind.and_then(|i| i.atr).map(|atr| 100.0 * atr / price)),
            sentiment: pct(self.sentiment.as_ref().map(|s| s.report.score)),
        }
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

    /// How each report of the cycle so far was produced, with its agent's name: the analysts,
    /// the risk manager and the portfolio manager in graph order, then every debate turn.
    ///
    /// ```
    /// use tradegraph_agents::{fixture, AgentName};
    /// use tradegraph_core::Instrument;
    ///
    /// let state = fixture::state(&Instrument::btc_usdt())?;
    /// let modes = state.report_modes();
    /// assert_eq!(modes[0].0, AgentName::Technical);
    /// assert!(modes.iter().all(|(_, mode)| mode.is_rule()));
    /// # Ok::<(), tradegraph_agents::AgentError>(())
    /// ```
    pub fn report_modes(&self) -> Vec<(AgentName, &AgentMode)> {
        fn mode<T>(report: &Option<AgentReport<T>>) -> Option<&AgentMode> {
            report.as_ref().map(|r| &r.mode)
        }
        let reports = [
            (AgentName::Technical, mode(&self.technical)),
            (AgentName::Fundamental, mode(&self.fundamental)),
            (AgentName::Sentiment, mode(&self.sentiment)),
            (AgentName::Macro, mode(&self.macro_view)),
            (AgentName::RiskManager, mode(&self.risk)),
            (AgentName::PortfolioManager, mode(&self.decision)),
        ];
        let turns = self.debate.iter().map(|entry| {
            let agent = match entry.stance {
                Stance::Bull => AgentName::Bull,
                Stance::Bear => AgentName::Bear,
            };
            (agent, &entry.turn.mode)
        });
        reports
            .into_iter()
            .filter_map(|(agent, mode)| mode.map(|m| (agent, m)))
            .chain(turns)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use crate::reports::RuleReason;
    use tradegraph_core::Instrument;

    #[test]
    fn only_reports_a_model_wrote_name_the_prompt_their_calls_are_judged_on() {
        let mut state = fixture::state(&Instrument::btc_usdt()).unwrap();
        assert!(state.analyst_prompts().is_empty(), "rules throughout");
        let exchange = || {
            Some(Box::new(crate::reports::Exchange {
                prompt_hash: "sha256:aa".into(),
                answer: Some("{}".into()),
            }))
        };
        let technical = state.technical.as_mut().unwrap();
        technical.mode = AgentMode::Llm {
            provider: "openai".into(),
            model: "m".into(),
            spend: None,
        };
        technical.exchange = exchange();
        technical.prompt_version = "technical@01".into();
        // The model's answer broke the schema: rules wrote the report, after the prompt was sent.
        let sentiment = state.sentiment.as_mut().unwrap();
        sentiment.mode = AgentMode::Rule {
            reason: RuleReason::ModelFailed("outside the schema".into()),
        };
        sentiment.exchange = exchange();
        let prompts = state.analyst_prompts();
        assert_eq!(
            prompts.keys().copied().collect::<Vec<_>>(),
            [AgentName::Technical]
        );
        assert_eq!(
            prompts[&AgentName::Technical],
            PromptRef {
                version: "technical@01".into(),
                hash: Some("sha256:aa".into())
            }
        );
    }

    #[test]
    fn report_modes_lists_every_report_written_and_only_those() {
        let mut state = fixture::state(&Instrument::btc_usdt()).unwrap();
        let agents: Vec<AgentName> = state.report_modes().iter().map(|(a, _)| *a).collect();
        assert_eq!(
            agents,
            [
                AgentName::Technical,
                AgentName::Fundamental,
                AgentName::Sentiment,
                AgentName::Macro,
                AgentName::RiskManager,
                AgentName::PortfolioManager,
                AgentName::Bull,
                AgentName::Bear,
            ]
        );
        state.fundamental = None;
        if let Some(r) = state.risk.as_mut() {
            r.mode = AgentMode::Rule {
                reason: RuleReason::ModelFailed("timeout".into()),
            };
        }
        let modes = state.report_modes();
        assert!(modes.iter().all(|(a, _)| *a != AgentName::Fundamental));
        let fallbacks: Vec<AgentName> = modes
            .iter()
            .filter(|(_, m)| m.is_fallback())
            .map(|(a, _)| *a)
            .collect();
        assert_eq!(fallbacks, [AgentName::RiskManager]);
    }
}
