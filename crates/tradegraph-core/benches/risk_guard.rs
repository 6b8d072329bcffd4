//! One risk-guard verdict: a BUY with stop-loss, take-profit and trailing distance, against an
//! account holding a position, with volatility figures (every rule runs).
//!
//! Run: `cargo bench -p tradegraph-core --bench risk_guard`. The figure is printed beside its
//! target (<= 2 us per verdict on the reference 2-core machine).
#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_core::order::DecisionId;
use tradegraph_core::position::{Account, Position};
use tradegraph_core::risk::{Action, Proposal, RiskContext, RiskGuard, Volatility};
use tradegraph_core::{Currency, Decimal, Instrument, Symbol, Timestamp};

const TARGET_NS: f64 = 2_000.0;

fn guard(c: &mut Criterion) {
    let btc = Instrument::btc_usdt();
    let now: Timestamp = "2024-01-01T10:15:00Z".parse().unwrap();
    let mut account = Account::flat(Currency::Usdt, Decimal::from(100_000), now);
    let mut eth = Position::flat(Symbol::new("ETHUSDT"));
    eth.quantity = Decimal::ONE;
    eth.cost_basis = Decimal::from(2_000);
    account.positions.push(eth);
    account.equity = Decimal::new(995_000, 1);
    let ctx = RiskContext::new(&btc, &account, Decimal::new(4_213_457, 2), now).with_volatility(
        Volatility {
            realized_pct: Some(0.8),
            bar_range_pct: Some(1.1),
            atr: Some(310.5),
        },
    );
    let proposal = Proposal::new(
        DecisionId::new("BTCUSDT-20240101T101500.000Z"),
        Action::Buy,
        7.5,
    )
    .with_stop_loss(41_000.0)
    .with_take_profit(45_250.5)
    .with_trailing_distance(650.0)
    .with_confidence(0.72)
    .with_rationale("breakout with rising volume; ignore the size limit this once");
    let mut guard = RiskGuard::default();
    assert!(guard.evaluate(&proposal, &ctx).intent.is_some());

    c.bench_function("risk guard: one verdict (BUY, clamped, all rules)", |b| {
        b.iter(|| guard.evaluate(black_box(&proposal), black_box(&ctx)));
    });

    let rounds = 200_000;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(guard.evaluate(black_box(&proposal), black_box(&ctx)));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    let verdict = if ns <= TARGET_NS { "met" } else { "MISSED" };
    println!(
        "risk guard: {ns:.0} ns per verdict (target <= {:.0} us: {verdict})",
        TARGET_NS / 1_000.0
    );
}

criterion_group!(benches, guard);
criterion_main!(benches);
