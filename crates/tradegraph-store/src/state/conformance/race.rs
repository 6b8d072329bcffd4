//! Concurrent writers of one key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{at, doc, instrument, intent};
use crate::state::{BotStateStore, IntentLog, IntentStatus, Saved, StateKey, StatePart};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tradegraph_core::order::ClientOrderId;

/// A small, seedable shuffle (the seed is printed on failure).
fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut items: Vec<u64> = (1..=n).collect();
    let mut x = seed | 1;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = usize::try_from(x % (i as u64 + 1)).unwrap();
        items.swap(i, j);
    }
    items
}

/// Versions 1..=50 of a document and of an intent, saved at once from 50 tasks in random order:
/// version 50 is what is stored, every `Stale` reports a version at least as high as its own,
/// and the unsettled list agrees with the stored intent (settled at version 50). Returns the
/// document's key and the intent's client id, for checks after a restart.
pub async fn concurrent_saves<S: BotStateStore + IntentLog>(
    store: Arc<S>,
) -> (StateKey, ClientOrderId) {
    const N: u64 = 50;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.subsec_nanos().into());
    let sym = instrument("RACE");
    let key = StateKey::new(sym.clone(), StatePart::Trades);
    let base = intent(&sym, 1, 0);
    let mut tasks = Vec::new();
    // All start at once, so that first writes of a key race each other too.
    let start = Arc::new(tokio::sync::Barrier::new(usize::try_from(N).unwrap()));
    for version in shuffled(N, seed) {
        let (store, key, start) = (store.clone(), key.clone(), start.clone());
        let mut record = base.clone();
        record.version = version;
        record.updated_at = at(i64::try_from(version).unwrap());
        record.status = match version {
            N => IntentStatus::Done,
            v if v % 2 == 0 => IntentStatus::Submitted,
            _ => IntentStatus::Pending,
        };
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let doc = doc(&key, version);
            let (saved, recorded) = tokio::join!(store.save(&doc), store.record_intent(&record));
            (version, saved.unwrap(), recorded.unwrap())
        }));
    }
    let mut written = (0, 0);
    for task in tasks {
        let (version, saved, recorded) = task.await.unwrap();
        for (what, answer, count) in [
            ("state", saved, &mut written.0),
            ("intent", recorded, &mut written.1),
        ] {
            match answer {
                Saved::Written => *count += 1,
                Saved::Stale { stored } => assert!(
                    stored >= version,
                    "{what} version {version} was stale against {stored} (seed {seed})"
                ),
            }
        }
    }
    assert!(written.0 >= 1 && written.1 >= 1, "seed {seed}");
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(doc(&key, N)),
        "seed {seed}"
    );
    let stored = store.intent(&base.client_id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.status),
        (N, IntentStatus::Done),
        "seed {seed}"
    );
    assert!(
        store.unsettled_intents(&sym).await.unwrap().is_empty(),
        "seed {seed}"
    );
    (key, base.client_id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shuffles_are_permutations_and_differ_by_seed() {
        let a = super::shuffled(50, 12345);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=50).collect::<Vec<_>>());
        assert_ne!(a, super::shuffled(50, 999));
        assert_ne!(a, sorted);
    }
}
