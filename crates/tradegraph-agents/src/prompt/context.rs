//! What the templates see.

use crate::book::{self, exact};
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
use tradegraph_core::order::OrderKind;
use tradegraph_core::{Candle, Decimal, OrderFlow, Segment, Timeframe, Timestamp};
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

/// The book as the risk manager and the portfolio manager see it: the position, the account,
/// what the guard's limits leave, working orders and what blocks entries. Our own figures.
#[derive(Debug, Clone, Serialize)]
pub struct BookView {
    /// The position in the instrument; `None` when flat.
    pub position: Option<PositionView>,
    /// Equity (cash and positions at their marks).
    pub equity: String,
    /// Cash.
    pub cash: String,
    /// Today's P&L.
    pub day_pnl: String,
    /// Today's loss so far, in percent of the day's starting equity (0 on a gain).
    pub daily_loss_pct: String,
    /// The daily loss limit, in percent.
    pub daily_loss_limit_pct: String,
    /// What the day may still lose before entries halt, in percent.
    pub daily_loss_left_pct: String,
    /// The position limit, in percent of equity.
    pub position_limit_pct: String,
    /// How much more of equity the position may grow by, in percent.
    pub position_left_pct: String,
    /// Working orders of the instrument.
    pub working: Vec<WorkingOrderView>,
    /// What blocks any entry now (the guard's words, then the bot's holds); empty when
    /// entries may be opened.
    pub entry_blocks: Vec<String>,
}

/// The open position.
#[derive(Debug, Clone, Serialize)]
pub struct PositionView {
    /// `long` or `short`.
    pub side: &'static str,
    /// Size, unsigned.
    pub quantity: String,
    /// Average entry price.
    pub entry: String,
    /// Unrealized P&L at the last mark.
    pub unrealized_pnl: String,
    /// Unrealized P&L in percent of the entry value.
    pub unrealized_pct: String,
    /// When it was opened, if the broker says.
    pub opened_at: Option<String>,
    /// How long it has been held (`3 h 15 min`), if known.
    pub held: Option<String>,
    /// The working stop-loss trigger, if any.
    pub stop_loss: Option<String>,
    /// The working take-profit, if any.
    pub take_profit: Option<String>,
    /// A working trailing stop: `at <trigger>`, or `not armed yet` before its first price.
    pub trailing_stop: Option<String>,
}

/// A working order.
#[derive(Debug, Clone, Serialize)]
pub struct WorkingOrderView {
    /// `buy` or `sell`.
    pub side: &'static str,
    /// `market`, `limit`, `stop` or `trailing stop`.
    pub kind: &'static str,
    /// Size.
    pub quantity: String,
    /// Limit price or stop trigger, if any.
    pub price: Option<String>,
    /// `entry`, `close` (a reduce-only order), or the exit of an entry it is (`stop-loss`,
    /// `take-profit`, `trailing stop`, `exit`).
    pub role: &'static str,
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
    /// The book (position, account, limits left, working orders, entry blocks), for the risk
    /// manager and the portfolio manager; `None` for the others and outside a bot.
    pub book: Option<BookView>,
    /// The JSON Schema the answer must follow, pretty-printed.
    pub schema: String,
}

/// The fields of [`PromptContext`] a template reads by name, each converted to a template
/// value only when a template first reads it (see the [`taint`](super::taint) module).
/// The destructuring below lists every field without `..`, so a field added to the struct and
/// not here does not compile.
macro_rules! template_fields {
    ($($field:ident),* $(,)?) => {
        /// The names of the context's fields.
        pub(crate) const FIELDS: &[&str] = &[$(stringify!($field)),*];

        impl PromptContext {
            /// The field named `name` as a template value, before its untrusted text is
            /// wrapped; `None` for a name that is no field.
            pub(crate) fn field_value(&self, name: &str) -> Option<minijinja::Value> {
                let Self { $($field),* } = self;
                match name {
                    $(stringify!($field) => Some(minijinja::Value::from(minijinja::value::Serde($field))),)*
                    _ => None,
                }
            }

            /// Appends the [print](super::print) of field `name` to `out`: `false` for a name
            /// that is no field (or a field that fails to serialize).
            pub(crate) fn print_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
                let Self { $($field),* } = self;
                match name {
                    $(stringify!($field) => super::print::print($field, out),)*
                    _ => false,
                }
            }
        }
    };
}

