//! A client order id is never used twice, also across restarts: a restarted bot whose decision
//! sequence was lost decides again at the same candle time, derives the same client order id,
//! and the order journal answers with the order sent before: no second order reaches the broker
//! (the broker is counted: its own idempotent submit would also answer a known id, so only a
//! count of the calls that reach it shows the journal refused).

use super::support::*;
use super::wrapped::Wrapped;
use std::sync::atomic::Ordering;
use tradegraph::engine::{paper_broker, Mode};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::Side;
use tradegraph_store::{Stores, StoresConfig};

#[tokio::test]
async fn a_restarted_bot_deciding_at_the_same_candle_time_sends_no_second_order() {
    let symbol = unique("ID");
    let instrument = btc_as(&symbol);
    let path = std::env::temp_dir().join(format!("{}.json", unique("tg-ids-")));
    let connect = || async {
        Stores::connect(StoresConfig::new().state_file(Some(path.clone())))
            .await
            .unwrap()
    };
    let script = || {
        ScriptedPm::at(&[(
            "2024-03-04T00:15:00Z",
            buy(5.0, 95.0, Some(130.0), None).unwrap(),
        )])
    };
    let data = bars_file(
        &format!("{symbol}-bars"),
        "2024-03-04T00:00:00Z",
        &flat(100.0, 20),
    );

    let stores = connect().await;
    let first = start(
        config(
            instrument.clone(),
            script(),
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        ),
        &data,
    )
    .await;
    let run = finish(first, stores.clone()).await;
    let buys = |run: &Run| {
        run.broker_fills
            .iter()
            .filter(|f| f.side == Side::Buy)
            .count()
    };
    assert_eq!(buys(&run), 1, "the entry at 00:15");
    let entry_id = run.broker_fills[0].client_id.clone();
    stores.shutdown().await;
    drop((stores, run));

    // The decision sequence is lost (the intents and the paper account are kept): the cycle
    // at 00:15 runs again and derives the same client order id.
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let states = state["states"].as_array_mut().unwrap();
    let before = states.len();
    states.retain(|doc| doc["key"]["part"] != "sequence");
    assert_eq!(states.len(), before - 1, "the sequence was saved: {state}");
    std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();

    let stores = connect().await;
    let config = config(
        instrument.clone(),
        script(),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    let (broker, dials) = Wrapped::new(paper_broker(&config).unwrap());
    let second = start_on(config, &data, broker).await;
    assert_eq!(second.sequence().cycles, 0, "the sequence starts again");
    let run = finish(second, stores.clone()).await;
    let again = run
        .cycles
        .iter()
        .find(|c| c.as_of == "2024-03-04T00:15:00Z".parse().unwrap())
        .expect("00:15 decided again");
    assert!(
        again.verdict.as_ref().is_some_and(|v| v.entry().is_some()),
        "the same entry decided again: {:?}",
        again.verdict
    );
    assert_eq!(
        buys(&run),
        1,
        "no second order at the broker: {:?}",
        run.broker_fills
    );
    assert_eq!(run.broker_fills[0].client_id, entry_id);
    assert_eq!(
        dials.submits.load(Ordering::SeqCst),
        0,
        "the order journal refused the known id: no submit reached the broker"
    );
    assert!(
        run.summary.fills.is_empty(),
        "nothing filled in the second run"
    );
    stores.shutdown().await;
    std::fs::remove_file(&path).ok();
    std::fs::remove_file(&data).ok();
}
