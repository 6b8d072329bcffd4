//! What the templates see.

use crate::learning::Lesson;
use crate::reports::{
    DebateTurn, FundamentalReport, LessonDraft, MacroReport, PortfolioDecision, RiskAssessment,
    SentimentReport, Stance, TechnicalReport,
};
use crate::{AgentName, TradingState};
use schemars::JsonSchema;
use serde::Serialize;
use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{OnceLock, RwLock};
use tradegraph_core::{Candle, OrderFlow, Segment, Timeframe};
use tradegraph_market::indicators::IndicatorValues;
use tradegraph_market::news::MacroSnapshot;

/// The instrument as the prompt describes it.
#[derive(Debug, Clone, Serialize)]
pub struct InstrumentView {
    /// `BTCUSDT`, `BANKNIFTY`, `NIFTY50`.
    pub symbol: String,
    /// `crypto` or `indian_index`: templates branch on it.
    pub kind: &'static str,
    /// A readable name.
    pub name: String,
    /// Quote currency.
    pub currency: String,
    /// When it trades.
    pub session: &'static str,
    /// Lot size.
    pub lot_size: String,
}

/// A candle, as text.
#[derive(Debug, Clone, Serialize)]
pub struct CandleView {
    /// Open time.
    pub time: String,
    /// Open, high, low, close and volume, exact.
    pub ohlcv: [String; 5],
}

/// A news item as data: only what the agents need, already defused by the template's filter.
#[derive(Debug, Clone, Serialize)]
pub struct NewsView {
    /// Publication time.
    pub published: String,
    /// Outlet.
    pub source: String,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
}

/// A debate turn, flattened for the template.
#[derive(Debug, Clone, Serialize)]
pub struct DebateView {
    /// Round.
    pub round: u32,
    /// `bull` or `bear`.
    pub stance: Stance,
    /// The case.
    pub argument: String,
    /// Its points.
    pub points: Vec<String>,
    /// The answer to the other side.
    pub rebuttal: String,
    /// Conviction, 0..1.
    pub conviction: f64,
}

/// Everything a template can use. Built by [`PromptContext::new`] from the state.
#[derive(Debug, Clone, Serialize)]
pub struct PromptContext {
    /// The agent the prompt is for.
    pub agent: AgentName,
    /// The instrument.
    pub instrument: InstrumentView,
    /// Decision time, RFC 3339.
    pub as_of: String,
    /// Last price.
    pub price: String,
    /// Decision timeframe.
    pub timeframe: Timeframe,
    /// Indicators of the decision timeframe.
    pub indicators: Option<IndicatorValues>,
    /// The last candles of the decision timeframe, oldest first.
    pub candles: Vec<CandleView>,
    /// The last daily candles, oldest first.
    pub daily: Vec<CandleView>,
    /// Order flow.
    pub flow: Option<OrderFlow>,
    /// News, newest first, published by the decision time.
    pub news: Vec<NewsView>,
    /// Macro figures.
    pub macro_snapshot: Option<MacroSnapshot>,
    /// Reports so far.
    pub technical: Option<TechnicalReport>,
    /// Reports so far.
    pub fundamental: Option<FundamentalReport>,
    /// Reports so far.
    pub sentiment: Option<SentimentReport>,
    /// Reports so far.
    pub macro_view: Option<MacroReport>,
    /// Reports so far.
    pub risk: Option<RiskAssessment>,
    /// The debate so far.
    pub debate: Vec<DebateView>,
    /// The current debate round (1-based; 0 outside the debate).
    pub round: u32,
    /// Lessons from similar situations.
    pub lessons: Vec<Lesson>,
    /// Analyst weights.
    pub weights: BTreeMap<AgentName, f64>,
    /// The JSON Schema the answer must follow, pretty-printed.
    pub schema: String,
}

