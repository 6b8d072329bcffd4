//! One instance of a bot per instrument on a shared state store: a second start is refused
//! while the first renews its claim (naming it); a clean stop releases the claim; a claim left
//! unrenewed for a lease is taken over, and the instance that lost it stops.

use super::support::*;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph::engine::{
    paper_broker, Engine, EngineError, InstanceClaiming, InstanceLease, Mode,
};
use tradegraph_core::risk::RiskLimits;
use tradegraph_market::{MarketEvent, SimulatedClock};
use tradegraph_store::{
    BotStateStore, IntentLog, MemoryState, Saved, StateDoc, StateKey, StatePart, StoreError, Stores,
};

const LEASE: Duration = Duration::from_millis(600);

/// A state store the test can cut off from its process (every call fails), as a network
/// partition would.
struct Cuttable {
    inner: Arc<MemoryState>,
    cut: Arc<AtomicBool>,
}

fn cut_off() -> StoreError {
    StoreError::Timeout {
        backend: "test",
        operation: "state",
        after: Duration::from_millis(1),
    }
}

#[async_trait]
impl BotStateStore for Cuttable {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(cut_off());
        }
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(cut_off());
        }
        self.inner.save(doc).await
    }
}

type Bot =
    Engine<SimulatedClock, futures::stream::Pending<MarketEvent>, tradegraph_broker::PaperBroker>;

/// A bot on `symbol` whose state is `state`, fed nothing (it runs until stopped).
async fn bot(symbol: &str, state: Arc<dyn BotStateStore>) -> Result<Bot, EngineError> {
    bot_on(symbol, state, InstanceClaiming::AtStart(LEASE)).await
}

fn claim(body: &serde_json::Value) -> (u64, bool) {
    (
        body["pid"].as_u64().unwrap(),
        body["released"].as_bool().unwrap_or(false),
    )
}

async fn stored_claim(state: &MemoryState, symbol: &str) -> StateDoc {
    state
        .load(&StateKey::new(symbol, StatePart::Instance))
        .await
        .unwrap()
        .expect("a claim is stored")
}

