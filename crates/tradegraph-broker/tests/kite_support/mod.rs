//! What the Kite tests share: a local venue, a broker on it with canary credentials, the
//! broker's log lines captured, and waiting with a deadline.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradegraph_broker::live::kite::{KiteBroker, KiteConfig, KiteProduct};
use tradegraph_broker::live::Live;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Decimal, Symbol};
use tradegraph_testkit::venue::kite::KiteVenue;

/// Canary credentials: none may appear in a log line or an error.
pub(crate) const KEY: &str = "canaryKITEKEY0a1b2c3d4e5f6071";
pub(crate) const SECRET: &str = "canaryKITESECRET9f8e7d6c5b4a3";
pub(crate) const TOKEN: &str = "canaryKITETOKENa0b1c2d3e4f5a6b7";

pub(crate) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(crate) fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

pub(crate) fn bank() -> Symbol {
    Symbol::new("BANKNIFTY")
}

/// Log lines written while a test runs (the test's thread: the runtime is current-thread).
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
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
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Installs the capture for this thread, at every level.
    pub(crate) fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Asserts that requests were logged and that no canary (nor a part of one) was.
    pub(crate) fn assert_clean(&self) {
        let text = self.text();
        assert!(
            text.contains("venue request"),
            "no request was logged: {text}"
        );
        assert_no_canary(&text);
    }
}

/// Asserts that `text` shows no canary, nor a part of one.
pub(crate) fn assert_no_canary(text: &str) {
    for canary in [KEY, SECRET, TOKEN] {
        assert!(
            !text.contains(&canary[..14]),
            "a canary credential leaked: {text}"
        );
    }
}

pub(crate) fn config(venue: &KiteVenue) -> KiteConfig {
    let mut config = KiteConfig::new(
        Secret::new(KEY),
        Secret::new(TOKEN),
        "NFO",
        venue.tradingsymbol(),
    )
    .with_api_url(venue.url())
    .with_ws_url(venue.ws_url())
    // GTT exits need NRML (Kite documents them for CNC and NRML only); the MIS tests set it.
    .with_product(KiteProduct::Nrml);
    config.poll_every = Duration::from_millis(50);
    // The test venue is open whatever the time (a test sets the hours it needs).
    config.session = None;
    config.position_settle = Duration::from_millis(200);
    config.backoff = tradegraph_core::backoff::Backoff::new(
        Duration::from_millis(20),
        Duration::from_millis(100),
    );
    config
}

/// A venue at 48 200 and a broker on it (NRML), its order-update socket connected.
pub(crate) async fn start() -> (KiteVenue, Live<KiteBroker>) {
    start_with(|_| {}).await
}

/// [`start`] with the settings `edit` changes.
pub(crate) async fn start_with(
    edit: impl FnOnce(&mut KiteConfig),
) -> (KiteVenue, Live<KiteBroker>) {
    let venue = KiteVenue::start(KEY, SECRET, TOKEN).await.unwrap();
    venue.set_price(d("48200"));
    let mut settings = config(&venue);
    edit(&mut settings);
    let broker = KiteBroker::connect(
        settings,
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the order-update socket is up", || async {
        venue.subscribers() == 1
    })
    .await;
    (venue, broker)
}

pub(crate) use tradegraph_testkit::venue::wait_until;
