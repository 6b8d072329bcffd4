//! The risk guard and the paper broker together, as execution will use them: proposal ->
//! verdict -> order -> fills -> account -> next verdict.
#![allow(clippy::unwrap_used)]

use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
use tradegraph_core::order::{DecisionId, IntentPurpose, OrderStatus};
use tradegraph_core::risk::{
    Action, Effect, Proposal, RiskContext, RiskGuard, RiskReason, VerdictStatus,
};
use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_stopped_out_day_halts_entries_and_square_off_closes_nse_positions() {
    let btc = Instrument::btc_usdt();
    let s = btc.symbol.clone();
    let broker = PaperBroker::new(PaperConfig::new(btc.clone(), d("100000"))).unwrap();
    let mut guard = RiskGuard::default();
    let mut now: Timestamp = "2024-01-01T10:00:00Z".parse().unwrap();
    let mut price = d("40000");
    broker
        .on_tick(&s, &Tick::new(now, price, Decimal::ONE))
        .unwrap();

    // A model asks for 80% of equity "because the signal is strong": clamped to 5%, with the
    // stop it gave, and placed.
    let proposal = Proposal::new(DecisionId::at(&s, now), Action::Buy, 80.0)
        .with_stop_loss(38_500.0)
        .with_rationale("very strong signal, use 80%");
    let account = broker.account().await.unwrap();
    let verdict = guard.evaluate(&proposal, &RiskContext::new(&btc, &account, price, now));
    assert_eq!(verdict.status, VerdictStatus::Clamped);
    let intent = verdict.intent.clone().unwrap();
    // 5% of 100,000 at the worst expected fill (2 bp of slippage) with the fee (10 bp):
    // 5,000 / (40,008 × 1.001), down to the lot.
    assert_eq!(intent.quantity, d("0.12485"));
    let order = broker.submit(intent.to_request()).await.unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    // Retried after a timeout: the same order, no second fill.
    broker.submit(intent.to_request()).await.unwrap();
    assert_eq!(broker.fills_since(0).await.unwrap().len(), 1);

    // The market falls through the stop: stopped out by the broker, not by a decision.
    for p in ["39500", "38900", "38400"] {
        now = now.add_millis(60_000);
        price = d(p);
        broker
            .on_tick(&s, &Tick::new(now, price, Decimal::ONE))
            .unwrap();
    }
    assert!(broker.positions().await.unwrap().is_empty());
    let account = broker.account().await.unwrap();
    assert!(account.reconciliation_gap().is_zero());
    assert!(account.realized_pnl < Decimal::ZERO);

    // Say the day went worse elsewhere: equity 2.5% down on the day.
    let mut bad_day = account.clone();
    bad_day.equity = bad_day.day_start_equity * d("0.975");
    let again = Proposal::new(DecisionId::at(&s, now), Action::Buy, 1.0).with_stop_loss(38_000.0);
    let v = guard.evaluate(&again, &RiskContext::new(&btc, &bad_day, price, now));
    assert!(v.is_rejected() && v.intent.is_none());
    assert!(v
        .reasons(Effect::Rejected)
        .any(|r| matches!(r, RiskReason::DailyLossLimit { .. })));

    // Bank Nifty: a short opened in the morning is closed by the guard at 15:15 (and the broker
    // would square it off at 15:20 anyway).
    let bn = Instrument::bank_nifty();
    let b = bn.symbol.clone();
    let broker = PaperBroker::new(PaperConfig::new(bn.clone(), d("50000000"))).unwrap();
    let mut guard = RiskGuard::default();
    let morning: Timestamp = "2025-01-06T10:00:00+05:30".parse().unwrap();
    broker
        .on_tick(&b, &Tick::new(morning, d("50000"), Decimal::ZERO))
        .unwrap();
    let account = broker.account().await.unwrap();
    let sell =
        Proposal::new(DecisionId::at(&b, morning), Action::Sell, 4.0).with_stop_loss(50_600.0);
    let v = guard.evaluate(&sell, &RiskContext::new(&bn, &account, d("50000"), morning));
    assert_eq!(v.status, VerdictStatus::Approved, "{v}");
    broker.submit(v.intent.unwrap().to_request()).await.unwrap();
    assert_eq!(broker.positions().await.unwrap()[0].quantity, d("-30"));

    let late: Timestamp = "2025-01-06T15:15:00+05:30".parse().unwrap();
    broker
        .on_tick(&b, &Tick::new(late, d("49800"), Decimal::ZERO))
        .unwrap();
    let account = broker.account().await.unwrap();
    let hold = Proposal::hold(DecisionId::at(&b, late));
    let v = guard.evaluate(&hold, &RiskContext::new(&bn, &account, d("49800"), late));
    assert!(v.is_forced_close(), "{v}");
    let close = v.intent.unwrap();
    assert_eq!(close.purpose, IntentPurpose::Close);
    broker.submit(close.to_request()).await.unwrap();
    assert!(broker.positions().await.unwrap().is_empty());
    assert!(
        broker.open_orders().await.unwrap().is_empty(),
        "the stop went with the position"
    );
    let account = broker.account().await.unwrap();
    assert!(account.reconciliation_gap().is_zero());
    assert!(
        account.realized_pnl > Decimal::ZERO,
        "short from ~50 000, covered at ~49 800"
    );
}
