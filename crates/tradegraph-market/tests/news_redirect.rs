#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]
//! Redirects are never followed (issue 12, item 14): a 3xx from a news endpoint is an error, so
//! the key (Finnhub's `token`, EODHD's `api_token`) never reaches the host it points to.

use tradegraph_market::news::{EodhdNews, FinnhubNews, NewsError, NewsQuery, NewsSource};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-news-canary-0a1b2c3d4e5f";

/// A first server that answers every call with a 307 to the same path and query on a second
/// one (a host move that keeps the request, key included), which would answer 200.
async fn servers() -> (MockServer, MockServer) {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw("[]", "application/json"))
        .mount(&elsewhere)
        .await;
    let endpoint = MockServer::start().await;
    let target = elsewhere.uri();
    Mock::given(any())
        .respond_with(move |request: &Request| {
            let query = request.url.query().unwrap_or_default();
            let location = format!("{target}{}?{query}", request.url.path());
            ResponseTemplate::new(307).insert_header("location", location.as_str())
        })
        .mount(&endpoint)
        .await;
    (endpoint, elsewhere)
}

/// The call failed on the redirect, said so, sent nothing (hence no key) elsewhere, and shows
/// the key nowhere.
async fn assert_not_followed(
    provider: &str,
    result: Result<Vec<tradegraph_market::news::NewsItem>, NewsError>,
    endpoint: &MockServer,
    elsewhere: &MockServer,
) {
    let received = elsewhere.received_requests().await.unwrap();
    assert!(
        received.is_empty(),
        "{provider}: the redirect was followed and the key sent to another host: {:?}",
        received
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(endpoint.received_requests().await.unwrap().len(), 1);
    let err = result.expect_err("a redirect must be an error");
    let text = err.to_string();
    assert!(
        text.contains(provider)
            && text.contains("307")
            && text.contains("redirect")
            && text.contains("not followed"),
        "{text}"
    );
    for shown in [text, format!("{err:?}")] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
}

#[tokio::test]
async fn finnhub_redirect_forwards_the_token_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let news = FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&endpoint.uri())
        .unwrap();
    let result = news.latest(&NewsQuery::new()).await;
    assert_not_followed("finnhub", result, &endpoint, &elsewhere).await;
}

#[tokio::test]
async fn eodhd_redirect_forwards_the_api_token_to_another_host() {
    let (endpoint, elsewhere) = servers().await;
    let news = EodhdNews::new(KEY)
        .unwrap()
        .with_base_url(&format!("{}/api", endpoint.uri()))
        .unwrap();
    let result = news.latest(&NewsQuery::new().symbol("NSEI.INDX")).await;
    assert_not_followed("eodhd", result, &endpoint, &elsewhere).await;
}
