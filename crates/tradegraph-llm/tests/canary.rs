#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(
    feature = "openai",
    feature = "anthropic",
    feature = "gemini",
    feature = "ollama"
))]
//! A canary key given to every provider, every error path made to happen — with peers that
//! echo the key back in their error bodies, as vendors do — and the canary must appear in no
//! log line (TRACE, every crate), error string, Debug output, event or cached record.

mod common;

use common::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradegraph_llm::anthropic::Anthropic;
use tradegraph_llm::cache::{CacheMode, JsonlCache};
use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
use tradegraph_llm::fallback::{BreakerPolicy, LlmEvent};
use tradegraph_llm::gemini::Gemini;
use tradegraph_llm::ollama::Ollama;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{Llm, LlmError, Provider, Request, Secret};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

/// Everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Wire {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
}

/// The failures every peer can be asked for, by a word in the request body.
const SCENARIOS: &[&str] = &[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "rate_limited",
    "server_error",
    "unavailable",
    "overloaded",
    "not_json",
    "wrong_shape",
    "stall",
    "refused",
    "truncated",
    "filtered",
    "empty",
    "success",
];

/// A peer that answers each scenario, echoing whatever key it received.
struct Echo(Wire);

impl Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let key = [
            header("authorization")
                .trim_start_matches("Bearer ")
                .to_owned(),
            header("x-api-key"),
            header("x-goog-api-key"),
        ]
        .into_iter()
        .find(|k| !k.is_empty())
        .unwrap_or_default();
        let body = String::from_utf8_lossy(&request.body);
        let scenario = SCENARIOS
            .iter()
            .find(|s| body.contains(*s))
            .copied()
            .unwrap_or("success");
        let partial = format!(
            "{}...{}",
            &key[..key.len().min(14)],
            &key[key.len().saturating_sub(4)..]
        );
        let error = |status: u16, kind: &str| {
            json(
                status,
                json!({
                    "type": "error",
                    "error": {"message": format!("{scenario}: key {key} (also {partial}) was used"), "type": kind, "code": status, "status": kind},
                }),
            )
        };
        match scenario {
            "bad_request" => error(400, "invalid_request_error"),
            "unauthorized" => error(401, "authentication_error"),
            "forbidden" => error(403, "permission_error"),
            "not_found" => error(404, "not_found_error"),
            "rate_limited" => error(429, "rate_limit_error").insert_header("retry-after", "1"),
            "server_error" => error(500, "api_error"),
            "unavailable" => error(503, "UNAVAILABLE"),
            "overloaded" => error(529, "overloaded_error"),
            "not_json" => ResponseTemplate::new(200)
                .set_body_string(format!("<html>proxy error for {key}</html>")),
            "wrong_shape" => json(200, json!({"unexpected": key})),
            "stall" => json(200, json!({})).set_delay(Duration::from_secs(5)),
            other => json(200, answer(self.0, other)),
        }
    }
}

/// A successful-looking body for the wire, shaped by the scenario.
fn answer(wire: Wire, scenario: &str) -> serde_json::Value {
    let text = match scenario {
        "empty" => "",
        "truncated" => "{\"action\": \"BU",
        _ => VALID,
    };
    match wire {
        Wire::OpenAi => {
            let finish = match scenario {
                "truncated" => "length",
                "filtered" => "content_filter",
                _ => "stop",
            };
            let refusal = (scenario == "refused").then_some("I can't help with that.");
            json!({"model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": refusal}, "finish_reason": finish}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}})
        }
        Wire::Anthropic => {
            let stop = match scenario {
                "truncated" => "max_tokens",
                "refused" => "refusal",
                _ => "end_turn",
            };
            json!({"model": "m", "content": [{"type": "text", "text": text}], "stop_reason": stop, "usage": {"input_tokens": 1, "output_tokens": 1}})
        }
        Wire::Gemini => {
            if scenario == "filtered" {
                return json!({"promptFeedback": {"blockReason": "SAFETY"}});
            }
            let finish = if scenario == "truncated" {
                "MAX_TOKENS"
            } else {
                "STOP"
            };
            json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish}], "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1}})
        }
        Wire::Ollama => {
            let reason = if scenario == "truncated" {
                "length"
            } else {
                "stop"
            };
            json!({"model": "m", "message": {"role": "assistant", "content": text}, "done": true, "done_reason": reason, "prompt_eval_count": 1, "eval_count": 1})
        }
    }
}

async fn peer(wire: Wire) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Echo(wire))
        .mount(&server)
        .await;
    server
}

/// Every run of nine or more characters of the canary.
fn leaks(text: &str) -> Option<String> {
    let chars: Vec<char> = CANARY.chars().collect();
    chars
        .windows(9)
        .map(|w| w.iter().collect::<String>())
        .find(|w| text.contains(w.as_str()))
}

fn assert_clean(what: &str, text: &str) {
    if let Some(run) = leaks(text) {
        panic!("the canary leaked ({run:?}) into {what}:\n{text}");
    }
}

