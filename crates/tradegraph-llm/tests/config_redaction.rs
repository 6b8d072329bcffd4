#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "openai", feature = "ollama"))]
//! Configuration errors never echo credentials (issue 12, item 15): a base URL's
//! `user:password@` and key-carrying query parameters are redacted, its host and the field named.

use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};

const KEY: &str = "sk-canary-Q7f3a9c2e1b0d4e5f6a7b8c9";
const PASSWORD: &str = "pa55w0rd-canary";
const QUERY_KEY: &str = "qk-canary-31337";

#[tokio::test]
async fn base_url_errors_echo_credentials() {
    let bad = [
        // Not http(s).
        format!("ftp://user:{PASSWORD}@llm.example.com/v1?api_key={QUERY_KEY}"),
        // Not a URL at all (the port is out of range).
        format!("https://user:{PASSWORD}@llm.example.com:99999/v1?key={QUERY_KEY}"),
        // Credentials or a key in an otherwise fine URL.
        format!("https://user:{PASSWORD}@llm.example.com/v1"),
        format!("https://llm.example.com/v1?access_token={QUERY_KEY}"),
    ];
    for kind in [ProviderKind::Openai, ProviderKind::Ollama] {
        for base in &bad {
            let mut provider = ProviderConfig::new(kind);
            provider.api_key = Some(KEY.into());
            provider.base_url = Some(base.clone());
            let config = LlmConfig {
                providers: vec![provider],
                ..LlmConfig::default()
            };
            let err = config.build().await.unwrap_err();
            let text = err.to_string();
            for shown in [text.clone(), format!("{err:?}")] {
                for secret in [KEY, PASSWORD, QUERY_KEY] {
                    assert!(!shown.contains(secret), "{secret} leaked: {shown}");
                }
            }
            assert!(
                text.contains("llm.example.com")
                    && text.contains("base URL")
                    && text.contains(kind.as_str()),
                "{text}"
            );
        }
    }
}
