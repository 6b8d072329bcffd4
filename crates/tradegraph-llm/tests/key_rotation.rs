#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini"))]
//! Several keys per provider (`OPENAI_API_KEY=sk-a,sk-b`): a key refused (401/403, Gemini's
//! `API_KEY_INVALID`) or out of quota (429) hands the call to the next key, and later calls
//! start from it; against local peers speaking each vendor's wire format.

mod common;

use common::*;
use serde_json::json;
use std::collections::HashMap;
use tradegraph_llm::anthropic::Anthropic;
use tradegraph_llm::config::LlmConfig;
use tradegraph_llm::gemini::Gemini;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{LlmError, Provider, Request};
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const K1: &str = "sk-rot-first-Aa11Bb22Cc33Dd44";
const K2: &str = "sk-rot-second-Ee55Ff66Gg77Hh88";
const K3: &str = "sk-rot-third-Ii99Jj00Kk11Ll22";

fn completion(content: &str) -> serde_json::Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

/// OpenAI's answer to a bad key, which echoes part of it.
fn openai_401(key: &str) -> ResponseTemplate {
    json(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys."), "type": "invalid_request_error", "code": "invalid_api_key"}}),
    )
}

/// The keys the peer saw, in order, read from `header`.
async fn keys_seen(server: &MockServer, header: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let value = r.headers.get(header).unwrap().to_str().unwrap();
            value.trim_start_matches("Bearer ").to_owned()
        })
        .collect()
}

fn assert_names_no_key(err: &LlmError) {
    for text in [err.to_string(), format!("{err:?}")] {
        for key in [K1, K2, K3] {
            assert!(
                !text.contains(key) && !text.contains(&key[..12]),
                "key leaked: {text}"
            );
        }
    }
}

async fn openai(server: &MockServer, keys: &str) -> OpenAi {
    OpenAi::new(keys)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap()
}

#[tokio::test]
async fn a_refused_key_hands_the_call_to_the_next_and_later_calls_start_there() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(bearer_token(K1))
        .respond_with(openai_401(K1))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(bearer_token(K2))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    let p = openai(&server, &format!("{K1}, {K2}")).await;
    assert_eq!(ask(&p, request()).await.unwrap().value, valid());
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K2]);
    // The next call goes to the key that worked, and a clone shares the ring.
    let clone = p.clone();
    ask(&clone, request()).await.unwrap();
    ask(&p, request()).await.unwrap();
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K2, K2, K2]);
}

#[tokio::test]
async fn every_key_refused_is_one_unauthorized_error_after_one_try_each_naming_no_key() {
    let server = MockServer::start().await;
    for key in [K1, K2, K3] {
        Mock::given(bearer_token(key))
            .respond_with(openai_401(key))
            .mount(&server)
            .await;
    }
    let p = openai(&server, &format!("{K1},{K2},{K3}")).await;
    let err = p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert_names_no_key(&err);
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K2, K3]);
    // The next call tries each once again, from where the ring stands.
    p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert_eq!(keys_seen(&server, "authorization").await.len(), 6);
}

#[tokio::test]
async fn errors_that_are_not_the_keys_do_not_rotate() {
    let server = MockServer::start().await;
    Mock::given(bearer_token(K1))
        .respond_with(json(500, json!({"error": {"message": "boom"}})))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    let p = openai(&server, &format!("{K1},{K2}")).await;
    let err = p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 500, .. }),
        "{err:?}"
    );
    p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K1]);
}

#[tokio::test]
async fn calls_in_parallel_that_meet_the_same_refused_key_rotate_once() {
    let server = MockServer::start().await;
    Mock::given(bearer_token(K1))
        .respond_with(openai_401(K1).set_delay(std::time::Duration::from_millis(50)))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K3))
        .respond_with(json(
            500,
            json!({"error": {"message": "K3 must not be used"}}),
        ))
        .mount(&server)
        .await;
    let p = openai(&server, &format!("{K1},{K2},{K3}")).await;
    let calls = (0..8).map(|_| {
        let p = p.clone();
        async move { p.complete(&Request::chat("s", "u")).await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let seen = keys_seen(&server, "authorization").await;
    assert!(!seen.iter().any(|k| k == K3), "{seen:?}");
    assert_eq!(seen.iter().filter(|k| *k == K2).count(), 8, "{seen:?}");
}

#[tokio::test]
async fn anthropic_moves_on_when_a_key_is_out_of_quota() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", K1))
        .respond_with(
            json(429, json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}))
                .insert_header("retry-after", "30"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", K2))
        .respond_with(json(200, json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": "Signal", "input": {"action": "BUY", "confidence": 0.8, "reasons": ["trend up"]}}],
            "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 40, "output_tokens": 6}
        })))
        .mount(&server)
        .await;
    let p = Anthropic::new(format!("{K1},{K2}"))
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    assert_eq!(ask(&p, request()).await.unwrap().value, valid());
    assert_eq!(keys_seen(&server, "x-api-key").await, [K1, K2]);
}