#[test]
fn the_canary_never_leaves_the_wire() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut texts: Vec<(String, String)> = Vec::new();
    runtime.block_on(async {
        let openai_peer = peer(Wire::OpenAi).await;
        let anthropic_peer = peer(Wire::Anthropic).await;
        let gemini_peer = peer(Wire::Gemini).await;
        let ollama_peer = peer(Wire::Ollama).await;
        let base = |s: &MockServer, path: &str| format!("{}{path}", s.uri());
        let providers: Vec<Arc<dyn Provider>> = vec![
            Arc::new(
                OpenAi::new(CANARY)
                    .unwrap()
                    .with_base_url(&base(&openai_peer, "/v1"))
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                OpenAi::groq(CANARY)
                    .unwrap()
                    .with_base_url(&base(&openai_peer, "/openai/v1"))
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                OpenAi::together(CANARY)
                    .unwrap()
                    .with_base_url(&base(&openai_peer, "/v1"))
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                OpenAi::openrouter(CANARY)
                    .unwrap()
                    .with_base_url(&base(&openai_peer, "/api/v1"))
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                Anthropic::new(CANARY)
                    .unwrap()
                    .with_base_url(&anthropic_peer.uri())
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                Gemini::new(CANARY)
                    .unwrap()
                    .with_base_url(&gemini_peer.uri())
                    .unwrap()
                    .with_timeout(STALL_TIMEOUT),
            ),
            Arc::new(
                Ollama::new(&ollama_peer.uri())
                    .unwrap()
                    .with_key(CANARY)
                    .with_timeout(STALL_TIMEOUT),
            ),
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for p in &providers {
            texts.push((format!("Debug of {}", p.name()), format!("{p:?}")));
            for scenario in SCENARIOS {
                let text = p.complete(&Request::chat("s", *scenario)).await;
                let structured = ask(p.as_ref(), Request::chat("s", *scenario)).await;
                for err in [text.err(), structured.err()].into_iter().flatten() {
                    kinds.insert(err.kind());
                    texts.push((
                        format!("{} {scenario} error", p.name()),
                        format!("{err} | {err:?}"),
                    ));
                }
            }
            if let Err(e) = p.check_key().await {
                texts.push((format!("{} key check", p.name()), format!("{e} | {e:?}")));
            }
        }
        // Every class of error happened.
        for kind in [
            "bad key",
            "rate limited",
            "overloaded",
            "server error",
            "timeout",
            "bad request",
            "invalid output",
            "refused",
            "truncated",
            "content filtered",
            "empty answer",
        ] {
            assert!(
                kinds.iter().any(|k| k.words() == kind),
                "{kind} never happened: {kinds:?}"
            );
        }
        // Unreachable.
        let down = OpenAi::new(CANARY)
            .unwrap()
            .with_base_url(&closed_port().await)
            .unwrap();
        let err = down.complete(&Request::chat("s", "x")).await.unwrap_err();
        assert!(matches!(err, LlmError::Connect { .. }));
        texts.push(("connect error".into(), format!("{err} | {err:?}")));

        // The whole chain, with events and a JSON Lines cache.
        let dir = std::env::temp_dir().join(format!("tg-llm-canary-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache_path = dir.join("cache.jsonl");
        let events: Arc<Mutex<Vec<LlmEvent>>> = Arc::default();
        let cache = Arc::new(JsonlCache::open(&cache_path).await.unwrap());
        for scenario in [
            "success",
            "unauthorized",
            "server_error",
            "rate_limited",
            "overloaded",
            "not_json",
        ] {
            let sink = events.clone();
            let mut builder = Llm::builder()
                .cache(cache.clone(), CacheMode::ReadWrite)
                .breaker(BreakerPolicy {
                    failure_threshold: 1,
                    ..BreakerPolicy::default()
                })
                .on_event(move |e| sink.lock().unwrap().push(e.clone()));
            for p in &providers {
                builder = builder.provider_arc(p.clone(), Default::default());
            }
            let llm = builder.build().unwrap();
            match llm.structured::<Signal>(Request::chat("s", scenario)).await {
                Ok(out) => texts.push(("chain answer".into(), format!("{out:?}"))),
                Err(e) => texts.push(("chain error".into(), format!("{e} | {e:?}"))),
            }
            texts.push(("chain Debug".into(), format!("{llm:?}")));
            texts.push((
                "health".into(),
                serde_json::to_string(&llm.health()).unwrap(),
            ));
        }
        assert!(events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, LlmEvent::ProviderDisabled { .. })));
        texts.push(("events".into(), format!("{:?}", events.lock().unwrap())));
        texts.push((
            "events as JSON".into(),
            serde_json::to_string(&*events.lock().unwrap()).unwrap(),
        ));
        let records = std::fs::read_to_string(&cache_path).unwrap();
        assert!(!records.is_empty(), "something was recorded");
        texts.push(("cache file".into(), records));
        let _ = std::fs::remove_dir_all(&dir);

        // Configuration.
        let mut config = LlmConfig::default();
        let mut p = ProviderConfig::new(ProviderKind::Openai);
        p.api_key = Some(Secret::new(CANARY));
        config.providers.push(p);
        texts.push(("config Debug".into(), format!("{config:?}")));
    });
    drop(runtime);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("llm_http") && log.contains("provider error"),
        "the log was captured"
    );
    assert_clean("the TRACE log", &log);
    for (what, text) in &texts {
        assert_clean(what, text);
    }
}
