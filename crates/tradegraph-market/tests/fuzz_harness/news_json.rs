//! News JSON: any response body from Finnhub's and EODHD's news endpoints and FRED's series
//! observations, served by a local HTTP peer, read by `FinnhubNews`, `EodhdNews` and
//! `FredMacro`; the items or the snapshot (or the error) checked against what the sources
//! promise.
//!
//! Shared by the property test `tests/news_json_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/news_json.rs` (which includes this file by path). A violated property
//! panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use tradegraph_core::Timestamp;
use tradegraph_market::news::{
    EodhdNews, FinnhubNews, FredMacro, FredSeriesSet, MacroSnapshot, MacroSource, NewsError,
    NewsItem, NewsQuery, NewsSource,
};
use tradegraph_market::SimulatedClock;

/// At most this many items are asked for.
pub const LIMIT: usize = 50;

/// EODHD's summaries are cut to this many characters, plus an ellipsis.
pub const SUMMARY_CHARS: usize = 1000;

/// A local peer answering every request with the current body, and the two clients on it.
pub struct News {
    runtime: tokio::runtime::Runtime,
    body: Arc<Mutex<Vec<u8>>>,
    /// One check at a time: the body is shared by every request.
    serial: Mutex<()>,
    finnhub: FinnhubNews,
    eodhd: EodhdNews,
    fred: FredMacro,
}

/// What the two sources made of one body.
pub struct Answers {
    /// Finnhub's items or error.
    pub finnhub: Result<Vec<NewsItem>, NewsError>,
    /// EODHD's items or error.
    pub eodhd: Result<Vec<NewsItem>, NewsError>,
    /// FRED's snapshot (every series answered with the body) or error.
    pub fred: Result<MacroSnapshot, NewsError>,
}

/// The time FRED is asked about.
pub const FRED_AS_OF: Timestamp = Timestamp::from_secs(1_733_500_000);

impl News {
    /// Starts the peer (a thread per connection) and the clients, on a clock at the last
    /// instant RFC 3339 can write, so that no item is dropped for being in the future.
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(Vec::new()));
        let served = body.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let body = served.clone();
                std::thread::spawn(move || serve(stream, &body));
            }
        });
        let clock = Arc::new(SimulatedClock::new(Timestamp::MAX));
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            body,
            serial: Mutex::new(()),
            finnhub: FinnhubNews::new("fuzz-key")
                .unwrap()
                .with_base_url(&base)
                .unwrap()
                .with_clock(clock.clone()),
            eodhd: EodhdNews::new("fuzz-key")
                .unwrap()
                .with_base_url(&base)
                .unwrap()
                .with_symbol("NSEI.INDX")
                .with_clock(clock.clone()),
            fred: FredMacro::new("fuzz-key", FredSeriesSet::us())
                .unwrap()
                .with_base_url(&base)
                .unwrap()
                .with_clock(clock),
        }
    }

    /// Serves `body` to both sources and checks what they make of it.
    pub fn check(&self, body: &[u8]) -> Answers {
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        body.clone_into(&mut self.body.lock().unwrap());
        let query = NewsQuery::new().limit(LIMIT);
        let skipped = (self.finnhub.skipped_items(), self.eodhd.skipped_items());
        let (finnhub, eodhd, fred) = self.runtime.block_on(async {
            (
                self.finnhub.latest(&query).await,
                self.eodhd.latest(&query).await,
                self.fred.snapshot(FRED_AS_OF).await,
            )
        });
        check_fred(&fred);
        let array = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(items)) => Some(items.len()),
            _ => None,
        };
        let skipped = (
            self.finnhub.skipped_items() - skipped.0,
            self.eodhd.skipped_items() - skipped.1,
        );
        check_answer("finnhub", &finnhub, array, skipped.0);
        check_answer("eodhd", &eodhd, array, skipped.1);
        if let Ok(items) = &finnhub {
            for item in items {
                assert!(item.id.starts_with("finnhub:"), "finnhub id: {item:?}");
                assert!(
                    item.published.millis() > 0,
                    "finnhub item before 1970: {item:?}"
                );
                assert!(item.tags.len() <= 1, "finnhub tags: {item:?}");
                assert_eq!(item.sentiment, None, "finnhub has no sentiment: {item:?}");
                for symbol in &item.symbols {
                    assert!(
                        !symbol.is_empty() && symbol.trim() == symbol,
                        "finnhub symbol {symbol:?}: {item:?}"
                    );
                }
            }
        }
        if let Ok(items) = &eodhd {
            for item in items {
                assert!(
                    item.summary.chars().count() <= SUMMARY_CHARS + 1,
                    "eodhd summary not cut: {} characters",
                    item.summary.chars().count()
                );
                if let Some(s) = item.sentiment {
                    assert!(s.is_finite(), "eodhd sentiment {s}: {item:?}");
                    assert!((-1.0..=1.0).contains(&s), "eodhd sentiment {s}: {item:?}");
                }
            }
        }
        Answers {
            finnhub,
            eodhd,
            fred,
        }
    }
}