#[tokio::test]
async fn every_key_out_of_quota_is_rate_limited_with_the_soonest_wait() {
    let server = MockServer::start().await;
    for (key, wait) in [(K1, "30"), (K2, "7")] {
        Mock::given(header("x-api-key", key))
            .respond_with(
                json(429, json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}))
                    .insert_header("retry-after", wait),
            )
            .mount(&server)
            .await;
    }
    let p = Anthropic::new(format!("{K1},{K2}"))
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    let err = p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d), .. } if d == std::time::Duration::from_secs(7)),
        "{err:?}"
    );
    assert_eq!(keys_seen(&server, "x-api-key").await, [K1, K2]);
    // The soonest wait is reported, and the next call starts at the key that frees first.
    p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert_eq!(keys_seen(&server, "x-api-key").await, [K1, K2, K2, K1]);
}

#[tokio::test]
async fn a_revoked_key_beside_a_busy_one_reads_as_rate_limited_not_refused() {
    let server = MockServer::start().await;
    Mock::given(bearer_token(K1))
        .respond_with(
            json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
                .insert_header("retry-after", "3"),
        )
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .respond_with(openai_401(K2))
        .mount(&server)
        .await;
    let p = openai(&server, &format!("{K1},{K2}")).await;
    let err = p.complete(&Request::chat("s", "u")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d), .. } if d == std::time::Duration::from_secs(3)),
        "a provider with a working key must not be taken for refused: {err:?}"
    );
    assert_names_no_key(&err);
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K2]);
}

#[tokio::test]
async fn every_key_is_redacted_from_what_a_vendor_echoes() {
    let server = MockServer::start().await;
    Mock::given(bearer_token(K1))
        .respond_with(openai_401(K1))
        .mount(&server)
        .await;
    // The key in use is K2; the answer echoes all three.
    let echo = format!("keys {K1} and {K2} and {K3} are not allowed here");
    Mock::given(bearer_token(K2))
        .and(wiremock::matchers::body_string_contains("bad"))
        .respond_with(json(
            400,
            json!({"error": {"message": echo, "type": "invalid_request_error"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .and(wiremock::matchers::body_string_contains("boom"))
        .respond_with(json(500, json!({"error": {"message": echo}})))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .and(wiremock::matchers::body_string_contains("garbled"))
        .respond_with(ResponseTemplate::new(200).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    let p = openai(&server, &format!("{K1},{K2},{K3}")).await;
    for (word, expect) in [
        ("bad", "BadRequest"),
        ("boom", "Server"),
        ("garbled", "Malformed"),
    ] {
        let err = p.complete(&Request::chat("s", word)).await.unwrap_err();
        assert!(format!("{err:?}").starts_with(expect), "{err:?}");
        assert!(
            err.to_string().contains("are not allowed here"),
            "the message is kept: {err}"
        );
        assert_names_no_key(&err);
    }
}

#[tokio::test]
async fn gemini_moves_on_from_a_key_it_calls_invalid() {
    let server = MockServer::start().await;
    Mock::given(header("x-goog-api-key", K1))
        .respond_with(json(400, json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})))
        .mount(&server)
        .await;
    Mock::given(header("x-goog-api-key", K2))
        .respond_with(json(200, json!({
            "candidates": [{"content": {"parts": [{"text": VALID}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 20, "totalTokenCount": 70},
            "modelVersion": "gemini-2.5-flash"
        })))
        .mount(&server)
        .await;
    let p = Gemini::new(format!("{K1},{K2}"))
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    assert_eq!(ask(&p, request()).await.unwrap().value, valid());
    assert_eq!(keys_seen(&server, "x-goog-api-key").await, [K1, K2]);
}

#[tokio::test]
async fn the_environment_gives_several_keys_separated_by_commas() {
    let server = MockServer::start().await;
    Mock::given(bearer_token(K1))
        .respond_with(openai_401(K1))
        .mount(&server)
        .await;
    Mock::given(bearer_token(K2))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    let vars = HashMap::from([
        ("OPENAI_API_KEY", format!(" {K1} ,\n{K2},")),
        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
    ]);
    let config = LlmConfig::from_env(|v| vars.get(v).cloned()).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(K1) && !debug.contains(K2), "{debug}");
    let p = config.providers[0].provider().unwrap();
    ask(p.as_ref(), request()).await.unwrap();
    assert_eq!(keys_seen(&server, "authorization").await, [K1, K2]);
}

#[tokio::test]
async fn a_list_of_nothing_but_commas_is_no_key() {
    let vars = HashMap::from([("OPENAI_API_KEY", " , ,".to_owned())]);
    let config = LlmConfig::from_env(|v| vars.get(v).cloned()).unwrap();
    let Err(err) = config.providers[0].provider() else {
        panic!("a provider was built from an empty list of keys")
    };
    assert!(err.to_string().contains("no API key"), "{err}");
}