impl PromptContext {
    /// The context for `agent`, whose answer has type `Output`, in debate round `round` (0
    /// outside the debate).
    pub fn new<Output: JsonSchema + 'static>(
        agent: AgentName,
        state: &TradingState,
        timeframe: Timeframe,
        round: u32,
    ) -> Self {
        Self::with_schema(agent, state, timeframe, round, schema_text::<Output>())
    }

    /// The context for `agent` with the answer's schema already rendered.
    fn with_schema(
        agent: AgentName,
        state: &TradingState,
        timeframe: Timeframe,
        round: u32,
        schema: String,
    ) -> Self {
        Self {
            agent,
            instrument: instrument_view(state),
            as_of: state.as_of.to_string(),
            price: state.market.price.to_string(),
            timeframe,
            indicators: state.market.indicators(timeframe).copied(),
            candles: candle_views(state.market.candles(timeframe), 12),
            daily: candle_views(state.market.candles(Timeframe::D1), 10),
            flow: state.market.flow.clone(),
            news: state
                .inputs
                .news
                .iter()
                .filter(|n| n.published <= state.as_of)
                .take(12)
                .map(|n| NewsView {
                    published: n.published.to_string(),
                    source: n.source.clone(),
                    headline: n.headline.clone(),
                    summary: n.summary.clone(),
                })
                .collect(),
            macro_snapshot: state
                .inputs
                .macro_snapshot
                .clone()
                .filter(|m| m.as_of <= state.as_of),
            technical: state.technical.as_ref().map(|r| r.report.clone()),
            fundamental: state.fundamental.as_ref().map(|r| r.report.clone()),
            sentiment: state.sentiment.as_ref().map(|r| r.report.clone()),
            macro_view: state.macro_view.as_ref().map(|r| r.report.clone()),
            risk: state.risk.as_ref().map(|r| r.report.clone()),
            debate: state
                .debate
                .iter()
                .map(|e| DebateView {
                    round: e.round,
                    stance: e.stance,
                    argument: e.turn.report.argument.clone(),
                    points: e.turn.report.points.clone(),
                    rebuttal: e.turn.report.rebuttal.clone(),
                    conviction: e.turn.report.conviction,
                })
                .collect(),
            round,
            lessons: state.lessons.clone(),
            weights: state.weights.analyst_weights(),
            schema,
        }
    }
}

impl PromptContext {
    /// The context for `agent` with the schema of that agent's report; `None` for execution,
    /// which is deterministic code and asks no model.
    pub fn for_agent(
        agent: AgentName,
        state: &TradingState,
        timeframe: Timeframe,
        round: u32,
    ) -> Option<Self> {
        output_schema(agent).map(|schema| Self::with_schema(agent, state, timeframe, round, schema))
    }
}

/// The JSON Schema of `Output`, pretty-printed as the prompts show it. Every prompt shows its
/// answer's schema, so the text is made once per type and copied from then on.
fn schema_text<Output: JsonSchema + 'static>() -> String {
    static TEXTS: OnceLock<RwLock<HashMap<TypeId, String>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(Default::default);
    let id = TypeId::of::<Output>();
    if let Some(text) = texts.read().ok().and_then(|t| t.get(&id).cloned()) {
        return text;
    }
    let text = render_schema::<Output>();
    if let Ok(mut t) = texts.write() {
        t.insert(id, text.clone());
    }
    text
}

/// The JSON Schema of `Output`, pretty-printed, made afresh.
fn render_schema<Output: JsonSchema>() -> String {
    // Keys sorted at every level, whatever `serde_json` features the build unifies (bson
    // turns on `preserve_order`), so the prompt and its snapshot are the same in every build.
    serde_json::to_value(schemars::schema_for!(Output))
        .map(|mut schema| {
            schema.sort_all_objects();
            schema
        })
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_default()
}

/// The schema text of `agent`'s answer as its prompt shows it; `None` for execution, which
/// asks no model. Also part of the agent's prompt version.
pub(crate) fn output_schema(agent: AgentName) -> Option<String> {
    Some(match agent {
        AgentName::Technical => schema_text::<TechnicalReport>(),
        AgentName::Fundamental => schema_text::<FundamentalReport>(),
        AgentName::Sentiment => schema_text::<SentimentReport>(),
        AgentName::Macro => schema_text::<MacroReport>(),
        AgentName::Bull | AgentName::Bear => schema_text::<DebateTurn>(),
        AgentName::RiskManager => schema_text::<RiskAssessment>(),
        AgentName::PortfolioManager => schema_text::<PortfolioDecision>(),
        AgentName::Learning => schema_text::<LessonDraft>(),
        AgentName::Execution => return None,
    })
}

fn instrument_view(state: &TradingState) -> InstrumentView {
    let i = &state.instrument;
    let crypto = i.segment == Segment::Spot;
    let name = match i.symbol.as_str() {
        "BTCUSDT" => "Bitcoin against Tether (Binance spot)".to_owned(),
        "BANKNIFTY" => "Nifty Bank index, traded through its NSE futures".to_owned(),
        "NIFTY50" => "Nifty 50 index, traded through its NSE futures".to_owned(),
        other => other.to_owned(),
    };
    InstrumentView {
        symbol: i.symbol.as_str().to_owned(),
        kind: if crypto { "crypto" } else { "indian_index" },
        name,
        currency: format!("{:?}", i.currency).to_uppercase(),
        session: if crypto {
            "24/7, UTC"
        } else {
            "09:15-15:30 Asia/Kolkata on NSE trading days"
        },
        lot_size: i.lot_size.normalize().to_string(),
    }
}

fn candle_views(candles: &[Candle], last: usize) -> Vec<CandleView> {
    candles[candles.len().saturating_sub(last)..]
        .iter()
        .map(|c| CandleView {
            time: c.open_time.to_string(),
            ohlcv: [c.open, c.high, c.low, c.close, c.volume].map(|d| d.normalize().to_string()),
        })
        .collect()
}
