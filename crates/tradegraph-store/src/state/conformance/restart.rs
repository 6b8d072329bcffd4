//! A second store on the same file or server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{at, doc, instrument, intent};
use crate::state::{BotStateStore, IntentLog, IntentStatus, Saved, StateDoc, StateKey, StatePart};
use std::future::Future;
use tradegraph_core::order::OrderId;

/// A second store opened on the same file or server sees everything the first saved, and keeps
/// its versions. `open` is called twice; the first store is dropped before the second opens.
pub async fn restart<S, F, Fut>(mut open: F)
where
    S: BotStateStore + IntentLog,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    let sym = instrument("RESTART");
    let docs: Vec<StateDoc> = StatePart::ALL
        .into_iter()
        .zip(1..)
        .map(|(part, version)| doc(&StateKey::new(sym.clone(), part), version))
        .collect();
    let pending = intent(&sym, 1, 100);
    let submitted = intent(&sym, 2, 200)
        .advance(IntentStatus::Submitted, at(250))
        .with_order_id(OrderId::new("X-2"));
    let done = intent(&sym, 3, 50).advance(IntentStatus::Done, at(300));
    {
        let first = open().await;
        for doc in &docs {
            assert_eq!(first.save(doc).await.unwrap(), Saved::Written);
        }
        for intent in [&pending, &submitted, &done] {
            assert_eq!(first.record_intent(intent).await.unwrap(), Saved::Written);
        }
    }
    let second = open().await;
    for doc in &docs {
        assert_eq!(
            second.load(&doc.key).await.unwrap().as_ref(),
            Some(doc),
            "{}",
            doc.key
        );
    }
    assert_eq!(
        second.unsettled_intents(&sym).await.unwrap(),
        [pending.clone(), submitted.clone()]
    );
    assert_eq!(second.intent(&done.client_id).await.unwrap(), Some(done));
    let again = docs[5].clone();
    assert_eq!(
        second.save(&again).await.unwrap(),
        Saved::Stale { stored: 6 }
    );
    assert_eq!(
        second.record_intent(&pending).await.unwrap(),
        Saved::Stale { stored: 1 }
    );
}
