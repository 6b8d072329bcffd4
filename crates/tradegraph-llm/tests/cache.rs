#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cache and replay: read-write recording, replay-only runs that never call a provider.

mod common;

use common::*;
use std::sync::Arc;
use tradegraph_llm::cache::{CacheKey, CacheMode, JsonlCache, LlmCache, MemoryCache};
use tradegraph_llm::{Content, Llm, LlmError, Request, ScriptedProvider};

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-llm-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("answers.jsonl")
}

#[tokio::test]
async fn read_write_serves_the_second_identical_call_from_the_cache() {
    let p = ScriptedProvider::new("p", "m").text(VALID);
    let cache = Arc::new(MemoryCache::new());
    let llm = Llm::builder()
        .provider(p.clone())
        .cache(cache.clone(), CacheMode::ReadWrite)
        .build()
        .unwrap();
    let first = llm.structured::<Signal>(request()).await.unwrap();
    let second = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(first.value, second.value);
    assert!(!first.response.cached && second.response.cached);
    assert_eq!(second.response.cost, Some(rust_decimal::Decimal::ZERO));
    assert_eq!(p.requests().len(), 1);
    // Another temperature is another question.
    llm.structured::<Signal>(request().temperature(0.9))
        .await
        .unwrap();
    assert_eq!(p.requests().len(), 2);
    assert_eq!(llm.health()[0].cache_hits, 1);
    let acc = llm.accounting();
    assert_eq!((acc.run.calls, acc.run.cached), (2, 1));
    // Records hold the validated JSON.
    assert!(matches!(
        cache.records()[0].response.content,
        Content::Json(_)
    ));
}

#[tokio::test]
async fn a_recorded_run_replays_without_any_provider_even_its_failovers() {
    let path = temp_file("replay");
    {
        let primary = ScriptedProvider::new("primary", "m1")
            .error(LlmError::Overloaded {
                provider: "primary".into(),
                status: 529,
            })
            .text(VALID);
        let backup = ScriptedProvider::new("backup", "m2")
            .text(r#"{"action": "SELL", "confidence": 0.4, "reasons": ["backup"]}"#);
        let cache = Arc::new(JsonlCache::open(&path).await.unwrap());
        let llm = Llm::builder()
            .provider(primary)
            .provider(backup)
            .cache(cache, CacheMode::ReadWrite)
            .build()
            .unwrap();
        assert_eq!(
            llm.structured::<Signal>(request())
                .await
                .unwrap()
                .response
                .provider,
            "backup"
        );
        let other = Request::chat("You are a trading analyst.", "ETH?");
        assert_eq!(
            llm.structured::<Signal>(other)
                .await
                .unwrap()
                .response
                .provider,
            "primary"
        );
    }
    // Replay: providers that would fail if asked.
    let primary = ScriptedProvider::new("primary", "m1").error(LlmError::Connect {
        provider: "primary".into(),
        message: "offline".into(),
    });
    let backup = ScriptedProvider::new("backup", "m2").error(LlmError::Connect {
        provider: "backup".into(),
        message: "offline".into(),
    });
    let cache = Arc::new(JsonlCache::open(&path).await.unwrap());
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup.clone())
        .cache(cache, CacheMode::ReplayOnly)
        .build()
        .unwrap();
    let replayed = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(
        (
            replayed.value.reasons[0].as_str(),
            replayed.response.provider.as_str()
        ),
        ("backup", "backup")
    );
    assert!(replayed.response.cached);
    let eth = llm
        .structured::<Signal>(Request::chat("You are a trading analyst.", "ETH?"))
        .await
        .unwrap();
    assert_eq!(eth.value, valid());
    assert!(
        primary.requests().is_empty() && backup.requests().is_empty(),
        "replay never calls a provider"
    );
    // A question never recorded is a typed miss.
    match llm
        .structured::<Signal>(Request::chat("s", "never asked"))
        .await
        .unwrap_err()
    {
        LlmError::CacheMiss { key, providers } => {
            assert_eq!(key.len(), 64);
            assert_eq!(providers, "primary, backup");
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test]
async fn a_record_that_no_longer_validates_is_a_miss() {
    let cache = Arc::new(MemoryCache::new());
    let req = request();
    // A stale record under the key the structured call will use.
    let schema = tradegraph_llm::PreparedSchema::of::<Signal>().unwrap();
    let key = CacheKey::new("p", "m", &req.clone().schema(schema));
    let stale = tradegraph_llm::Response::new(
        "p",
        "m",
        Content::Json(serde_json::json!({"action": "BUY"})),
    );
    cache
        .put(tradegraph_llm::cache::CacheRecord {
            key,
            response: stale,
        })
        .await
        .unwrap();
    let p = ScriptedProvider::new("p", "m").text(VALID);
    let llm = Llm::builder()
        .provider(p.clone())
        .cache(cache.clone(), CacheMode::ReadWrite)
        .build()
        .unwrap();
    assert!(!llm.structured::<Signal>(req).await.unwrap().response.cached);
    assert_eq!(p.requests().len(), 1);
}

#[tokio::test]
async fn a_cache_mode_needs_a_cache() {
    let err = Llm::builder()
        .provider(ScriptedProvider::new("p", "m"))
        .cache(Arc::new(MemoryCache::new()), CacheMode::Off)
        .build();
    assert!(err.is_ok(), "off with a cache is fine");
}
