//! The execution agent re-checks a verdict on the market as it is when the order goes out:
//! the graph pauses before execution (as it does for a person's approval), time passes or the
//! price moves, and the resumed execution refuses with a recorded reason — and sends nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::node::{registry, Brain, Desk, MarketNow, DEFAULT_GRAPH};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::{fixture, AgentName, TradingState};
use tradegraph_core::risk::RiskReason;
use tradegraph_core::{Decimal, Instrument, Timestamp};
use tradegraph_graph::{yaml, MemoryCheckpointer, Resume, RunConfig, RunStatus};
use tradegraph_market::SimulatedClock;

/// Buys 2% with a stop 2% below the price on every portfolio-manager call.
#[derive(Debug)]
struct Buy(f64);

#[async_trait]
impl ReportModel for Buy {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("rules".into()));
        }
        Ok(ModelAnswer::new(
            serde_json::json!({"action": "BUY", "size_pct": 2.0, "stop_loss": self.0 * 0.98,
                "take_profit": null, "trailing_pct": null, "confidence": 0.7, "rationale": "test"}),
            "script",
            "pm",
        ))
    }
}

struct Paused {
    graph: tradegraph_graph::CompiledGraph<TradingState>,
    desk: Desk,
    clock: SimulatedClock,
    market: MarketNow,
    as_of: Timestamp,
    price: Decimal,
}

/// The trading graph on `instrument`'s fixture, paused before execution with an approved buy.
async fn paused(instrument: &Instrument, max_age: Duration) -> Paused {
    let (desk, _) = fixture::paper_desk(instrument, fixture::sample_cash(instrument)).unwrap();
    let (snapshot, inputs) = fixture::market(instrument).unwrap();
    let clock = SimulatedClock::new(snapshot.as_of);
    let market = MarketNow::new(Arc::new(clock.clone())).max_verdict_age(max_age);
    market.set_price(snapshot.price);
    let desk = desk.with_market(market.clone());
    let price: f64 = snapshot.price.try_into().unwrap();
    let brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(Buy(price)));
    let source = format!("{DEFAULT_GRAPH}\ninterrupts: {{ before: [execution] }}\n");
    let graph = yaml::load_str(&source, "trading+approval.yaml", &registry(&brain, &desk))
        .unwrap()
        .with_checkpointer(MemoryCheckpointer::new());
    let as_of = snapshot.as_of;
    let mut state = TradingState::new(instrument.clone(), snapshot.clone(), inputs);
    state.account = Some(desk.broker().account().await.unwrap());
    let out = graph
        .invoke(state, RunConfig::new().thread("t"))
        .await
        .unwrap();
    assert!(
        matches!(out.status, RunStatus::Interrupted(_)),
        "paused before execution: {:?}",
        out.status
    );
    assert!(
        out.state.verdict.as_ref().unwrap().intent.is_some(),
        "{:?}",
        out.state.verdict
    );
    Paused {
        graph,
        desk,
        clock,
        market,
        as_of,
        price: snapshot.price,
    }
}

async fn resume(p: &Paused) -> TradingState {
    let out = Box::pin(p.graph.resume("t", Resume::default(), RunConfig::new()))
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Finished);
    out.state
}

async fn refused(p: &Paused) -> RiskReason {
    let state = Box::pin(resume(p)).await;
    assert!(state.orders.is_empty(), "nothing sent: {:?}", state.orders);
    assert!(p.desk.broker().fills_since(0).await.unwrap().is_empty());
    state.refusal.expect("the refusal is recorded").reason
}

#[tokio::test]
async fn a_verdict_resumed_in_time_goes_out() {
    let p = Box::pin(paused(&Instrument::btc_usdt(), Duration::from_secs(60))).await;
    p.clock.advance_to(p.as_of.add_millis(30_000));
    let state = Box::pin(resume(&p)).await;
    assert!(state.refusal.is_none(), "{:?}", state.refusal);
    assert_eq!(state.orders.len(), 1);
}

#[tokio::test]
async fn a_verdict_older_than_the_limit_is_refused() {
    let p = Box::pin(paused(&Instrument::btc_usdt(), Duration::from_secs(60))).await;
    p.clock.advance_to(p.as_of.add_millis(120_000));
    let reason = Box::pin(refused(&p)).await;
    assert!(
        matches!(reason, RiskReason::VerdictStale { .. }),
        "{reason}"
    );
}

