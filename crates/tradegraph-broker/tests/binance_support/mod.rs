//! What the Binance tests share: a local venue, a broker on it with canary keys, the broker's
//! log lines captured, and waiting with a deadline.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tradegraph_broker::live::binance::{BinanceBroker, BinanceConfig};
use tradegraph_broker::live::Live;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Decimal, Instrument};
use tradegraph_testkit::venue::binance::BinanceVenue;

/// Canary keys: neither may appear in a log line or an error.
pub(crate) const KEY: &str = "canaryKEY0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub(crate) const SECRET: &str = "canarySECRET9f8e7d6c5b4a39281706f5e4d3c2b1a0";

pub(crate) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The log lines of every test of this binary (one subscriber for the process: tracing's
/// per-thread subscribers miss lines whose call sites another thread registered first). All
/// tests use the same canary keys, so none may appear anywhere in it.
#[derive(Clone, Default)]
pub(crate) struct Logs;

static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub(crate) fn text(&self) -> String {
        let lines = LINES
            .get()
            .map(|l| l.lock().unwrap().clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&lines).into_owned()
    }

    /// Installs the process's capture (once), at every level.
    pub(crate) fn capture(&self) {
        LINES.get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Sink(lines.clone());
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            lines
        });
    }

    /// Asserts that no canary (nor a run of its characters) was logged, and that something was.
    pub(crate) fn assert_clean(&self) {
        let text = self.text();
        assert!(
            text.contains("venue request"),
            "no request was logged: {text}"
        );
        for canary in [KEY, SECRET] {
            assert!(!text.contains(canary), "a canary key was logged");
            assert!(
                !text.contains(&canary[..16]),
                "a part of a canary key was logged"
            );
        }
    }
}

/// Asserts that `error` shows no canary.
pub(crate) fn assert_no_canary(error: &str) {
    for canary in [KEY, SECRET] {
        assert!(
            !error.contains(&canary[..16]),
            "a canary key is in an error: {error}"
        );
    }
}

pub(crate) fn config(venue: &BinanceVenue) -> BinanceConfig {
    let mut config = BinanceConfig::new(
        Secret::new(KEY),
        Secret::new(SECRET),
        Instrument::btc_usdt(),
    )
    .with_urls(venue.url(), venue.ws_url());
    config.poll_every = Duration::from_millis(50);
    config
}

/// A venue with 10 000 USDT at 40 000 and a broker on it.
pub(crate) async fn start() -> (BinanceVenue, Live<BinanceBroker>) {
    start_with(|_| {}).await
}

/// [`start`] with the settings `edit` changes.
pub(crate) async fn start_with(
    edit: impl FnOnce(&mut BinanceConfig),
) -> (BinanceVenue, Live<BinanceBroker>) {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    venue.set_balance("USDT", d("10000"));
    venue.set_price(d("40000"));
    let mut settings = config(&venue);
    edit(&mut settings);
    let broker = BinanceBroker::connect(
        settings,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    // The stream up and its catch-up poll over: no start-up request crosses the test's.
    wait_until("the user data stream is up and caught up", || async {
        broker.caught_up()
    })
    .await;
    (venue, broker)
}

pub(crate) use tradegraph_testkit::venue::wait_until;