#[tokio::test]
async fn a_second_instance_is_refused_while_the_first_runs_and_starts_once_it_stopped() {
    let symbol = unique("IN");
    let state = Arc::new(MemoryState::new());
    let first = bot(&symbol, state.clone()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        Box::pin(first.run(async { stopped.await.unwrap_or(()) }, |_| {})).await
    });
    assert_eq!(
        claim(&stored_claim(&state, &symbol).await.body),
        (u64::from(std::process::id()), false)
    );

    match bot(&symbol, state.clone()).await {
        Err(EngineError::AnotherInstance { instrument, holder }) => {
            assert_eq!(instrument, symbol);
            assert!(
                holder.contains(&format!("process {}", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("a second instance started: {:?}", other.map(|_| ())),
    }

    // Stopped cleanly, the first releases its claim: the next start takes it.
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(
        claim(&stored_claim(&state, &symbol).await.body).1,
        "released"
    );
    let next = bot(&symbol, state.clone()).await.unwrap();
    assert!(!claim(&stored_claim(&state, &symbol).await.body).1);
    drop(next);
}

#[tokio::test]
async fn a_claim_left_unrenewed_is_taken_over_and_the_instance_that_lost_it_stops() {
    let symbol = unique("IT");
    let state = Arc::new(MemoryState::new());
    let cut = Arc::new(AtomicBool::new(false));
    let first = bot(
        &symbol,
        Arc::new(Cuttable {
            inner: state.clone(),
            cut: cut.clone(),
        }),
    )
    .await
    .unwrap();
    let running =
        tokio::spawn(async move { Box::pin(first.run(std::future::pending(), |_| {})).await });
    let held = stored_claim(&state, &symbol).await.version;

    // The first is cut off from the store: its claim is not renewed, and the second takes
    // it over after a lease.
    cut.store(true, Ordering::SeqCst);
    let second = bot(&symbol, state.clone()).await.unwrap();
    let taken = stored_claim(&state, &symbol).await;
    assert!(taken.version > held, "{} after {held}", taken.version);

    // Back on the store, the first finds its claim taken and stops, saving nothing of the
    // bot's state on its way out (it saves every part at a clean exit).
    let guard_key = StateKey::new(symbol.as_str(), StatePart::Guard);
    let guard_before = state.load(&guard_key).await.unwrap().map(|d| d.version);
    cut.store(false, Ordering::SeqCst);
    let ended = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the instance that lost its claim runs on")
        .unwrap();
    assert!(
        matches!(ended, Err(EngineError::AnotherInstance { .. })),
        "{:?}",
        ended.map(|s| s.cycles)
    );
    assert_eq!(
        state.load(&guard_key).await.unwrap().map(|d| d.version),
        guard_before,
        "the instance that lost its claim saved the guard over the holder's"
    );
    drop(second);
}

/// Taken over between its renewals, an instance sends no order: the journal reads the claim
/// again right before the entry goes out.
#[tokio::test]
async fn an_instance_whose_claim_was_taken_over_sends_no_order() {
    let symbol = unique("IO");
    let state = Arc::new(MemoryState::new());
    let mut stores = Stores::memory();
    stores.state = state.clone();
    stores.intents = state.clone();
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::at(&[(
            "2024-03-04T00:15:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        )]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    config.instance = InstanceClaiming::AtStart(Duration::from_secs(600));
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 31));
    let engine = start(config, &file).await;
    // Another instance writes the claim (it took it over while this one was cut off).
    let mine = stored_claim(&state, &symbol).await;
    let mut theirs = mine.body.clone();
    theirs["pid"] = serde_json::json!(1);
    theirs["instance"] = serde_json::json!("another-run");
    let taken =
        StateDoc::encode(mine.key.clone(), mine.version + 1, mine.saved_at, &theirs).unwrap();
    assert_eq!(state.save(&taken).await.unwrap(), Saved::Written);

    let broker = engine.broker().inner().clone();
    let ended = Box::pin(engine.run(std::future::pending(), |_| {})).await;
    std::fs::remove_file(file).unwrap();
    assert!(
        matches!(ended, Err(EngineError::AnotherInstance { ref holder, .. }) if holder.starts_with("process 1 on")),
        "{:?}",
        ended.map(|s| s.cycles)
    );
    // The entry reached the journal (its refusal names the other instance) and went no
    // further: not even its intent is written (the holder may decide an order of the same
    // client id, which a pending intent of this one's would refuse).
    let intents = state
        .unsettled_intents(&tradegraph_core::Symbol::new(symbol.as_str()))
        .await
        .unwrap();
    assert!(intents.is_empty(), "{intents:?}");
    let fills = tradegraph_broker::Broker::fills_since(broker.as_ref(), 0)
        .await
        .unwrap();
    assert!(fills.is_empty(), "{fills:?}");
    // The claim stays the other instance's: not released over it.
    assert_eq!(stored_claim(&state, &symbol).await.body["pid"], 1);
}

/// A bot started on `claiming` (a claim taken before its broker connected).
async fn bot_on(
    symbol: &str,
    state: Arc<dyn BotStateStore>,
    claiming: InstanceClaiming,
) -> Result<Bot, EngineError> {
    let mut stores = Stores::memory();
    stores.state = state;
    let mut config = config(
        btc_as(symbol),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    config.instance = claiming;
    let broker = paper_broker(&config).unwrap();
    Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        futures::stream::pending(),
        broker,
    ))
    .await
}

/// A claim taken before the broker connected (as `tradegraph run` takes it before a venue's
/// broker resumes its book) is kept by the engine, and released by whoever took it. One taken
/// over before the engine started (the connect took longer than a lease), or another
/// instrument's, starts nothing.
#[tokio::test]
async fn a_claim_taken_before_the_broker_connected_is_the_engines() {
    let symbol = unique("IH");
    let state = Arc::new(MemoryState::new());
    let claimed = InstanceLease::claim(
        state.clone(),
        &tradegraph_core::Symbol::new(symbol.as_str()),
        LEASE,
        tradegraph_core::Timestamp::from_millis(0),
    )
    .await
    .unwrap();
    let claimed = Arc::new(claimed);
    let id = stored_claim(&state, &symbol).await.body["instance"].clone();

    // Another instrument's claim is refused, naming both.
    let other = unique("IX");
    match bot_on(
        &other,
        state.clone(),
        InstanceClaiming::Held(claimed.clone()),
    )
    .await
    {
        Err(EngineError::Config(why)) => {
            assert!(why.contains(&symbol) && why.contains(&other), "{why}");
        }
        other => panic!(
            "another instrument's claim was taken: {:?}",
            other.map(|_| ())
        ),
    }

    let first = bot_on(
        &symbol,
        state.clone(),
        InstanceClaiming::Held(claimed.clone()),
    )
    .await
    .unwrap();
    // Not claimed again: the engine keeps the claim it was handed.
    assert_eq!(stored_claim(&state, &symbol).await.body["instance"], id);
    Box::pin(first.run(async {}, |_| {})).await.unwrap();
    // Whoever took it releases it, after its own last writes (`tradegraph run` saves the model
    // usage after the engine stopped): the engine leaves it held.
    assert!(
        !claim(&stored_claim(&state, &symbol).await.body).1,
        "not released by the engine"
    );
    assert!(!claimed.is_lost());
    claimed.release().await;
    assert!(
        claim(&stored_claim(&state, &symbol).await.body).1,
        "released"
    );

    // Taken over before the engine started: refused, naming the holder.
    let taken = Arc::new(
        InstanceLease::claim(
            state.clone(),
            &tradegraph_core::Symbol::new(symbol.as_str()),
            LEASE,
            tradegraph_core::Timestamp::from_millis(0),
        )
        .await
        .unwrap(),
    );
    let mine = stored_claim(&state, &symbol).await;
    let mut theirs = mine.body.clone();
    theirs["pid"] = serde_json::json!(1);
    theirs["instance"] = serde_json::json!("another-run");
    let over =
        StateDoc::encode(mine.key.clone(), mine.version + 1, mine.saved_at, &theirs).unwrap();
    assert_eq!(state.save(&over).await.unwrap(), Saved::Written);
    match bot_on(
        &symbol,
        state.clone(),
        InstanceClaiming::Held(taken.clone()),
    )
    .await
    {
        Err(EngineError::AnotherInstance { holder, .. }) => {
            assert!(holder.starts_with("process 1 on"), "{holder}");
        }
        other => panic!(
            "a claim taken over started the bot: {:?}",
            other.map(|_| ())
        ),
    }
    assert!(taken.is_lost());
    taken.release().await;
    assert_eq!(
        stored_claim(&state, &symbol).await.body["pid"],
        1,
        "not released over the holder's"
    );
}

/// A state store that applies the first renewal of a claim and then answers with an error (a
/// timeout whose write landed), as a server can.
struct LandedButFailed {
    inner: Arc<MemoryState>,
    renewals: std::sync::atomic::AtomicU32,
}

#[async_trait]
impl BotStateStore for LandedButFailed {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let saved = self.inner.save(doc).await;
        if doc.key.part == StatePart::Instance && self.renewals.fetch_add(1, Ordering::SeqCst) == 1
        {
            return Err(cut_off());
        }
        saved
    }
}

/// Its own renewal applied although the store answered an error: the next renewal finds the
/// stored version ahead of its count, sees the claim is its own, and runs on.
#[tokio::test]
async fn an_instance_whose_renewal_landed_with_an_error_keeps_its_claim() {
    let symbol = unique("IL");
    let state = Arc::new(MemoryState::new());
    let first = bot(
        &symbol,
        Arc::new(LandedButFailed {
            inner: state.clone(),
            renewals: std::sync::atomic::AtomicU32::new(0),
        }),
    )
    .await
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        Box::pin(first.run(async { stopped.await.unwrap_or(()) }, |_| {})).await
    });
    // Renewed past the one that landed with an error: it still runs, and holds the claim.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stored_claim(&state, &symbol).await.version < 5 {
        assert!(!running.is_finished(), "{:?}", running.await);
        assert!(
            std::time::Instant::now() < deadline,
            "no renewal after the one that landed with an error"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!running.is_finished(), "{:?}", running.await);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(
        claim(&stored_claim(&state, &symbol).await.body).1,
        "released"
    );
}

