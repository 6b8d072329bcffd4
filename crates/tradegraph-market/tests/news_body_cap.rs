#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]
//! News response bodies are read up to a cap (issue 12, item 9): with or without a
//! Content-Length, a body past 8 MiB is refused, and reading stops there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradegraph_market::news::{EodhdNews, FinnhubNews, NewsError, NewsQuery, NewsSource};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The documented cap: 8 MiB.
const CAP: usize = 8 * 1024 * 1024;
const KEY: &str = "sk-news-canary-5e4d3c2b1a09";

/// A valid JSON array of one string, `len` bytes long in all.
fn padded_array(len: usize) -> String {
    format!(r#"["{}"]"#, "x".repeat(len - 4))
}

/// The cap was hit: the error says so, names the source, the URL without the key, and the cap.
fn assert_capped(err: &NewsError, provider: &str) {
    let text = err.to_string();
    assert!(
        text.contains(provider) && text.contains("8 MiB") && text.contains("larger than"),
        "{text}"
    );
    assert!(
        text.contains("127.0.0.1") && text.contains("/news"),
        "{text}"
    );
    for shown in [text, format!("{err:?}")] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
}

#[tokio::test]
async fn news_response_body_has_no_size_cap() {
    let server = MockServer::start().await;
    // Valid JSON one byte over the cap, announced by its Content-Length: only its size can
    // make it fail.
    let body = padded_array(CAP + 1);
    Mock::given(method("GET"))
        .and(path("/news"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let finnhub = FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    let err = finnhub.latest(&NewsQuery::new()).await.unwrap_err();
    assert_capped(&err, "finnhub");
    let eodhd = EodhdNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    let err = eodhd
        .latest(&NewsQuery::new().symbol("NSEI.INDX"))
        .await
        .unwrap_err();
    assert_capped(&err, "eodhd");
}

#[tokio::test]
async fn news_chunked_response_body_has_no_size_cap() {
    // A hand-written HTTP/1.1 server: no Content-Length, the body in chunks, 64 MiB of valid
    // JSON in all; it counts what it managed to send before the client hung up.
    const TOTAL: usize = 64 * 1024 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before sending its request");
            head.extend_from_slice(&buf[..n]);
        }
        let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
        socket.write_all(response.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut body_sent = 0;
        let mut pieces: Vec<&[u8]> = vec![b"[\""];
        while body_sent < TOTAL - 4 {
            pieces.push(&chunk);
            body_sent += chunk.len();
        }
        pieces.push(b"\"]");
        for piece in pieces {
            let framed = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
            if socket.write_all(&framed).await.is_err() {
                return;
            }
            counter.fetch_add(piece.len(), Ordering::Relaxed);
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    let finnhub = FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&base)
        .unwrap()
        .with_timeout(Duration::from_secs(30));
    let err = finnhub.latest(&NewsQuery::new()).await.unwrap_err();
    assert_capped(&err, "finnhub");
    // The client stopped reading at the cap and hung up: the server could not send it all
    // (what it did send past the cap sits in socket buffers).
    drop(finnhub);
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap();
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent < TOTAL / 2, "the client read {sent} bytes of {TOTAL}");
}

#[tokio::test]
async fn a_news_body_just_under_the_cap_is_read() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(padded_array(CAP), "application/json"),
        )
        .mount(&server)
        .await;
    let finnhub = FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    // One item that is not a news item: skipped and counted, not an error.
    let items = finnhub.latest(&NewsQuery::new()).await.unwrap();
    assert!(items.is_empty());
    assert_eq!(finnhub.skipped_items(), 1);
}

#[tokio::test]
async fn a_huge_error_body_is_cut_to_its_start() {
    let server = MockServer::start().await;
    let body = format!("upstream failed {}", "y".repeat(CAP * 2));
    Mock::given(path("/news"))
        .respond_with(ResponseTemplate::new(502).set_body_string(body))
        .mount(&server)
        .await;
    let finnhub = FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    match finnhub.latest(&NewsQuery::new()).await.unwrap_err() {
        NewsError::Status { status, body, .. } => {
            assert_eq!(status, 502);
            assert!(
                body.starts_with("upstream failed yyy") && body.len() < 300,
                "{body}"
            );
        }
        other => panic!("expected Status, got {other:?}"),
    }
}
