#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini"))]
//! Prompt caching where the vendors offer it: Anthropic's `cache_control` on the system prompt,
//! OpenAI's `prompt_cache_key` per agent (its stable prefix is the system prompt), and every
//! vendor's count of prompt tokens read from (or written to) its cache, priced as configured.
//! Against local peers speaking each vendor's wire format.

mod common;

use common::*;
use rust_decimal::Decimal;
use serde_json::json;
use tradegraph_llm::anthropic::Anthropic;
use tradegraph_llm::budget::{Price, PriceTable};
use tradegraph_llm::gemini::Gemini;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{Llm, Provider, Request, Usage};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer};

fn agent_request() -> Request {
    request().agent("technical")
}

#[tokio::test]
async fn anthropic_marks_the_system_prompt_and_reports_cache_reads_and_writes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(body_partial_json(json!({
            "system": [{"type": "text", "text": "You are a trading analyst.",
                        "cache_control": {"type": "ephemeral"}}],
        })))
        .respond_with(json(200, json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": "Signal",
                         "input": {"action": "BUY", "confidence": 0.8, "reasons": ["trend up"]}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 50, "cache_creation_input_tokens": 200,
                      "cache_read_input_tokens": 1800, "output_tokens": 40}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let p = Anthropic::new(CANARY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
        .with_model("claude-sonnet-4-5");
    // $3 in, $15 out; cache reads at a tenth, writes at 1.25 times.
    let mut prices = PriceTable::new();
    prices.insert(
        "claude-sonnet-4-5",
        Price::new(Decimal::from(3), Decimal::from(15))
            .with_cache(Decimal::new(30, 2), Decimal::new(375, 2)),
    );
    let llm = Llm::builder().provider(p).prices(prices).build().unwrap();
    let out = llm.structured::<Signal>(agent_request()).await.unwrap();
    // The prompt is all three: uncached, written, read.
    assert_eq!(
        out.response.usage,
        Usage::new(2_050, 40).with_cache(1_800, 200)
    );
    // 50 x 3 + 200 x 3.75 + 1,800 x 0.30 + 40 x 15, per million.
    assert_eq!(out.response.cost, Some(Decimal::new(2_040, 6)));
    assert_eq!(llm.accounting().run.usage.cached_input_tokens, 1_800);
}

#[tokio::test]
async fn openai_sends_a_cache_key_per_agent_and_reports_cached_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"prompt_cache_key": "tradegraph-technical"})))
        .respond_with(json(200, json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
            "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                      "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let p = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    let answer = p.complete(&agent_request()).await.unwrap();
    assert_eq!(answer.usage, Usage::new(2_006, 300).with_cache(1_920, 0));
    // Without an agent there is nothing stable to key on: no key is sent (and this peer, which
    // answers only keyed requests, refuses it).
    assert!(p.complete(&request()).await.is_err());
    let sent: serde_json::Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    assert!(sent.get("prompt_cache_key").is_none(), "{sent}");
}

#[tokio::test]
async fn the_other_openai_format_services_get_no_cache_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
            "model": "llama-3.3-70b-versatile",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
        })))
        .mount(&server)
        .await;
    let p = OpenAi::groq(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    let answer = p.complete(&agent_request()).await.unwrap();
    assert_eq!(answer.usage, Usage::new(100, 10));
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert!(sent.get("prompt_cache_key").is_none(), "{sent}");
}

#[tokio::test]
async fn gemini_reports_the_tokens_its_cache_served() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .respond_with(json(200, json!({
            "candidates": [{"content": {"parts": [{"text": VALID}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 3000, "cachedContentTokenCount": 2048,
                              "candidatesTokenCount": 20, "thoughtsTokenCount": 30, "totalTokenCount": 3050},
            "modelVersion": "gemini-2.5-flash"
        })))
        .mount(&server)
        .await;
    let p = Gemini::new(CANARY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    let answer = p.complete(&agent_request()).await.unwrap();
    assert_eq!(answer.usage, Usage::new(3_000, 50).with_cache(2_048, 0));
}

#[test]
fn cached_counts_never_exceed_the_prompt_and_unpriced_cache_tokens_cost_the_input_price() {
    let usage = Usage::new(100, 5).with_cache(500, 500);
    assert_eq!(
        (usage.cached_input_tokens, usage.cache_write_tokens),
        (100, 0)
    );
    let plain = Price::new(Decimal::from(2), Decimal::from(8));
    assert_eq!(
        plain.cost(Usage::new(1_000, 0).with_cache(600, 100)),
        plain.cost(Usage::new(1_000, 0))
    );
}
