//! Sample data: a decision state built from the bundled bars, news and macro figures, for
//! prompt snapshots, `tradegraph prompts render`, tests and examples of the state's shape.
//!
//! Nothing here configures a bot: a bot's paper capital is its configuration's (`bot.cash`,
//! with the runtime's `tradegraph::config::default_cash` when unset); [`sample_cash`] is the
//! capital of the tests' sample desk.

use crate::book::Book;
use crate::learning::{Lesson, Situation};
use crate::reports::{AgentMode, AgentReport, Stance};
use crate::rules::{self, RuleConfig};
use crate::{
    AgentError, AgentName, DebateEntry, ExternalInputs, MarketSnapshot, SnapshotBuilder,
    TradingState,
};
use rust_decimal::Decimal;
use tradegraph_core::order::{
    ClientOrderId, DecisionId, Leg, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::risk::{GuardState, RiskGuard};
use tradegraph_core::{Candle, Instrument, Timeframe, Timestamp};
use tradegraph_market::aggregate::CandleAggregator;
use tradegraph_market::news::{FileMacro, FixtureNews};
use tradegraph_market::MarketEvent;

const BTC: &str = include_str!("../fixtures/btcusdt-1m.csv");
const BANK_NIFTY: &str = include_str!("../fixtures/banknifty-1m.csv");
const NIFTY: &str = include_str!("../fixtures/nifty50-1m.csv");

/// Candles kept per timeframe in the snapshot.
const KEEP: usize = 50;

/// The market of `instrument` after its bundled bars (the first 450 one-minute bars of the
/// sample data), with the bundled news and macro figures known by then.
///
/// # Errors
/// [`AgentError::Fixture`] for an instrument without bundled data.
pub fn market(instrument: &Instrument) -> Result<(MarketSnapshot, ExternalInputs), AgentError> {
    let (csv, news, macro_source) = match instrument.symbol.as_str() {
        "BTCUSDT" => (BTC, FixtureNews::bundled_crypto(), None),
        "BANKNIFTY" => (
            BANK_NIFTY,
            FixtureNews::bundled_india(),
            FileMacro::bundled_india().ok(),
        ),
        "NIFTY50" => (
            NIFTY,
            FixtureNews::bundled_india(),
            FileMacro::bundled_india().ok(),
        ),
        other => {
            return Err(AgentError::Fixture(format!(
                "no bundled data for `{other}`"
            )))
        }
    };
    let mut aggregator =
        CandleAggregator::new(instrument.symbol.clone(), instrument.session.clone());
    let mut builder = SnapshotBuilder::new(instrument.session.clone(), KEEP);
    let mut closed = Vec::new();
    for (number, line) in csv.lines().enumerate().skip(1) {
        let candle = parse_row(line).ok_or_else(|| {
            AgentError::Fixture(format!(
                "{}: line {}: bad row",
                instrument.symbol,
                number + 1
            ))
        })?;
        aggregator.on_minute_candle(&candle, &mut closed);
        for candle in closed.drain(..) {
            builder
                .on_event(&MarketEvent::Candle {
                    symbol: instrument.symbol.clone(),
                    candle,
                    closed: true,
                })
                .map_err(|e| AgentError::Fixture(e.to_string()))?;
        }
    }
    let snapshot = builder.snapshot();
    let as_of = snapshot.as_of;
    let mut items: Vec<_> = news
        .items()
        .iter()
        .filter(|n| n.published <= as_of)
        .cloned()
        .collect();
    items.sort_by_key(|n| std::cmp::Reverse(n.published));
    let macro_snapshot = macro_source.and_then(|m| {
        m.snapshots()
            .iter()
            .filter(|s| s.as_of <= as_of)
            .max_by_key(|s| s.as_of)
            .cloned()
    });
    Ok((
        snapshot,
        ExternalInputs {
            news: items,
            macro_snapshot,
        },
    ))
}

/// A complete decision state for `instrument`: the bundled market, a fresh flat paper account
/// and its book (default risk limits), every analyst's rule-mode report, one debate round, the
/// risk assessment, the decision, and one lesson.
///
/// # Errors
/// [`AgentError::Fixture`] for an instrument without bundled data.
pub fn state(instrument: &Instrument) -> Result<TradingState, AgentError> {
    let (market, inputs) = market(instrument)?;
    let config = RuleConfig::default();
    let mut s = TradingState::new(instrument.clone(), market, inputs);
    // A fresh paper account with the default risk limits: flat, nothing working.
    let cash = sample_cash(instrument);
    s.account = Some(Account::flat(instrument.currency, cash, s.as_of));
    s.book = Book::new(
        &s,
        Vec::new(),
        &RiskGuard::default(),
        config.timeframe,
        s.as_of,
    );
    s.technical = Some(wrap_any(rules::technical(&s, &config)));
    s.fundamental = Some(wrap_any(rules::fundamental(&s)));
    s.sentiment = Some(wrap_any(rules::sentiment(&s)));
    s.macro_view = Some(wrap_any(rules::macro_view(&s)));
    for stance in [Stance::Bull, Stance::Bear] {
        let turn = wrap_any(rules::debate_turn(&s, stance, 1));
        s.debate.push(DebateEntry {
            round: 1,
            stance,
            turn,
        });
    }
    s.risk = Some(wrap_any(rules::risk(&s, &config)));
    s.decision = Some(wrap_any(rules::portfolio(&s, &config)));
    s.lessons.push(
        Lesson::new(
            instrument.symbol.clone(),
            s.as_of.add_millis(-86_400_000),
            AgentName::Learning.as_str(),
            "Buying into an RSI above 70 after a news-driven spike gave back the gain within the hour; wait for a pullback to the EMA.",
        )
        .with_situation(Situation {
            rsi: 72.0,
            trend_pct: 1.5,
            volatility_pct: 0.4,
            sentiment: 0.3,
        })
        .with_return_pct(-0.8),
    );
    Ok(s)
}

/// [`state`] with a position open, as the risk manager and the portfolio manager then see it:
/// about 2% of equity (whole lots), long on a spot instrument and short on futures, entered
/// three hours before the decision 1% better than the last price; working at the broker, its
/// stop-loss 3% and take-profit 5% from the entry and a trailing stop 2% away (armed on spot,
/// not yet armed on futures); the day down 1% of equity, and the circuit breaker cooling down
/// for another ten minutes. The risk assessment and the decision are made again on that book.
///
/// # Errors
/// [`AgentError::Fixture`] for an instrument without bundled data.
pub fn holding(instrument: &Instrument) -> Result<TradingState, AgentError> {
    let mut s = state(instrument)?;
    let config = RuleConfig::default();
    let symbol = instrument.symbol.clone();
    let price = s.market.price;
    let pct = |p: i64| Decimal::new(p, 2);
    let long = instrument.segment == tradegraph_core::Segment::Spot;
    // `dir` signs what moves with the position: up for a long, down for a short.
    let dir = if long { Decimal::ONE } else { -Decimal::ONE };
    let entry = (price * (Decimal::ONE - dir * pct(1))).round_dp(2);
    let start = sample_cash(instrument);
    let lots = (start * pct(2) / price / instrument.lot_size)
        .floor()
        .max(Decimal::ONE);
    let quantity = lots * instrument.lot_size;
    let mut position = Position::flat(symbol.clone());
    position.quantity = dir * quantity;
    position.cost_basis = dir * quantity * entry;
    position.mark_price = Some(price);
    position.opened_at = Some(s.as_of.add_millis(-3 * 3_600_000));
    position.updated_at = s.as_of;
    let mut account = Account::flat(instrument.currency, start, s.as_of);
    account.equity = start * pct(99);
    account.cash = account.equity - dir * quantity * price;
    account.unrealized_pnl = position.unrealized_pnl();
    account.realized_pnl = account.equity - start - account.unrealized_pnl;
    account.gross_exposure = quantity * price;
    account.net_exposure = dir * quantity * price;
    account.positions.push(position);
    s.account = Some(account);
    let entry_id = ClientOrderId::derive(&symbol, &DecisionId::new("fixture-entry"), Leg::Entry);
    let exit_side = if long {
        OrderSide::Sell
    } else {
        OrderSide::Buy
    };
    let exit = |leg, n: &str, kind: OrderKind, trigger: Option<Decimal>| {
        let request = OrderRequest::new(
            entry_id.child(leg),
            symbol.clone(),
            exit_side,
            quantity,
            kind,
        );
        let mut order = Order::new(OrderId::new(n), request, s.as_of);
        order.parent = Some(entry_id.clone());
        order.status = OrderStatus::Open;
        order.trigger_price = trigger;
        order
    };
    let away = |p: i64| (entry * (Decimal::ONE + dir * pct(p))).round_dp(2);
    let trailing = (price * pct(2)).round_dp(2);
    let orders = vec![
        exit(
            Leg::StopLoss,
            "2",
            OrderKind::Stop { trigger: away(-3) },
            None,
        ),
        exit(
            Leg::TakeProfit,
            "3",
            OrderKind::Limit { price: away(5) },
            None,
        ),
        exit(
            Leg::TrailingStop,
            "4",
            OrderKind::TrailingStop { distance: trailing },
            long.then(|| price - trailing),
        ),
    ];
    let guard = RiskGuard::default().with_state(GuardState {
        breaker_until: Some(s.as_of.add_millis(10 * 60_000)),
        ..GuardState::default()
    });
    s.book = Book::new(&s, orders, &guard, config.timeframe, s.as_of);
    s.risk = Some(wrap_any(rules::risk(&s, &config)));
    s.decision = Some(wrap_any(rules::portfolio(&s, &config)));
    Ok(s)
}

fn wrap_any<T>(report: T) -> AgentReport<T> {
    AgentReport {
        report,
        mode: AgentMode::unconfigured(),
        prompt_version: "fixture".into(),
        exchange: None,
    }
}

fn parse_row(line: &str) -> Option<Candle> {
    let mut f = line.split(',');
    let ts: Timestamp = f.next()?.parse().ok()?;
    let mut next = || f.next()?.trim().parse::<Decimal>().ok();
    let (open, high, low, close, volume) = (next()?, next()?, next()?, next()?, next()?);
    let mut candle = Candle::opening(ts, Timeframe::M1, open, volume);
    candle.high = high;
    candle.low = low;
    candle.close = close;
    candle.is_consistent().then_some(candle)
}

/// Sample paper capital for tests of `instrument`'s sample desk: 100,000 USDT for BTC, ₹10
/// crore for the Indian index futures (the guard sizes by notional, so a few percent of equity
/// must cover a lot). Sample data, not a bot's capital (see the [module](self) docs).
///
/// The figures are the runtime's defaults ([`Currency::default_paper_cash`](tradegraph_core::Currency::default_paper_cash)),
/// so the agents' tests size orders as a bot with default capital does.
pub fn sample_cash(instrument: &Instrument) -> Decimal {
    instrument.currency.default_paper_cash()
}

/// A sample desk: a paper broker for `instrument` with `cash` (its fee preset), marked at the
/// sample market's last one-minute candle so orders can fill.
///
/// # Errors
/// [`AgentError::Fixture`] when the instrument has no bundled data or the broker refuses the
/// configuration (a `cash` not above zero).
pub fn paper_desk(
    instrument: &Instrument,
    cash: Decimal,
) -> Result<
    (
        crate::node::Desk,
        std::sync::Arc<tradegraph_broker::PaperBroker>,
    ),
    AgentError,
> {
    use tradegraph_broker::{FeeModel, PaperBroker, PaperConfig};
    let fees = match instrument.currency {
        tradegraph_core::Currency::Inr => FeeModel::zerodha_futures(),
        _ => FeeModel::binance_spot(),
    };
    let broker = std::sync::Arc::new(
        PaperBroker::new(PaperConfig::new(instrument.clone(), cash).fees(fees))
            .map_err(|e| AgentError::Fixture(e.to_string()))?,
    );
    let (market, _) = market(instrument)?;
    if let Some(last) = market.candles(Timeframe::M1).last() {
        broker
            .on_candle(&instrument.symbol, last)
            .map_err(|e| AgentError::Fixture(e.to_string()))?;
    }
    // The desk's clock stands at the fixture's decision time, so execution's re-check judges
    // the verdict at the time it was made.
    let clock = tradegraph_market::SimulatedClock::new(market.as_of);
    let now = crate::node::MarketNow::new(std::sync::Arc::new(clock));
    now.set_price(market.price);
    let desk = crate::node::Desk::new(broker.clone()).with_market(now);
    Ok((desk, broker))
}
