#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]
//! Configuration errors of the news clients never echo credentials (issue 12, item 15): a base
//! URL's `user:password@` and key-carrying query parameters are redacted, its host is named.

use tradegraph_market::news::{EodhdNews, FinnhubNews, NewsError};

const KEY: &str = "sk-news-canary-77aa88bb99cc";
const PASSWORD: &str = "pa55w0rd-canary";
const QUERY_KEY: &str = "qk-canary-31337";

fn assert_redacted(err: &NewsError, field: &str) {
    let text = err.to_string();
    for shown in [text.clone(), format!("{err:?}")] {
        for secret in [KEY, PASSWORD, QUERY_KEY] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
    assert!(
        text.contains("news.example.com") && text.contains(field),
        "{text}"
    );
}

#[test]
fn news_config_errors_echo_base_url_credentials() {
    let bad = [
        // Not http(s).
        format!("ftp://user:{PASSWORD}@news.example.com/api?token={QUERY_KEY}"),
        // Not a URL at all (the port is out of range).
        format!("https://user:{PASSWORD}@news.example.com:99999/api?apikey={QUERY_KEY}"),
        // A URL with credentials in it.
        format!("https://user:{PASSWORD}@news.example.com/api"),
        format!("https://news.example.com/api?api_token={QUERY_KEY}"),
    ];
    for base in &bad {
        let err = FinnhubNews::new(KEY)
            .unwrap()
            .with_base_url(base)
            .unwrap_err();
        assert!(matches!(err, NewsError::Config(_)), "{err:?}");
        assert_redacted(&err, "base URL");
        let err = EodhdNews::new(KEY)
            .unwrap()
            .with_base_url(base)
            .unwrap_err();
        assert_redacted(&err, "base URL");
    }
}
