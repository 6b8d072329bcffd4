//! The conformance suite every [`BotStateStore`] + [`IntentLog`] backend passes: call
//! [`run_all`] with a store, [`restart`] with a way to open a second store on the same file or
//! server, and [`concurrent_saves`] for backends shared between tasks or processes. Instruments
//! are unique per call, so a persistent store may be reused between runs and tests.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use tradegraph_store::state::conformance;
//! use tradegraph_store::MemoryState;
//! conformance::run_all(&MemoryState::new()).await;
//! # }
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fields;
mod race;
mod restart;
mod versions;

pub use fields::{
    a_client_id_keeps_its_instrument, every_field_round_trips,
    unsettled_intents_come_oldest_first_until_settled, SampleState,
};
pub use race::concurrent_saves;
pub use restart::restart;
pub use versions::{
    intent_versions_only_go_up, missing_keys_are_none, parts_and_instruments_are_kept_apart,
    versions_only_go_up,
};

use super::{BotStateStore, IntentLog, IntentRecord, StateDoc, StateKey};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tradegraph_core::order::{ClientOrderId, DecisionId, Leg, OrderRequest, OrderSide};
use tradegraph_core::{Decimal, Symbol, Timestamp};

/// An instrument no other call uses: `<name>` and a unique suffix.
pub fn instrument(name: &str) -> Symbol {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000_000);
    Symbol::new(format!(
        "{name}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// 2024-01-01T10:00:00Z plus `ms`.
pub(crate) fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_704_103_200_000 + ms)
}

pub(crate) fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A state document whose body names its key and version.
pub fn doc(key: &StateKey, version: u64) -> StateDoc {
    let body = serde_json::json!({"key": key.to_string(), "version": version});
    StateDoc::encode(
        key.clone(),
        version,
        at(i64::try_from(version).unwrap()),
        &body,
    )
    .unwrap()
}

/// A pending market-order intent of `instrument` for decision `n`, created at `at(created_ms)`.
pub fn intent(instrument: &Symbol, n: u32, created_ms: i64) -> IntentRecord {
    let decision = DecisionId::new(format!("{instrument}-{n}"));
    let id = ClientOrderId::derive(instrument, &decision, Leg::Entry);
    let request = OrderRequest::market(id, instrument.clone(), OrderSide::Buy, d("0.015"));
    IntentRecord::pending(request, decision, at(created_ms))
}

/// Every check but [`restart`] and [`concurrent_saves`].
pub async fn run_all<S: BotStateStore + IntentLog>(store: &S) {
    versions_only_go_up(store).await;
    intent_versions_only_go_up(store).await;
    missing_keys_are_none(store).await;
    parts_and_instruments_are_kept_apart(store).await;
    unsettled_intents_come_oldest_first_until_settled(store).await;
    every_field_round_trips(store).await;
    a_client_id_keeps_its_instrument(store).await;
}