#[tokio::test]
async fn a_price_through_the_stop_is_refused() {
    let p = Box::pin(paused(&Instrument::btc_usdt(), Duration::from_secs(60))).await;
    p.market.set_price(p.price * Decimal::new(97, 2));
    let reason = Box::pin(refused(&p)).await;
    assert!(
        matches!(reason, RiskReason::PriceThroughStop { .. }),
        "{reason}"
    );
}

#[tokio::test]
async fn an_nse_entry_after_the_cutoff_is_refused() {
    // The Bank Nifty fixture's decision, approved; the order would go out at 15:05 IST, after
    // the 15:00 entry cutoff (30 minutes before the close).
    let p = Box::pin(paused(
        &Instrument::bank_nifty(),
        Duration::from_secs(24 * 3600),
    ))
    .await;
    let session = Instrument::bank_nifty().session;
    let (_, close) = session.day_at(p.as_of).unwrap();
    p.clock.advance_to(close.add_millis(-25 * 60_000));
    let reason = Box::pin(refused(&p)).await;
    assert!(matches!(reason, RiskReason::EntryCutoff { .. }), "{reason}");
}

#[tokio::test]
async fn an_entry_with_no_market_price_yet_is_refused() {
    // A desk whose market view has seen no price (a bot just started): the entry cannot be
    // checked against the market, so it does not go out.
    let btc = Instrument::btc_usdt();
    let (desk, _) = fixture::paper_desk(&btc, fixture::sample_cash(&btc)).unwrap();
    let (snapshot, inputs) = fixture::market(&btc).unwrap();
    let clock = SimulatedClock::new(snapshot.as_of);
    let desk = desk.with_market(MarketNow::new(Arc::new(clock)));
    let price: f64 = snapshot.price.try_into().unwrap();
    let brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(Buy(price)));
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let mut state = TradingState::new(btc.clone(), snapshot, inputs);
    state.account = Some(desk.broker().account().await.unwrap());
    let out = Box::pin(graph.invoke(state, RunConfig::new()))
        .await
        .unwrap();
    assert!(
        out.state.verdict.as_ref().unwrap().intent.is_some(),
        "the guard approved"
    );
    assert!(out.state.orders.is_empty());
    let reason = out.state.refusal.expect("refused").reason;
    assert!(reason.to_string().contains("no market price"), "{reason}");
}

/// An entry is sized at the worst price it is expected to fill at: a buy at the book's ask
/// when the ask is above the last price (plus slippage and fees), so what it costs stays
/// within the size the guard allowed.
#[tokio::test]
async fn a_buy_is_sized_at_the_books_ask() {
    use tradegraph_core::{Book, BookLevel};
    let instrument = Instrument::btc_usdt();
    let (desk, _) = fixture::paper_desk(&instrument, fixture::sample_cash(&instrument)).unwrap();
    let (mut snapshot, inputs) = fixture::market(&instrument).unwrap();
    let price = snapshot.price;
    let level = |p: Decimal| BookLevel {
        price: p,
        quantity: Decimal::from(50),
        orders: None,
    };
    let ask = (price * Decimal::new(101, 2)).round_dp(2);
    snapshot.book = Some(Book {
        ts: snapshot.as_of,
        bids: vec![level((price * Decimal::new(99, 2)).round_dp(2))],
        asks: vec![level(ask)],
        update_id: None,
    });
    let clock = SimulatedClock::new(snapshot.as_of);
    let market = MarketNow::new(Arc::new(clock)).max_verdict_age(Duration::from_secs(60));
    market.set_price(price);
    let desk = desk.with_market(market);
    let brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(Buy(price.try_into().unwrap())));
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let mut state = TradingState::new(instrument.clone(), snapshot, inputs);
    let account = desk.broker().account().await.unwrap();
    let equity = account.equity;
    state.account = Some(account);
    let out = graph.invoke(state, RunConfig::new()).await.unwrap();
    let intent = out
        .state
        .verdict
        .as_ref()
        .and_then(|v| v.intent.clone())
        .expect("an approved buy");
    // 2% of equity, bought at the ask with 2 bp of slippage and 10 bp of fees
    let cost = intent.quantity * ask * Decimal::new(10002, 4) * Decimal::new(1001, 3);
    assert!(
        cost <= equity * Decimal::new(2, 2),
        "{} at {ask} costs {cost}, over 2% of {equity}",
        intent.quantity
    );
}
