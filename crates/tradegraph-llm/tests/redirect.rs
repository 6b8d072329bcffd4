#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Redirects are never followed: a 3xx from a provider's endpoint is an error, so no key
//! (`Authorization`, `x-api-key`, `x-goog-api-key`) ever reaches the host it points to.

mod common;

use common::*;
use serde_json::json;
use tradegraph_llm::{LlmError, Provider};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A first server that answers every call with a 307 to a second one, which would answer 200.
async fn servers() -> (MockServer, MockServer) {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(json(200, json!({})))
        .mount(&elsewhere)
        .await;
    let endpoint = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/stolen", elsewhere.uri()).as_str()),
        )
        .mount(&endpoint)
        .await;
    (endpoint, elsewhere)
}

/// The call failed on the redirect, said so, and sent nothing (hence no key) elsewhere.
async fn assert_not_followed(
    provider: &dyn Provider,
    result: Result<tradegraph_llm::Response, LlmError>,
    elsewhere: &MockServer,
) {
    let received = elsewhere.received_requests().await.unwrap();
    assert!(
        received.is_empty(),
        "{}: the redirect was followed and the key sent to another host (headers {:?})",
        provider.name(),
        received
            .iter()
            .flat_map(|r| r.headers.keys())
            .collect::<Vec<_>>()
    );
    let err = result.expect_err("a redirect must be an error");
    assert!(
        matches!(err, LlmError::BadRequest { status: 307, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("307") && text.contains(provider.name()) && text.contains("redirect"),
        "{text}"
    );
    assert_no_canary(&err);
}

#[cfg(feature = "anthropic")]
#[tokio::test]
async fn a_redirect_never_carries_the_anthropic_api_key_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let p = tradegraph_llm::anthropic::Anthropic::new(CANARY)
        .unwrap()
        .with_base_url(&endpoint.uri())
        .unwrap();
    let result = p.complete(&request()).await;
    assert_not_followed(&p, result, &elsewhere).await;
    assert_eq!(endpoint.received_requests().await.unwrap().len(), 1);
}

#[cfg(feature = "gemini")]
#[tokio::test]
async fn a_redirect_never_carries_the_gemini_api_key_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let p = tradegraph_llm::gemini::Gemini::new(CANARY)
        .unwrap()
        .with_base_url(&endpoint.uri())
        .unwrap();
    let result = p.complete(&request()).await;
    assert_not_followed(&p, result, &elsewhere).await;
    assert_eq!(endpoint.received_requests().await.unwrap().len(), 1);
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn a_redirect_never_carries_the_openai_bearer_token_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let p = tradegraph_llm::openai::OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", endpoint.uri()))
        .unwrap();
    let result = p.complete(&request()).await;
    assert_not_followed(&p, result, &elsewhere).await;
    // The key check (a GET) is not redirected either.
    let result = p.check_key().await.map(|()| {
        tradegraph_llm::Response::new(
            p.name(),
            p.model(),
            tradegraph_llm::Content::Text(String::new()),
        )
    });
    assert_not_followed(&p, result, &elsewhere).await;
}

#[cfg(feature = "ollama")]
#[tokio::test]
async fn a_redirect_never_carries_an_ollama_request_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let p = tradegraph_llm::ollama::Ollama::new(&endpoint.uri()).unwrap();
    let result = p.complete(&request()).await;
    assert_not_followed(&p, result, &elsewhere).await;
}