template_fields!(
    agent,
    instrument,
    as_of,
    price,
    timeframe,
    indicators,
    candles,
    daily,
    flow,
    news,
    macro_snapshot,
    technical,
    fundamental,
    sentiment,
    macro_view,
    risk,
    debate,
    round,
    lessons,
    weights,
    book,
    schema,
);

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
            book: matches!(agent, AgentName::RiskManager | AgentName::PortfolioManager)
                .then(|| book_view(state))
                .flatten(),
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

/// The last `last` of `candles` as text. Every agent of a cycle shows the same candles, and
/// the next cycle most of them again: each candle is formatted once while it stays the same
/// (a memo per thread, by open time and timeframe, each holding the few candles of that time
/// seen last, for engines of several instruments on one thread; a hit is the whole candle
/// equal).
fn candle_views(candles: &[Candle], last: usize) -> Vec<CandleView> {
    /// Open times (with their timeframe) the memo holds at most; it starts over past it.
    const TIMES: usize = 256;
    /// Candles kept for one open time: the instruments one thread runs, most likely.
    const PER_TIME: usize = 8;
    type Memo = HashMap<(Timestamp, Timeframe), Vec<(Candle, CandleView)>>;
    thread_local! {
        static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::default();
    }
    let format = |c: &Candle| CandleView {
        time: c.open_time.to_string(),
        // equal decimals print alike once normalized (`1.50` and `1.5`)
        ohlcv: [c.open, c.high, c.low, c.close, c.volume].map(|d| d.normalize().to_string()),
    };
    let tail = &candles[candles.len().saturating_sub(last)..];
    MEMO.with_borrow_mut(|memo| {
        if memo.len() + tail.len() > TIMES {
            memo.clear();
        }
        tail.iter()
            .map(|c| {
                let seen = memo.entry((c.open_time, c.timeframe)).or_default();
                if let Some((_, view)) = seen.iter().find(|(candle, _)| candle == c) {
                    return view.clone();
                }
                let view = format(c);
                if seen.len() == PER_TIME {
                    seen.remove(0);
                }
                seen.push((c.clone(), view.clone()));
                view
            })
            .collect()
    })
}

/// The book of `state` as the prompts show it; `None` without the account and the book.
fn book_view(state: &TradingState) -> Option<BookView> {
    let (account, book) = (state.account.as_ref()?, state.book.as_ref()?);
    let money = |d: Decimal| exact(d, 2);
    let pct = |d: Decimal| exact(d, 2);
    // What is left is never shown larger than it is.
    let down = |d: Decimal| {
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
            .normalize()
            .to_string()
    };
    let exits = book.exits();
    let position = book::position(state).map(|p| {
        let entry = p.average_entry().unwrap_or_default();
        let unrealized = p.unrealized_pnl();
        let entry_value = (entry * p.quantity).abs();
        PositionView {
            side: if p.is_long() { "long" } else { "short" },
            quantity: p.quantity.abs().normalize().to_string(),
            entry: exact(entry, 8),
            unrealized_pnl: money(unrealized),
            unrealized_pct: tradegraph_core::money::pct(unrealized, entry_value)
                .map_or_else(|| "0".to_owned(), pct),
            opened_at: p.opened_at.map(|t| t.to_string()),
            held: p
                .opened_at
                .map(|t| held(state.as_of.millis().saturating_sub(t.millis()))),
            stop_loss: exits.stop_loss.map(|p| exact(p, 8)),
            take_profit: exits.take_profit.map(|p| exact(p, 8)),
            trailing_stop: exits.trailing_stop.map(|trigger| match trigger {
                Some(p) => format!("at {}", exact(p, 8)),
                None => "not armed yet".to_owned(),
            }),
        }
    });
    let working = book
        .working
        .iter()
        .map(|o| {
            let (kind, price) = match o.request.kind {
                OrderKind::Market => ("market", None),
                OrderKind::Limit { price } => ("limit", Some(price)),
                OrderKind::Stop { trigger } => ("stop", Some(trigger)),
                OrderKind::TrailingStop { .. } => ("trailing stop", o.trigger_price),
                _ => ("order", None),
            };
            let role = match (o.parent.is_some(), o.request.kind) {
                (false, _) if o.request.reduce_only => "close",
                (false, _) => "entry",
                (true, OrderKind::Stop { .. }) => "stop-loss",
                (true, OrderKind::Limit { .. }) if book::is_stop_leg(o) => "stop-loss",
                (true, OrderKind::Limit { .. }) => "take-profit",
                (true, OrderKind::TrailingStop { .. }) => "trailing stop",
                (true, _) => "exit",
            };
            WorkingOrderView {
                side: book::side_word(o.request.side),
                kind,
                quantity: o.remaining().normalize().to_string(),
                price: price.map(|p| exact(p, 8)),
                role,
            }
        })
        .collect();
    let room = &book.headroom;
    Some(BookView {
        position,
        equity: money(account.equity),
        cash: money(account.cash),
        day_pnl: money(account.daily_pnl()),
        daily_loss_pct: pct(room.daily_loss_pct),
        daily_loss_limit_pct: pct(book.limits.max_daily_loss_pct),
        daily_loss_left_pct: down(room.daily_loss_left_pct),
        position_limit_pct: pct(book.limits.max_position_pct),
        position_left_pct: down(room.position_left_pct),
        working,
        entry_blocks: book.entry_blocks(),
    })
}