impl Default for News {
    fn default() -> Self {
        Self::new()
    }
}

/// What every source promises: for a JSON array, items (each readable one at most once, the
/// others skipped and counted), at most the limit, newest first, ids unique, headlines and
/// sources not empty, times writable and not after the clock; for anything else an error that
/// names the source.
fn check_answer(
    provider: &str,
    answer: &Result<Vec<NewsItem>, NewsError>,
    array: Option<usize>,
    skipped: u64,
) {
    match (answer, array) {
        (Ok(items), Some(len)) => {
            assert!(items.len() <= LIMIT, "{provider}: {} items", items.len());
            assert!(
                items.len() as u64 + skipped <= len as u64,
                "{provider}: {} items and {skipped} skipped from {len}",
                items.len()
            );
            for pair in items.windows(2) {
                assert!(
                    pair[0].published >= pair[1].published,
                    "{provider}: not newest first: {pair:?}"
                );
            }
            let mut ids: Vec<(&str, Timestamp)> =
                items.iter().map(|i| (i.id.as_str(), i.published)).collect();
            ids.sort_unstable();
            ids.dedup_by_key(|(id, _)| *id);
            assert_eq!(ids.len(), items.len(), "{provider}: repeated ids");
            for item in items {
                assert!(
                    !item.headline.is_empty() && item.headline.trim() == item.headline,
                    "{provider}: headline {:?}",
                    item.headline
                );
                assert!(!item.id.is_empty(), "{provider}: empty id: {item:?}");
                assert!(!item.source.is_empty(), "{provider}: no source: {item:?}");
                assert!(
                    item.published.is_representable(),
                    "{provider}: published {}",
                    item.published.millis()
                );
                let again: NewsItem =
                    serde_json::from_str(&serde_json::to_string(item).unwrap()).unwrap();
                assert_eq!(
                    again.published, item.published,
                    "{provider}: an item that does not survive JSON"
                );
            }
        }
        (Ok(items), None) => panic!(
            "{provider}: {} items from a body that is not a JSON array",
            items.len()
        ),
        (Err(e), _) => {
            let text = e.to_string();
            assert!(
                text.starts_with(provider),
                "an error that does not name {provider}: {text}"
            );
            assert!(
                array.is_none(),
                "{provider}: an error for a JSON array: {text}"
            );
            assert!(!text.contains("fuzz-key"), "{provider}: the key in {text}");
        }
    }
}

/// What FRED promises: a snapshot with finite figures, known no later than the time asked
/// for, saying where each figure came from; or an error that names FRED and not the key.
fn check_fred(answer: &Result<MacroSnapshot, NewsError>) {
    match answer {
        Ok(s) => {
            // FRED_AS_OF is 2024-12-06T15:46:40Z: the vintage of 2024-12-05, complete at its
            // end, and no figure for a later period.
            let vintage: Timestamp = "2024-12-06T00:00:00Z".parse().unwrap();
            assert_eq!(s.as_of, vintage, "fred: {s:?}");
            for figure in s.source.split("; ") {
                let period = figure
                    .rsplit_once('=')
                    .and_then(|(head, _)| head.rsplit(' ').next())
                    .unwrap_or_default();
                assert!(
                    period <= "2024-12-05",
                    "fred: a figure for {period}, after the vintage: {s:?}"
                );
            }
            assert!(
                s.policy_rate_pct.is_finite() && s.cpi_inflation_yoy_pct.is_finite(),
                "fred: {s:?}"
            );
            assert!(s.extra.values().all(|v| v.is_finite()), "fred: {s:?}");
            assert!(
                s.source.contains("FRED DFEDTARU"),
                "fred: source {:?}",
                s.source
            );
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.starts_with("fred"),
                "an error that does not name fred: {text}"
            );
            assert!(!text.contains("fuzz-key"), "fred: the key in {text}");
        }
    }
}

/// Answers each request on the connection with the current body, until the client closes it.
fn serve(stream: TcpStream, body: &Mutex<Vec<u8>>) {
    // One write per answer and no Nagle delay: a request then costs microseconds, not the 40 ms
    // of a delayed acknowledgement.
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().expect("a socket"));
    let mut writer = stream;
    let mut line = String::new();
    loop {
        // The request line and the headers; GET requests have no body.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let body = body.lock().unwrap().clone();
        let mut answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(&body);
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}
