#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cache and replay: read-write recording, replay-only runs that never call a provider.

mod common;

use common::*;
use std::sync::Arc;
use tradegraph_llm::cache::{CacheKey, CacheMode, CacheRecord, JsonlCache, LlmCache, MemoryCache};
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

/// A cached answer is served before the provider's rate limit is consulted: a re-run from a
/// full read-write cache is not paced by the provider's requests per minute, nor refused.
#[tokio::test]
async fn a_cached_answer_does_not_wait_for_the_rate_limit() {
    use tradegraph_llm::fallback::Limits;
    use tradegraph_llm::ProviderOptions;
    let p = ScriptedProvider::new("p", "m").text(VALID);
    let limits = Limits {
        requests_per_minute: Some(1),
        ..Limits::default()
    };
    let llm = Llm::builder()
        .provider_arc(
            Arc::new(p.clone()),
            ProviderOptions {
                limits,
                ..ProviderOptions::default()
            },
        )
        .cache(Arc::new(MemoryCache::new()), CacheMode::ReadWrite)
        .max_queue_wait(std::time::Duration::from_millis(50))
        .build()
        .unwrap();
    llm.structured::<Signal>(request()).await.unwrap();
    for _ in 0..3 {
        let again = llm.structured::<Signal>(request()).await.unwrap();
        assert!(again.response.cached);
    }
    assert_eq!(p.requests().len(), 1);
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

/// An OpenAI-compatible server that answers every chat call with `action`.
#[cfg(feature = "openai")]
async fn compatible_server(action: &str) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    let content =
        format!(r#"{{"action": "{action}", "confidence": 0.5, "reasons": ["{action}"]}}"#);
    wiremock::Mock::given(wiremock::matchers::path("/v1/chat/completions"))
        .respond_with(json(
            200,
            serde_json::json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            }),
        ))
        .mount(&server)
        .await;
    server
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn two_base_urls_under_one_provider_name_do_not_share_cached_answers() {
    use tradegraph_llm::openai::OpenAi;
    let (buy, sell) = (
        compatible_server("BUY").await,
        compatible_server("SELL").await,
    );
    let cache = Arc::new(MemoryCache::new());
    // Same provider name, same model, same key; only the base URL differs (one with a
    // trailing slash, which names the same endpoint).
    let client = |base: String| {
        let p = OpenAi::compatible("local", &base, Some(CANARY.into()))
            .unwrap()
            .with_model("m");
        Llm::builder()
            .provider(p)
            .cache(cache.clone(), CacheMode::ReadWrite)
            .build()
            .unwrap()
    };
    let on_buy = client(format!("{}/v1", buy.uri()));
    let on_sell = client(format!("{}/v1", sell.uri()));
    let first = on_buy.structured::<Signal>(request()).await.unwrap();
    assert_eq!(first.value.action, Action::Buy);
    let other = on_sell.structured::<Signal>(request()).await.unwrap();
    assert_eq!(
        other.value.action,
        Action::Sell,
        "another endpoint under the same provider name was served the first one's cached answer"
    );
    assert!(!other.response.cached);
    assert_eq!(sell.received_requests().await.unwrap().len(), 1);
    // The same endpoint (written with a trailing slash) still hits the cache.
    let again = client(format!("{}/v1/", buy.uri()))
        .structured::<Signal>(request())
        .await
        .unwrap();
    assert!(again.response.cached);
    assert_eq!(again.value.action, Action::Buy);
    assert_eq!(buy.received_requests().await.unwrap().len(), 1);
    // No record holds the key or the endpoint's address in clear.
    assert_eq!(cache.records().len(), 2);
    for record in cache.records() {
        let text = serde_json::to_string(&record).unwrap();
        assert!(
            !text.contains(CANARY) && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
}

/// A cache whose writes never finish: the caller's future is dropped while it waits.
#[derive(Debug)]
struct StuckCache;

#[tradegraph_llm::async_trait]
impl LlmCache for StuckCache {
    async fn get(&self, _key: &CacheKey) -> Result<Option<CacheRecord>, LlmError> {
        Ok(None)
    }
    async fn put(&self, _record: CacheRecord) -> Result<(), LlmError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_call_dropped_while_its_answer_is_cached_is_still_reported() {
    // The usage ledger adds up `Call` events and must agree with the accounting, even when the
    // caller gives up (a node timeout) while the answer is being written to the cache.
    let llm = Llm::builder()
        .provider(ScriptedProvider::new("p", "m").text(VALID))
        .cache(Arc::new(StuckCache), CacheMode::ReadWrite)
        .build()
        .unwrap();
    let mut events = llm.subscribe();
    let req = request();
    let call = llm.complete(&req);
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), call).await;
    assert!(timed_out.is_err(), "the cache write never finishes");
    assert_eq!(llm.accounting().run.calls, 1);
    let mut calls = 0;
    while let Ok(event) = events.try_recv() {
        if let tradegraph_llm::fallback::LlmEvent::Call { usage, .. } = event {
            assert_eq!(usage.total(), 15);
            calls += 1;
        }
    }
    assert_eq!(calls, 1, "the accounted call reached the event stream");
}
