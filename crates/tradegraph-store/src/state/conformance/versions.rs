//! Versioning, missing keys, and keys kept apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{at, doc, instrument, intent};
use crate::state::{BotStateStore, IntentLog, IntentStatus, Saved, StateKey, StatePart};
use tradegraph_core::order::OrderId;

/// Older and equal versions are `Stale`, report the stored version, and change nothing.
pub async fn versions_only_go_up<S: BotStateStore + ?Sized>(store: &S) {
    let key = StateKey::new(instrument("VER"), StatePart::Guard);
    let first = doc(&key, 1);
    assert_eq!(store.save(&first).await.unwrap(), Saved::Written);
    assert_eq!(store.load(&key).await.unwrap(), Some(first.clone()));
    let mut same = doc(&key, 1);
    same.body = serde_json::json!({"other": "body"});
    assert_eq!(store.save(&same).await.unwrap(), Saved::Stale { stored: 1 });
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(first),
        "equal version changed nothing"
    );
    let third = doc(&key, 3);
    assert_eq!(store.save(&third).await.unwrap(), Saved::Written);
    assert_eq!(
        store.save(&doc(&key, 2)).await.unwrap(),
        Saved::Stale { stored: 3 }
    );
    assert_eq!(
        store.save(&doc(&key, 1)).await.unwrap(),
        Saved::Stale { stored: 3 }
    );
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(third),
        "older versions changed nothing"
    );
    assert_eq!(store.save(&doc(&key, 4)).await.unwrap(), Saved::Written);
    assert_eq!(store.load(&key).await.unwrap().unwrap().version, 4);
}

/// The same rules for intents.
pub async fn intent_versions_only_go_up<S: IntentLog + ?Sized>(store: &S) {
    let sym = instrument("IVER");
    let first = intent(&sym, 1, 0);
    let id = first.client_id.clone();
    assert_eq!(store.record_intent(&first).await.unwrap(), Saved::Written);
    let replay = first.clone().with_note("a replay must not win");
    assert_eq!(
        store.record_intent(&replay).await.unwrap(),
        Saved::Stale { stored: 1 }
    );
    assert_eq!(store.intent(&id).await.unwrap(), Some(first.clone()));
    let submitted = first
        .advance(IntentStatus::Submitted, at(5))
        .advance(IntentStatus::Submitted, at(6))
        .with_order_id(OrderId::new("V-1"));
    assert_eq!(submitted.version, 3);
    assert_eq!(
        store.record_intent(&submitted).await.unwrap(),
        Saved::Written
    );
    let late = first.advance(IntentStatus::Abandoned, at(9));
    assert_eq!(
        store.record_intent(&late).await.unwrap(),
        Saved::Stale { stored: 3 }
    );
    assert_eq!(store.intent(&id).await.unwrap(), Some(submitted.clone()));
    assert_eq!(store.unsettled_intents(&sym).await.unwrap(), [submitted]);
}

/// Nothing saved: `None` and empty.
pub async fn missing_keys_are_none<S: BotStateStore + IntentLog>(store: &S) {
    let sym = instrument("NONE");
    for part in StatePart::ALL {
        assert_eq!(
            store.load(&StateKey::new(sym.clone(), part)).await.unwrap(),
            None
        );
    }
    let id = intent(&sym, 1, 0).client_id;
    assert_eq!(store.intent(&id).await.unwrap(), None);
    assert!(store.unsettled_intents(&sym).await.unwrap().is_empty());
}

/// Each instrument and part is its own document with its own versions.
pub async fn parts_and_instruments_are_kept_apart<S: BotStateStore + ?Sized>(store: &S) {
    let instruments = [instrument("APART-A"), instrument("APART-B")];
    let mut expected = Vec::new();
    for (i, sym) in instruments.iter().enumerate() {
        for (j, part) in StatePart::ALL.into_iter().enumerate() {
            let key = StateKey::new(sym.clone(), part);
            let version = u64::try_from(1 + i * 10 + j).unwrap();
            let saved = doc(&key, version);
            assert_eq!(store.save(&saved).await.unwrap(), Saved::Written, "{key}");
            expected.push(saved);
        }
    }
    // A high version of one key does not make another key's low version stale.
    let other = StateKey::new(instruments[1].clone(), StatePart::Guard);
    let low = doc(
        &StateKey::new(instruments[0].clone(), StatePart::KillSwitch),
        2,
    );
    assert_eq!(store.save(&low).await.unwrap(), Saved::Stale { stored: 2 });
    assert_eq!(store.load(&other).await.unwrap().unwrap().version, 11);
    for saved in &expected {
        assert_eq!(store.load(&saved.key).await.unwrap().as_ref(), Some(saved));
    }
}
