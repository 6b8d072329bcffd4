//! Bot state and order intents in memory and in a state file: the conformance suite, restarts,
//! crashes, and what the file does when something is wrong.
#![cfg(feature = "conformance")]

use crate::support::unique;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tradegraph_core::Timestamp;
use tradegraph_store::state::conformance;
use tradegraph_store::{
    BotStateStore, FileState, IntentLog, IntentStatus, MemoryState, Saved, StateDoc, StateKey,
    StatePart, StoreError,
};

fn scratch() -> PathBuf {
    std::env::temp_dir().join(unique("state"))
}

fn open(path: &Path) -> FileState {
    FileState::open(path).unwrap()
}

#[tokio::test]
async fn memory_passes_the_conformance_suite() {
    conformance::run_all(&MemoryState::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_keeps_the_newest_of_concurrent_saves() {
    conformance::concurrent_saves(Arc::new(MemoryState::new())).await;
}

#[tokio::test]
async fn a_state_file_passes_the_conformance_suite() {
    let dir = scratch();
    // Parent directories are created.
    let store = open(&dir.join("btc/nested/state.json"));
    conformance::run_all(&store).await;
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_reopened_state_file_has_everything_the_first_saved() {
    let dir = scratch();
    let path = dir.join("state.json");
    conformance::restart(|| {
        let path = path.clone();
        async move { open(&path) }
    })
    .await;
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(
        json["states"].as_array().unwrap().len(),
        tradegraph_store::StatePart::ALL.len()
    );
    assert_eq!(json["intents"].as_array().unwrap().len(), 3);
    assert!(
        !dir.join("state.json.tmp").exists(),
        "no temporary file is left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_to_a_state_file_keep_the_newest_on_disk() {
    let dir = scratch();
    let path = dir.join("state.json");
    let (key, id) = conformance::concurrent_saves(Arc::new(open(&path))).await;
    let reopened = open(&path);
    assert_eq!(reopened.load(&key).await.unwrap().unwrap().version, 50);
    let intent = reopened.intent(&id).await.unwrap().unwrap();
    assert_eq!((intent.version, intent.status), (50, IntentStatus::Done));
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_state_file_serves_one_store_at_a_time() {
    let dir = scratch();
    let path = dir.join("state.json");
    let first = open(&path);
    let err = FileState::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains(&format!("process {}", std::process::id())),
        "{text}"
    );
    drop(first);
    open(&path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_state_file_is_an_error_naming_it_and_is_never_reset() {
    let dir = scratch();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let torn = br#"{"format": 1, "states": [{"key": {"instrument": "BTCUSDT", "part": "guard"}, "#;
    std::fs::write(&path, torn).unwrap();
    let err = FileState::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Decode { .. }), "{err:?}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("EOF while parsing"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), torn, "the file is untouched");
    // The failed open let go of its lock: once repaired, the file opens.
    std::fs::write(&path, r#"{"format": 1}"#).unwrap();
    open(&path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_failed_write_changes_nothing_and_says_where() {
    let dir = scratch();
    let path = dir.join("state.json");
    let store = open(&path);
    let key = StateKey::new("BTCUSDT", StatePart::KillSwitch);
    let doc = |v: u64| StateDoc::encode(key.clone(), v, Timestamp::from_secs(60), &v).unwrap();
    assert_eq!(store.save(&doc(1)).await.unwrap(), Saved::Written);
    let before = std::fs::read(&path).unwrap();
    // The temporary file cannot be created where a directory stands.
    std::fs::create_dir(dir.join("state.json.tmp")).unwrap();
    let err = store.save(&doc(2)).await.unwrap_err();
    assert!(matches!(err, StoreError::StateFile { .. }), "{err:?}");
    assert!(err.to_string().contains("state.json"), "{err}");
    assert_eq!(store.load(&key).await.unwrap().unwrap().version, 1);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir(dir.join("state.json.tmp")).unwrap();
    assert_eq!(store.save(&doc(2)).await.unwrap(), Saved::Written);
    drop(store);
    assert_eq!(open(&path).load(&key).await.unwrap().unwrap().version, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The child: saves, records an intent, and aborts the process while holding the file.
#[test]
fn state_file_crash_child() {
    let Ok(path) = std::env::var("TG_STATE_CRASH_FILE") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = open(Path::new(&path));
        let key = StateKey::new("NIFTY50", StatePart::Guard);
        let doc = StateDoc::encode(key, 3, Timestamp::from_millis(1_250), &"halted").unwrap();
        store.save(&doc).await.unwrap();
        let intent = conformance::intent(&"NIFTY50".into(), 1, 0);
        store.record_intent(&intent).await.unwrap();
        std::process::abort();
    });
}

#[tokio::test]
async fn what_was_saved_before_a_crash_is_there_and_the_lock_is_taken_over() {
    let dir = scratch();
    let path = dir.join("state.json");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "state_local::state_file_crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TG_STATE_CRASH_FILE", &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die");
    assert!(
        dir.join("state.json.lock").exists(),
        "the dead child's lock file is left"
    );
    let store = open(&path);
    let key = StateKey::new("NIFTY50", StatePart::Guard);
    let doc = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        (doc.version, doc.decode::<String>().unwrap()),
        (3, "halted".into())
    );
    let open_intents = store.unsettled_intents(&"NIFTY50".into()).await.unwrap();
    assert_eq!(open_intents.len(), 1);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A save whose caller stops waiting (a cycle cancelled while its order intent is written)
/// still finishes writing the file off the async threads: the saves after it wait for it, so
/// the file is never two writes at once (a torn file the bot would refuse to start from, or a
/// save failing as the other's rename took its temporary file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_after_one_abandoned_midway_leave_a_whole_file() {
    let dir = scratch();
    let path = dir.join("state.json");
    let store = Arc::new(open(&path));
    let key = StateKey::new("BTCUSDT", StatePart::Broker);
    let big = serde_json::json!({ "fills": vec!["x".repeat(64); 40_000] });
    let small = serde_json::json!({ "fills": [] });
    let mut version = 0;
    for _ in 0..12 {
        version += 1;
        let doc = StateDoc::encode(key.clone(), version, Timestamp::EPOCH, &big).unwrap();
        let abandoned = {
            let store = store.clone();
            tokio::spawn(async move { store.save(&doc).await })
        };
        // the write is under way (its bytes are encoded off this task): stop waiting for it
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        abandoned.abort();
        let _ = abandoned.await;
        version += 1;
        let doc = StateDoc::encode(key.clone(), version, Timestamp::EPOCH, &small).unwrap();
        store
            .save(&doc)
            .await
            .expect("a save after an abandoned one succeeds");
    }
    drop(store);
    let reopened = FileState::open(&path).expect("the file is whole");
    let kept = reopened.load(&key).await.unwrap().unwrap();
    assert_eq!((kept.version, kept.body), (version, small));
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}
