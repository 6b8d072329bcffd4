#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! OpenAI chat completions against a local peer speaking the documented wire format.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{LlmError, Provider, Request};
use wiremock::matchers::{
    bearer_token, body_partial_json, body_string_contains, header, method, path,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn completion(content: &str, finish: &str) -> serde_json::Value {
    json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    })
}

async fn provider(server: &MockServer) -> OpenAi {
    OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap()
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(bearer_token(CANARY))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({
            "model": "gpt-4.1-mini",
            "temperature": 0.0,
            "max_completion_tokens": 200,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "Signal", "strict": true,
                "schema": {"type": "object", "additionalProperties": false,
                           "properties": {"action": {"anyOf": [{"const": "BUY"}, {"const": "SELL"}, {"const": "HOLD"}]}}}
            }}
        })))
        .respond_with(json(200, completion(VALID, "stop")))
        .expect(1)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!(out.value, valid());
    assert_eq!(out.repairs, 0);
    assert_eq!(
        (out.response.provider.as_str(), out.response.model.as_str()),
        ("openai", "gpt-4.1-mini-2025-04-14")
    );
    assert_eq!(
        (
            out.response.usage.input_tokens,
            out.response.usage.output_tokens
        ),
        (120, 30)
    );
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let schema = &sent["response_format"]["json_schema"]["schema"];
    assert_eq!(
        schema["required"],
        json!(["action", "confidence", "reasons"])
    );
    assert!(schema.get("$defs").is_none() && schema.get("$schema").is_none());
}

#[tokio::test]
async fn a_schema_breaking_answer_is_fixed_by_the_repair_turn() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains(
            "does not match the required JSON Schema",
        ))
        .respond_with(json(
            200,
            completion(&format!("```json\n{VALID}\n```"), "stop"),
        ))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(json(200, completion(INVALID, "stop")))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!((out.value, out.repairs), (valid(), 1));
    assert_eq!(out.response.usage.total(), 300);
    let second: serde_json::Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(
        messages[2],
        json!({"role": "assistant", "content": INVALID})
    );
    let repair = messages[3]["content"].as_str().unwrap();
    assert!(
        repair.contains("at `/action`, rule `enum`") || repair.contains("at `/action`"),
        "{repair}"
    );
    assert!(repair.contains("/confidence"), "{repair}");
}

#[tokio::test]
async fn malformed_json_answers_are_repaired_and_then_given_up() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(json(
            200,
            completion("{\"action\": \"BUY\", \"confidence\": 0.8,", "stop"),
        ))
        .expect(3)
        .mount(&server)
        .await;
    match ask(&provider(&server).await, request()).await {
        Err(LlmError::SchemaInvalid {
            attempts: 3,
            errors,
            ..
        }) => assert!(errors[0].contains("rule `json`"), "{errors:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn http_failures_are_typed() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("rate"))
        .respond_with(json(429, json!({"error": {"message": "Rate limit reached for gpt-4.1-mini", "type": "requests", "code": "rate_limit_exceeded"}})).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("boom"))
        .respond_with(json(500, json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})))
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("badkey"))
        .respond_with(json(401, json!({"error": {"message": format!("Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.", CANARY), "type": "invalid_request_error", "code": "invalid_api_key"}})))
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("nomodel"))
        .respond_with(json(404, json!({"error": {"message": "The model `gpt-9` does not exist or you do not have access to it.", "type": "invalid_request_error", "code": "model_not_found"}})))
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("garbage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let call = |word: &str| Request::chat("s", word);
    let err = p.complete(&call("rate")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    let err = p.complete(&call("boom")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 500, .. }),
        "{err:?}"
    );
    let err = p.complete(&call("badkey")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert_no_canary(&err);
    let err = p.complete(&call("nomodel")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::ModelUnavailable { status: 404, ref message, .. } if message.contains("gpt-9")),
        "{err:?}"
    );
    // another provider's model may serve it: the chain moves on
    assert!(err.is_retryable());
    let err = p.complete(&call("garbage")).await.unwrap_err();
    assert!(matches!(err, LlmError::Malformed { .. }), "{err:?}");
}