/// A duration in milliseconds as days, hours and minutes (`1 d 3 h 5 min`, `0 min`).
fn held(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    let (days, hours, mins) = (minutes / 1_440, minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} min"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The candles' memo never shows a candle as it was: a candle that changed under the same
    /// open time (the forming bar) prints anew, and equal decimals print alike.
    #[test]
    fn candle_views_follow_the_candles() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let mut candles: Vec<Candle> = (0..15)
            .map(|i| {
                Candle::opening(
                    Timestamp::from_millis(1_700_000_000_000 + i * 900_000),
                    Timeframe::M15,
                    d("100.50") + Decimal::from(i),
                    d("2.000"),
                )
            })
            .collect();
        let fresh = |candles: &[Candle]| -> Vec<[String; 6]> {
            candles[candles.len() - 12..]
                .iter()
                .map(|c| {
                    let [o, h, l, cl, v] = [c.open, c.high, c.low, c.close, c.volume]
                        .map(|d| d.normalize().to_string());
                    [c.open_time.to_string(), o, h, l, cl, v]
                })
                .collect()
        };
        let shown = |candles: &[Candle]| -> Vec<[String; 6]> {
            candle_views(candles, 12)
                .into_iter()
                .map(|v| {
                    let [o, h, l, c, vol] = v.ohlcv;
                    [v.time, o, h, l, c, vol]
                })
                .collect()
        };
        assert_eq!(shown(&candles), fresh(&candles));
        assert_eq!(shown(&candles)[0][1], "103.5");
        assert_eq!(shown(&candles)[0][5], "2");
        // the forming bar trades: its close and volume move, its open time stays
        let last = candles.len() - 1;
        candles[last].close = d("99.25");
        candles[last].low = d("99.25");
        candles[last].volume = d("3.5");
        assert_eq!(shown(&candles), fresh(&candles));
        assert_eq!(shown(&candles)[11][4], "99.25");
        // the same numbers written with other trailing zeros print as before
        candles[last].close = d("99.2500");
        assert_eq!(shown(&candles)[11][4], "99.25");
        // a new bar
        let next = Candle::opening(
            Timestamp::from_millis(1_700_000_000_000 + 15 * 900_000),
            Timeframe::M15,
            d("101"),
            d("1"),
        );
        candles.push(next);
        assert_eq!(shown(&candles), fresh(&candles));
        // another timeframe with the same open times is other candles
        let daily: Vec<Candle> = candles
            .iter()
            .map(|c| Candle {
                timeframe: Timeframe::D1,
                close: c.close + Decimal::ONE,
                high: c.high + Decimal::ONE,
                ..c.clone()
            })
            .collect();
        assert_eq!(shown(&daily), fresh(&daily));
        assert_ne!(shown(&daily), shown(&candles));
        // another instrument's candles at the same times, in turn with these: each its own
        let other: Vec<Candle> = candles
            .iter()
            .map(|c| Candle {
                close: c.close * d("10"),
                high: c.high * d("10"),
                ..c.clone()
            })
            .collect();
        for _ in 0..2 {
            assert_eq!(shown(&other), fresh(&other));
            assert_eq!(shown(&candles), fresh(&candles));
        }
    }
}
