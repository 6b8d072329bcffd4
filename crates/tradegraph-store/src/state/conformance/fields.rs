//! The unsettled list, every field round-tripping, and a client id's instrument.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{at, d, instrument, intent};
use crate::state::{
    BotStateStore, IntentLog, IntentRecord, IntentStatus, Saved, StateDoc, StateKey, StatePart,
};
use crate::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::order::{
    ClientOrderId, DecisionId, Exits, Leg, OrderId, OrderRequest, OrderSide, TimeInForce,
};
use tradegraph_core::{Decimal, Timestamp};

/// `unsettled_intents`: Pending and Submitted only, of that instrument, oldest first (ties by
/// client id); a settled intent is still found by its id.
pub async fn unsettled_intents_come_oldest_first_until_settled<S: IntentLog + ?Sized>(store: &S) {
    let (a, b) = (instrument("OPEN-A"), instrument("OPEN-B"));
    let records = [
        intent(&a, 1, 30_000),
        intent(&a, 2, 10_000),
        intent(&a, 3, 20_000),
        intent(&a, 4, 10_000),
        intent(&b, 5, 0),
    ];
    for r in &records {
        assert_eq!(store.record_intent(r).await.unwrap(), Saved::Written);
    }
    let ids = |list: &[IntentRecord]| -> Vec<String> {
        list.iter().map(|i| i.client_id.to_string()).collect()
    };
    let mut tied = [
        records[1].client_id.to_string(),
        records[3].client_id.to_string(),
    ];
    tied.sort();
    let expected = vec![
        tied[0].clone(),
        tied[1].clone(),
        records[2].client_id.to_string(),
        records[0].client_id.to_string(),
    ];
    assert_eq!(ids(&store.unsettled_intents(&a).await.unwrap()), expected);
    assert_eq!(
        store.unsettled_intents(&b).await.unwrap(),
        [records[4].clone()]
    );

    let submitted = records[2].advance(IntentStatus::Submitted, at(40_000));
    store.record_intent(&submitted).await.unwrap();
    let done = records[1].advance(IntentStatus::Done, at(41_000));
    store.record_intent(&done).await.unwrap();
    let abandoned = records[0]
        .advance(IntentStatus::Abandoned, at(42_000))
        .with_note("the venue never saw it");
    store.record_intent(&abandoned).await.unwrap();
    let open = store.unsettled_intents(&a).await.unwrap();
    assert_eq!(open, [records[3].clone(), submitted]);
    assert_eq!(store.intent(&done.client_id).await.unwrap(), Some(done));
    assert_eq!(
        store.intent(&abandoned.client_id).await.unwrap(),
        Some(abandoned)
    );
    assert_eq!(
        store.unsettled_intents(&b).await.unwrap().len(),
        1,
        "B untouched"
    );
}

/// A typed value saved as state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleState {
    /// Exact money.
    pub cash: Decimal,
    /// A time with milliseconds.
    pub since: Timestamp,
    /// Weights.
    pub weights: BTreeMap<String, f64>,
    /// Text with everything awkward.
    pub lessons: Vec<String>,
    /// Absent values.
    pub cooldown_until: Option<Timestamp>,
}

fn sample_state() -> SampleState {
    SampleState {
        cash: d("100000.10"),
        since: at(250),
        weights: BTreeMap::from([
            ("technical".into(), 0.1 + 0.2),
            ("sentiment".into(), 1e-7),
            ("macro".into(), -2.5),
        ]),
        lessons: vec![
            "ü \"quoted\"\n\ttabbed \\ back".into(),
            String::new(),
            "{x}".into(),
        ],
        cooldown_until: None,
    }
}

/// Every field of a document and of an intent comes back as saved: decimals with their scale,
/// times with their milliseconds, awkward text and keys, the extremes of integers.
pub async fn every_field_round_trips<S: BotStateStore + IntentLog>(store: &S) {
    let sym = instrument("TRIP");
    let key = StateKey::new(sym.clone(), StatePart::Learner);
    let typed = StateDoc::encode(key.clone(), 7, at(123), &sample_state()).unwrap();
    assert_eq!(store.save(&typed).await.unwrap(), Saved::Written);
    let back = store.load(&key).await.unwrap().unwrap();
    assert_eq!(back, typed);
    assert_eq!(back.saved_at.millis() % 1000, 123);
    let value: SampleState = back.decode().unwrap();
    assert_eq!(value, sample_state());
    assert_eq!(
        value.cash.to_string(),
        "100000.10",
        "the decimal keeps its scale"
    );

    let odd = StateKey::new(sym.clone(), StatePart::Broker);
    let body = serde_json::json!({
        "a.b": 1, "$x": 2, "": "empty key", "ключ": [null, true, false],
        "u64": u64::MAX, "i64": i64::MIN, "f": 0.1 + 0.2, "tiny": 5e-324,
        "nested": {"deep": [[[{"cash": "-201.50"}]]]}, "list": []
    });
    let raw = StateDoc::encode(odd.clone(), u64::from(u32::MAX) + 9, at(999), &body).unwrap();
    assert_eq!(store.save(&raw).await.unwrap(), Saved::Written);
    let back = store.load(&odd).await.unwrap().unwrap();
    assert_eq!(back, raw);
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        serde_json::to_string(&raw).unwrap()
    );

    let decision = DecisionId::new(format!("{sym}-20240101T100000Z"));
    let id = ClientOrderId::derive(&sym, &decision, Leg::Entry);
    let request = OrderRequest::limit(
        id,
        sym.clone(),
        OrderSide::Sell,
        d("0.00012300"),
        d("45000.50"),
    )
    .time_in_force(TimeInForce::Ioc)
    .reduce_only()
    .with_exits(
        Exits::stop(d("41000.5"))
            .with_take_profit(d("46000.25"))
            .with_trailing(d("800")),
    );
    let mut record = IntentRecord::pending(request, decision, at(1_001));
    record = record
        .advance(IntentStatus::Pending, at(1_002))
        .advance(IntentStatus::Submitted, at(2_345))
        .with_order_id(OrderId::new("ORD-ü-42"))
        .with_note("venue said: \"insufficient margin\"\nretry → later");
    assert_eq!(store.record_intent(&record).await.unwrap(), Saved::Written);
    let back = store.intent(&record.client_id).await.unwrap().unwrap();
    assert_eq!(back, record);
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        serde_json::to_string(&record).unwrap()
    );
    assert_eq!(back.request.quantity.to_string(), "0.00012300");
    assert_eq!(
        (
            back.created_at.millis() % 1000,
            back.updated_at.millis() % 1000
        ),
        (1, 345)
    );
    assert_eq!(store.unsettled_intents(&sym).await.unwrap(), [record]);
}

/// An intent whose client id is stored for another instrument is refused, and changes nothing.
pub async fn a_client_id_keeps_its_instrument<S: IntentLog + ?Sized>(store: &S) {
    let (a, b) = (instrument("OWN-A"), instrument("OWN-B"));
    let first = intent(&a, 1, 0);
    store.record_intent(&first).await.unwrap();
    let mut moved = first.advance(IntentStatus::Submitted, at(1));
    moved.instrument = b.clone();
    let err = store.record_intent(&moved).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains(first.client_id.as_str()), "{err}");
    assert_eq!(
        store.intent(&first.client_id).await.unwrap(),
        Some(first.clone())
    );
    assert!(store.unsettled_intents(&b).await.unwrap().is_empty());
    assert_eq!(store.unsettled_intents(&a).await.unwrap(), [first]);
}
