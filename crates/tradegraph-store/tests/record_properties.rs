//! Queued write-behind records through the spill file's line format (issue 12, "beyond the
//! list"): candles, decisions, trades and lessons, with extra fields, any text, any finite
//! confidence and any version, are written and read back unchanged on one line, and any line
//! reads as a record or gives an error (see `fuzz_harness/record_roundtrip.rs`, which the cargo-fuzz target
//! `record_roundtrip` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/record_roundtrip.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::{Map, Value};
use tradegraph_core::{Candle, Decimal, Side, Symbol, Timeframe, Timestamp};
use tradegraph_store::behind::Versioned;
use tradegraph_store::{
    AgentDecision, DecisionRecord, Lesson, Record, Situation, TradeRecord, TradeStatus,
};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[ -~]{0,16}", 1 => any::<String>()]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.millis()..=Timestamp::MAX.millis()).prop_map(Timestamp::from_millis)
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..=28).prop_map(|(m, scale)| Decimal::new(m, scale))
}

fn confidence() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 0.0f64..=1.0,
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()),
    ]
}

fn extra() -> impl Strategy<Value = Map<String, Value>> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        confidence().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    prop::collection::btree_map("x_[a-z]{1,8}", value, 0..3).prop_map(|m| m.into_iter().collect())
}

fn agents() -> impl Strategy<Value = Vec<(String, AgentDecision)>> {
    prop::collection::vec(
        (
            text(),
            (
                prop::option::of(text()),
                prop::option::of(confidence()),
                text(),
                extra(),
            )
                .prop_map(|(signal, c, why, extra)| {
                    // A call has both; an assessment (the risk manager's) neither; any mix reads
                    // back as written.
                    let mut d = AgentDecision::assessment(why);
                    d.signal = signal;
                    d.confidence = c;
                    d.extra = extra;
                    d
                }),
        ),
        0..3,
    )
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (
            text(),
            timestamp(),
            [decimal(), decimal(), decimal()],
            any::<u64>()
        )
            .prop_map(|(symbol, at, [price, volume, high], trades)| {
                let mut candle = Candle::opening(at, Timeframe::M15, price, volume);
                candle.high = high;
                candle.trades = trades;
                Record::Candle {
                    instrument: Symbol::new(symbol),
                    candle,
                }
            }),
        (
            text(),
            timestamp(),
            agents(),
            prop::option::of(text()),
            extra()
        )
            .prop_map(|(symbol, at, agents, action, extra)| {
                let mut d = DecisionRecord::new(Symbol::new(symbol), at);
                for (name, view) in agents {
                    d = d.agent(name, view);
                }
                d.action = action;
                d.extra = extra;
                Record::Decision(d)
            }),
        (
            (
                text(),
                text(),
                any::<bool>(),
                timestamp(),
                decimal(),
                decimal()
            ),
            (
                confidence(),
                agents(),
                prop::option::of(timestamp()),
                prop::option::of(decimal())
            ),
            (0u8..5, prop::option::of(text()), extra()),
        )
            .prop_map(
                |(
                    (id, symbol, buy, at, price, qty),
                    (c, agents, exit, pnl),
                    (status, decision, extra),
                )| {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let mut t = TradeRecord::new(id, Symbol::new(symbol), side, at, price, qty);
                    t.confidence = c;
                    t.agent_decisions = agents.into_iter().collect();
                    t.exit_timestamp = exit;
                    t.exit_price = pnl;
                    t.realized_pnl = pnl;
                    t.stop_loss = pnl;
                    t.status = [
                        TradeStatus::Pending,
                        TradeStatus::Open,
                        TradeStatus::Closed,
                        TradeStatus::Cancelled,
                        TradeStatus::Rejected,
                    ][usize::from(status)];
                    t.decision_id = decision;
                    t.extra = extra;
                    Record::Trade(t)
                }
            ),
        (
            text(),
            timestamp(),
            text(),
            text(),
            prop::option::of(text()),
            prop::option::of((confidence(), confidence(), confidence(), confidence())),
            prop::option::of(confidence()),
            extra()
        )
            .prop_map(
                |(symbol, at, agent, words, trade, situation, back, extra)| {
                    let mut l = Lesson::new(Symbol::new(symbol), at, agent, words);
                    l.trade_id = trade;
                    l.situation =
                        situation.map(|(rsi, trend_pct, volatility_pct, sentiment)| Situation {
                            rsi,
                            trend_pct,
                            volatility_pct,
                            sentiment,
                        });
                    l.return_pct = back;
                    l.extra = extra;
                    Record::Lesson(l)
                }
            ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn records_survive_the_spill_line_format(record in record(), version in any::<i64>()) {
        harness::check_value(&record);
        harness::check_value(&Versioned::with_version(record, version));
    }

    #[test]
    fn any_line_reads_as_a_record_or_an_error(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        record().prop_map(|r| serde_json::to_vec(&r).unwrap()),
        (record(), any::<i64>()).prop_map(|(r, v)| serde_json::to_vec(&Versioned::with_version(r, v)).unwrap()),
        (record(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(r, at, byte)| {
            let mut line = serde_json::to_vec(&r).unwrap();
            let i = at.index(line.len());
            line[i] = byte;
            line
        }),
        (record(), any::<prop::sample::Index>()).prop_map(|(r, cut)| {
            let line = serde_json::to_vec(&r).unwrap();
            line[..cut.index(line.len())].to_vec()
        }),
    ]) {
        harness::check_bytes(&bytes);
    }
}

/// A record's `extra` fields are flattened into its document, so an extra field named like one
/// of the record's own fields used to write that key twice: the spill line then read back as a
/// different record (`action`) or not at all ("duplicate field `decision_id`"), and a record
/// spilled during an outage was rejected when written back. Such keys now go under `_extra`
/// (`CLASHING_EXTRA`) and come back in place.
#[test]
fn an_extra_field_named_like_a_record_field_survives_the_spill() {
    let mut d = DecisionRecord::new(Symbol::new("BTCUSDT"), Timestamp::EPOCH);
    d.extra
        .insert("decision_id".into(), Value::String("other".into()));
    harness::check_value(&Record::Decision(d));
}
