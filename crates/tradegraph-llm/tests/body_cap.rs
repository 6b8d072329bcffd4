#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! Response bodies are read up to a cap (issue 12, item 9).

mod common;

use common::*;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{LlmError, Provider};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The documented cap: 8 MiB.
const CAP: usize = 8 * 1024 * 1024;

#[tokio::test]
async fn response_body_has_no_size_cap() {
    let server = MockServer::start().await;
    // Valid JSON, one byte over the cap: only the size can make it fail.
    let padding = "x".repeat(CAP);
    let body = format!(r#"{{"pad":"{padding}"}}"#);
    assert!(body.len() > CAP);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let provider = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    let err = provider.complete(&request()).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::Malformed { provider, message }
            if provider == "openai" && message.contains("larger than the 8 MiB cap")),
        "{err:?}"
    );
    assert!(err.to_string().contains("8 MiB"), "{err}");
    assert_no_canary(&err);
}

#[tokio::test]
async fn a_body_just_under_the_cap_is_read() {
    let server = MockServer::start().await;
    // Not an OpenAI answer, so it fails later, but not on its size.
    let padding = "x".repeat(CAP - 64);
    let body = format!(r#"{{"pad":"{padding}"}}"#);
    assert!(body.len() <= CAP);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let provider = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    let err = provider.complete(&request()).await.unwrap_err();
    assert!(!err.to_string().contains("cap"), "{err}");
}
