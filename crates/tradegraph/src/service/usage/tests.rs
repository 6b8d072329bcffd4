#![allow(clippy::unwrap_used)]
use super::*;
use tradegraph_core::Timestamp;
use tradegraph_llm::{LlmError, Request, ScriptedProvider};
use tradegraph_store::{MemoryState, StateDoc, StateKey};

fn chain() -> Llm {
    let primary = ScriptedProvider::new("primary", "m1")
        .error(LlmError::Overloaded {
            provider: "primary".into(),
            status: 529,
        })
        .text("first");
    let backup = ScriptedProvider::new("backup", "m2").text("second");
    Llm::builder()
        .provider(primary)
        .provider(backup)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_book_counts_this_run_by_the_chains_own_rule() {
    let llm = chain();
    let store: Arc<dyn BotStateStore> = Arc::new(MemoryState::new());
    let book = UsageBook::start(&llm, store, "BTCUSDT".into())
        .await
        .unwrap();
    let ask = Request::chat("system", "user").agent("technical");
    // The primary fails (one call, failed), the backup answers (one call), then the primary
    // answers.
    llm.complete(&ask).await.unwrap();
    llm.complete(&ask).await.unwrap();
    book.flush().await;
    let run = llm.accounting().run;
    let counted = book.run();
    assert_eq!(counted.calls, 3, "{counted:?}");
    assert_eq!(counted.calls, run.calls, "{counted:?} vs {run:?}");
    assert_eq!(counted.cached, run.cached);
    assert_eq!(counted.input_tokens, run.usage.input_tokens);
    assert_eq!(counted.output_tokens, run.usage.output_tokens);
    assert_eq!(counted.cost, run.cost);
    let today = chrono::Utc::now().date_naive();
    let report = book.report(1, today);
    assert_eq!(report.total, counted, "today is all of this run");
    assert_eq!(report.by_provider["primary"].calls, 2);
    assert_eq!(report.by_agent["technical"].calls, 3);
    assert_eq!(book.missed(), 0);
}

#[tokio::test]
async fn a_saved_ledger_that_cannot_be_read_is_replaced_by_an_empty_one() {
    let llm = chain();
    let store = Arc::new(MemoryState::new());
    let key = StateKey {
        instrument: "BTCUSDT".into(),
        part: StatePart::LlmUsage,
    };
    let bad = serde_json::json!({"rows": "not rows"});
    let doc = StateDoc::encode(key, 1, Timestamp::from_millis(0), &bad).unwrap();
    store.save(&doc).await.unwrap();
    let store: Arc<dyn BotStateStore> = store;
    let book = UsageBook::start(&llm, store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(book.report(7, today).total, Tally::default());
    llm.complete(&Request::chat("system", "user"))
        .await
        .unwrap();
    book.flush().await;
    let again = UsageBook::start(&llm, store, "BTCUSDT".into())
        .await
        .unwrap();
    assert_eq!(
        again.report(7, today).total.calls,
        2,
        "the unreadable ledger was replaced by a good one"
    );
}

/// A state store that counts the usage ledger's saves.
#[derive(Default)]
struct Counting {
    inner: MemoryState,
    saves: AtomicU64,
}

#[async_trait::async_trait]
impl BotStateStore for Counting {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, tradegraph_store::StoreError> {
        self.inner.load(key).await
    }
    async fn save(
        &self,
        doc: &StateDoc,
    ) -> Result<tradegraph_store::Saved, tradegraph_store::StoreError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save(doc).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_calls_is_saved_once_then_at_most_every_save_interval() {
    let store = Arc::new(Counting::default());
    let llm = Llm::builder()
        .provider(ScriptedProvider::new("p", "m").text("answer"))
        .build()
        .unwrap();
    let book = UsageBook::start(&llm, store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    let ask = Request::chat("system", "user");
    for _ in 0..10 {
        llm.complete(&ask).await.unwrap();
        // Let the book count this call on its own (a batch of one).
        while book.run().calls < llm.accounting().run.calls {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(
        store.saves.load(Ordering::SeqCst),
        1,
        "the burst saved once"
    );
    // The calls after that save are saved when the interval is up, without a flush.
    tokio::time::sleep(SAVE_EVERY).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.saves.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    assert_eq!(store.saves.load(Ordering::SeqCst), 2);
    // Read back by a book of another chain (which counts none of these calls).
    let again = UsageBook::start(&chain(), store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        again.report(1, today).total.calls,
        10,
        "every call was saved"
    );
    // The final flush saves at once, whatever the interval.
    llm.complete(&ask).await.unwrap();
    book.flush().await;
    assert_eq!(store.saves.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn todays_calls_before_a_restart_count_against_todays_budget() {
    let store: Arc<dyn BotStateStore> = Arc::new(MemoryState::new());
    let llm = chain();
    let book = UsageBook::start(&llm, store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    // Two calls today: the primary fails, the backup answers.
    llm.complete(&Request::chat("system", "user"))
        .await
        .unwrap();
    book.flush().await;
    // Restarted, with a budget of three calls a day.
    let restarted = Llm::builder()
        .provider(ScriptedProvider::new("primary", "m1").text("a").text("b"))
        .day_budget(tradegraph_llm::budget::RunBudget::default().max_calls(3))
        .build()
        .unwrap();
    let _book = UsageBook::start(&restarted, store, "BTCUSDT".into())
        .await
        .unwrap();
    restarted.begin_cycle(utc_day_number(chrono::Utc::now().date_naive()));
    assert_eq!(
        restarted.accounting().day.calls,
        2,
        "today's calls carried over"
    );
    restarted
        .complete(&Request::chat("system", "user"))
        .await
        .unwrap();
    let err = restarted
        .complete(&Request::chat("system", "user"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::BudgetExceeded {
                window: tradegraph_llm::budget::BudgetWindow::Day,
                ..
            }
        ),
        "the restart gave the day no fresh budget: {err:?}"
    );
}

/// Two books on one instrument's state (an instrument's previous holder flushing late, an
/// instance taken over): the second's saves are not refused for good once the first saved
/// since the second read the part; its calls are added to the first's, none lost. A book
/// with nothing counted since its last save writes nothing when flushed.
#[tokio::test]
async fn a_book_whose_part_was_saved_by_another_process_still_saves() {
    let store: Arc<dyn BotStateStore> = Arc::new(MemoryState::new());
    let ask = Request::chat("system", "user");
    let late = Llm::builder()
        .provider(ScriptedProvider::new("p", "m").text("a").text("b"))
        .build()
        .unwrap();
    let late_book = UsageBook::start(&late, store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    let next = Llm::builder()
        .provider(
            ScriptedProvider::new("p", "m")
                .text("c")
                .text("d")
                .text("e"),
        )
        .build()
        .unwrap();
    let next_book = UsageBook::start(&next, store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    late.complete(&ask).await.unwrap();
    late_book.flush().await;
    let today = chrono::Utc::now().date_naive();
    let saved = UsageBook::start(&chain(), store.clone(), "BTCUSDT".into())
        .await
        .unwrap();
    assert_eq!(
        saved.report(1, today).total.calls,
        1,
        "the first book saved"
    );
    for _ in 0..3 {
        next.complete(&ask).await.unwrap();
    }
    next_book.flush().await;
    let store_again = store.clone();
    let read = UsageBook::start(&chain(), store, "BTCUSDT".into())
        .await
        .unwrap();
    assert_eq!(
        read.report(1, today).total.calls,
        4,
        "the first book's call and the second's three"
    );
    assert_eq!(
        next_book.report(1, today).total.calls,
        4,
        "the book shows them too"
    );
    // The first flushes again with nothing new: nothing is written.
    let key = StateKey {
        instrument: "BTCUSDT".into(),
        part: StatePart::LlmUsage,
    };
    let version = store_again.load(&key).await.unwrap().unwrap().version;
    late_book.flush().await;
    assert_eq!(
        store_again.load(&key).await.unwrap().unwrap().version,
        version,
        "nothing new, nothing written"
    );
}