#[tokio::test]
async fn a_stalled_connection_times_out() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(json(200, completion(VALID, "stop")).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let p = provider(&server).await.with_timeout(STALL_TIMEOUT);
    let started = Instant::now();
    let err = p.complete(&request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Timeout { after, .. } if after == STALL_TIMEOUT),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A request's own timeout wins over the provider's.
    let err = p
        .complete(&request().timeout(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Timeout { after, .. } if after == Duration::from_millis(100)),
        "{err:?}"
    );
}

#[tokio::test]
async fn refusal_truncation_and_filter_are_distinct_errors() {
    let server = MockServer::start().await;
    let refusal = {
        let mut c = completion("", "stop");
        c["choices"][0]["message"]["content"] = serde_json::Value::Null;
        c["choices"][0]["message"]["refusal"] =
            json!("I'm sorry, I cannot help with that request.");
        c
    };
    Mock::given(body_string_contains("refuse"))
        .respond_with(json(200, refusal))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("cut"))
        .respond_with(json(200, completion("{\"action\": \"BU", "length")))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("filter"))
        .respond_with(json(200, completion("", "content_filter")))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("empty"))
        .respond_with(json(200, completion("", "stop")))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let err = ask(&p, Request::chat("s", "refuse")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Refusal { ref message, .. } if message.contains("cannot help")),
        "{err:?}"
    );
    let err = ask(&p, Request::chat("s", "cut").max_tokens(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Truncated {
                max_tokens: Some(5),
                ..
            }
        ),
        "{err:?}"
    );
    let err = ask(&p, Request::chat("s", "filter")).await.unwrap_err();
    assert!(matches!(err, LlmError::ContentFilter { .. }), "{err:?}");
    let err = p.complete(&Request::chat("s", "empty")).await.unwrap_err();
    assert!(matches!(err, LlmError::EmptyAnswer { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    let p = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&closed_port().await)
        .unwrap();
    let err = p.complete(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_no_canary(&err);
    assert!(
        !err.to_string().contains("127.0.0.1"),
        "no URL in errors: {err}"
    );
}

#[tokio::test]
async fn the_key_check_lists_models() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(bearer_token(CANARY))
        .respond_with(json(
            200,
            json!({"object": "list", "data": [{"id": "gpt-4.1-mini", "object": "model"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    provider(&server).await.check_key().await.unwrap();
}

/// An answer the vendor generated and billed that ends in an error (cut at the token limit,
/// refused, filtered) is charged to the budgets: its worst case (the prompt estimate and the
/// answer limit), as a call abandoned in flight is; not zero, or repeated truncations would
/// spend past every budget unseen.
#[tokio::test]
async fn answers_that_end_in_an_error_are_charged_to_the_budget() {
    use rust_decimal::Decimal;
    use tradegraph_llm::budget::{Price, PriceTable};
    let server = MockServer::start().await;
    Mock::given(body_string_contains("cut"))
        .respond_with(json(200, completion("{\"action\": \"BU", "length")))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("filter"))
        .respond_with(json(200, completion("", "content_filter")))
        .mount(&server)
        .await;
    let mut prices = PriceTable::new();
    prices.insert(
        "gpt-4.1-mini",
        Price::new(Decimal::new(40, 2), Decimal::new(160, 2)),
    );
    let llm = tradegraph_llm::Llm::builder()
        .provider(provider(&server).await)
        .prices(prices)
        .build()
        .unwrap();
    let mut spent = 0;
    for asked in ["cut", "filter"] {
        let err = llm
            .structured::<Signal>(Request::chat("s", asked).max_tokens(100))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                LlmError::Truncated { .. } | LlmError::ContentFilter { .. }
            ),
            "{err:?}"
        );
        let run = llm.accounting().run;
        assert!(run.usage.output_tokens >= spent + 100, "{asked}: {run:?}");
        assert!(run.cost > Decimal::ZERO, "{asked}: {run:?}");
        spent = run.usage.output_tokens;
    }
}