/// A claim left by a process of this host that is gone (killed, its bot never released it) is
/// taken over at once, without waiting a lease (Linux: the process is looked up in `/proc`).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_claim_whose_process_is_gone_is_taken_over_at_once() {
    let symbol = unique("IG");
    let state = Arc::new(MemoryState::new());
    let first = bot(&symbol, state.clone()).await.unwrap();
    drop(first);
    // As if another process of this host held it: a process that ran and is gone.
    let gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    let mut gone = gone;
    gone.wait().unwrap();
    let held = stored_claim(&state, &symbol).await;
    let mut body = held.body.clone();
    body["pid"] = serde_json::json!(pid);
    body["instance"] = serde_json::json!("a-killed-run");
    let doc = StateDoc::encode(held.key.clone(), held.version + 1, held.saved_at, &body).unwrap();
    assert_eq!(state.save(&doc).await.unwrap(), Saved::Written);

    let mut stores = Stores::memory();
    stores.state = state.clone();
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    // A lease no test waits for.
    config.instance = InstanceClaiming::AtStart(Duration::from_secs(3_600));
    let broker = paper_broker(&config).unwrap();
    let started = tokio::time::timeout(
        Duration::from_secs(60),
        Box::pin(Engine::start(
            config,
            SimulatedClock::default(),
            futures::stream::pending::<MarketEvent>(),
            broker,
        )),
    )
    .await
    .expect("the start waited for the lease of a claim whose process is gone");
    assert!(started.is_ok(), "{:?}", started.map(|_| ()));
    assert_eq!(
        claim(&stored_claim(&state, &symbol).await.body).0,
        u64::from(std::process::id())
    );
}

/// A release whose write failed (the store away at the stop) is tried again by the next call:
/// the next start does not wait a lease for a claim its holder meant to let go.
#[tokio::test]
async fn a_release_that_failed_is_tried_again() {
    let symbol = unique("IR");
    let state = Arc::new(MemoryState::new());
    let cut = Arc::new(AtomicBool::new(false));
    let store: Arc<dyn BotStateStore> = Arc::new(Cuttable {
        inner: state.clone(),
        cut: cut.clone(),
    });
    let claimed = InstanceLease::claim(
        store,
        &tradegraph_core::Symbol::new(symbol.as_str()),
        LEASE,
        tradegraph_core::Timestamp::from_millis(0),
    )
    .await
    .unwrap();
    cut.store(true, Ordering::SeqCst);
    claimed.release().await;
    cut.store(false, Ordering::SeqCst);
    assert!(
        !claim(&stored_claim(&state, &symbol).await.body).1,
        "the first release did not reach the store"
    );
    claimed.release().await;
    assert!(
        claim(&stored_claim(&state, &symbol).await.body).1,
        "released"
    );
}
