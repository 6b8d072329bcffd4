//! A local Binance spot venue for tests: real HTTP and WebSocket on 127.0.0.1, checking every
//! request as Binance does (API key header, HMAC-SHA256 signature over the exact parameters,
//! `timestamp` within `recvWindow`, parameters, the symbol's filters, balances), keeping orders,
//! matching them when the test moves the price, and recording every request.
//!
//! | Binance | here |
//! |---|---|
//! | `GET /api/v3/time`, `/exchangeInfo`, `/account`, `/openOrders`, `/myTrades` | yes |
//! | `POST`/`GET`/`DELETE /api/v3/order` | yes |
//! | `POST /api/v3/order/cancelReplace` | yes: the cancel first, then the new order checked; refused after the cancel: 409 `-2021` with `data` |
//! | `POST /api/v3/orderList/oco` | yes: one leg triggering cancels the other |
//! | WebSocket API `userDataStream.subscribe.signature` | yes, `executionReport` events, `eventStreamTerminated` ([`terminate_streams`](BinanceVenue::terminate_streams)), a half-open socket ([`stall_streams`](BinanceVenue::stall_streams)) |
//! | `GET /api/v3/klines` | yes: the bars of [`set_klines`](BinanceVenue::set_klines), paged by `startTime`, `endTime` (inclusive) and `limit`; weight 2; [`hold_klines_after`](BinanceVenue::hold_klines_after) stalls later pages (an interrupted download) |
//! | a connection dropped half-way through an answer | scripted with [`Failure::CutBody`] |
//! | `X-MBX-USED-WEIGHT-1M`, 429 and 418 with `Retry-After` | yes (over 6 000 a minute: 429 until the next minute; a request before `Retry-After` is banned with 418, as Binance does) |
//!
//! ```no_run
//! use tradegraph_testkit::venue::binance::{BinanceVenue, Failure};
//! # async fn demo() -> std::io::Result<()> {
//! let venue = BinanceVenue::start("test-key", "test-secret").await?;
//! venue.set_balance("USDT", 10_000.into());
//! venue.fail_next("POST", "/api/v3/order", Failure::RateLimited { retry_after_secs: 1 });
//! venue.set_price(40_000.into()); // matches the working orders
//! assert!(venue.requests().is_empty());
//! # Ok(()) }
//! ```

mod auth;
mod endpoints;
mod http;
mod json;
mod klines;
mod orders;
mod rules;
mod state;
mod ws;

pub use rules::Rules;
pub use state::CommissionAsset;

use rust_decimal::Decimal;
use state::State;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The venue's `REQUEST_WEIGHT` limit per minute (as `exchangeInfo` says).
pub const WEIGHT_LIMIT: u32 = 6_000;

/// A failure the venue gives the next matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 400 with this code and message (`-2010 "Market is closed."`, ...).
    Reject {
        /// Binance's code.
        code: i64,
        /// Its message.
        msg: String,
    },
    /// HTTP 429, `-1003`, with `Retry-After`; a request before then is banned (418).
    RateLimited {
        /// Seconds.
        retry_after_secs: u64,
    },
    /// HTTP 418 (banned) with `Retry-After`; every request until then gets 418.
    Banned {
        /// Seconds.
        retry_after_secs: u64,
    },
    /// HTTP 503 `-1001`, nothing done.
    ServerError,
    /// HTTP 200 with this body, as it is (a truncated or garbled answer).
    Body(String),
    /// The request is served as usual: a place in the queue, so that a failure scripted
    /// after it hits a later request to the same path.
    Pass,
    /// The request is served, but the connection is dropped half-way through the answer's
    /// body (a reset while reading).
    CutBody,
    /// The request is executed, but the answer is HTTP 503 `-1007` ("execution status
    /// unknown").
    LoseAnswer,
}

/// One request as the venue saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// `/api/v3/order`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The raw body.
    pub body: String,
    /// The `X-MBX-APIKEY` header.
    pub api_key: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// When it arrived (before the venue did anything with it).
    pub at: Instant,
    /// The venue's clock when it arrived, in ms (its minute is the weight's window).
    pub server_ms: i64,
    /// The `X-MBX-USED-WEIGHT-1M` answered: the minute's weight, this request's included.
    pub used_weight: u32,
}

/// An order as the venue keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The venue's id.
    pub id: u64,
    /// `clientOrderId`.
    pub client_id: String,
    /// `BUY` or `SELL`.
    pub side: &'static str,
    /// `MARKET`, `LIMIT`, `STOP_LOSS`, ...
    pub kind: String,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`.
    pub status: &'static str,
    /// `origQty`.
    pub quantity: Decimal,
    /// `price` (0 when none).
    pub price: Decimal,
    /// `stopPrice` (0 when none).
    pub stop_price: Decimal,
    /// `trailingDelta` (0 when none).
    pub trailing_delta: u32,
    /// `executedQty`.
    pub executed: Decimal,
    /// `orderListId` (-1 when none).
    pub order_list_id: i64,
}

pub(crate) struct Control {
    pub(crate) api_key: String,
    pub(crate) secret: String,
    pub(crate) failures: VecDeque<(String, String, Failure)>,
    pub(crate) log: Vec<Recorded>,
    pub(crate) banned_until: Option<Instant>,
    pub(crate) retry_after_until: Option<Instant>,
    pub(crate) used: u32,
    pub(crate) minute: i64,
    pub(crate) skew_ms: i64,
    pub(crate) refuse_streams: bool,
    pub(crate) subscriptions: u64,
    pub(crate) stream_connections: u64,
    pub(crate) klines_served: u64,
    pub(crate) hold_klines_after: Option<u64>,
    /// The answer being made is to be cut half-way (`Failure::CutBody`).
    pub(crate) cut_body: bool,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    control: Mutex<Control>,
    pub(crate) drops: watch::Sender<u64>,
    /// Bumped to make every open WebSocket connection go silent (half-open).
    pub(crate) stalls: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The venue's clock, in ms (the wall clock plus the test's skew).
    pub(crate) fn now_ms(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        wall + self.lock_control().skew_ms
    }
}

/// The running venue; stops when dropped.
pub struct BinanceVenue {
    shared: Arc<Shared>,
    http: SocketAddr,
    ws: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for BinanceVenue {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl BinanceVenue {
    /// Starts the venue for `BTCUSDT` with the default [`Rules`], taking requests signed with
    /// `secret` under `api_key`. No balances: set them with [`set_balance`](Self::set_balance).
    ///
    /// # Errors
    /// When it cannot listen on 127.0.0.1.
    pub async fn start(api_key: &str, secret: &str) -> std::io::Result<Self> {
        Self::start_with(api_key, secret, Rules::default()).await
    }

    /// Starts the venue with other rules.
    ///
    /// # Errors
    /// When it cannot listen on 127.0.0.1.
    pub async fn start_with(api_key: &str, secret: &str, rules: Rules) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(rules)),
            control: Mutex::new(Control {
                api_key: api_key.to_owned(),
                secret: secret.to_owned(),
                failures: VecDeque::new(),
                log: Vec::new(),
                banned_until: None,
                retry_after_until: None,
                used: 0,
                minute: 0,
                skew_ms: 0,
                refuse_streams: false,
                subscriptions: 0,
                stream_connections: 0,
                klines_served: 0,
                hold_klines_after: None,
                cut_body: false,
            }),
            drops: watch::channel(0).0,
            stalls: watch::channel(0).0,
        });
        let router = axum::Router::new()
            .fallback(http::handle)
            .with_state(shared.clone());
        let on_ws = shared.clone();
        let super::Listening { http, ws, tasks } =
            super::listen(router, move |listener| ws::serve(listener, on_ws)).await?;
        Ok(Self {
            shared,
            http,
            ws,
            tasks,
        })
    }

    /// The REST base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The WebSocket API URL (`ws://127.0.0.1:<port>/ws-api/v3`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws-api/v3", self.ws)
    }

    /// Moves the last price and matches every working order against it.
    pub fn set_price(&self, price: Decimal) {
        let now = self.shared.now_ms();
        let mut state = self.shared.lock_state();
        state.now = now;
        state.set_price(price);
    }

    /// Sets an asset's total balance.
    pub fn set_balance(&self, asset: &str, amount: Decimal) {
        self.shared
            .lock_state()
            .balances
            .insert(asset.to_owned(), amount);
    }

    /// An asset's `(free, locked)` balance.
    pub fn balance(&self, asset: &str) -> (Decimal, Decimal) {
        self.shared.lock_state().free_locked(asset)
    }

    /// From now on each match fills at most `quantity` (`None`: whole fills). A market order
    /// that cannot fill completely expires the rest, as on Binance.
    pub fn fill_partially(&self, quantity: Option<Decimal>) {
        self.shared.lock_state().partial = quantity;
    }

    /// The asset commissions are charged in (and the rate, default 0.1 %).
    pub fn set_commission(&self, asset: CommissionAsset, rate: Decimal) {
        let mut state = self.shared.lock_state();
        state.commission_asset = asset;
        state.commission_rate = rate;
    }

    /// A market order placed by hand (on the venue's website, not through the API): matched at
    /// the last price, its events sent to the user data stream, its client id `web_<n>`.
    ///
    /// # Errors
    /// The venue's refusal (`(status, code, msg)`), e.g. insufficient balance.
    pub fn place_by_hand(&self, sell: bool, quantity: Decimal) -> Result<u64, (u16, i64, String)> {
        let now = self.shared.now_ms();
        let mut state = self.shared.lock_state();
        state.now = now;
        state.place_by_hand(sell, quantity)
    }

    /// Opens or closes the market: closed, new orders get `-2010 Market is closed.`.
    pub fn set_trading(&self, open: bool) {
        self.shared.lock_state().trading = open;
    }

    /// The venue's clock runs `ms` ahead of the wall clock (negative: behind).
    pub fn set_clock_skew(&self, ms: i64) {
        self.shared.lock_control().skew_ms = ms;
    }

    /// The next request to `method path` gets `failure`.
    pub fn fail_next(&self, method: &str, path: &str, failure: Failure) {
        self.shared.lock_control().failures.push_back((
            method.to_owned(),
            path.to_owned(),
            failure,
        ));
    }

    /// Closes every WebSocket connection now.
    pub fn drop_streams(&self) {
        self.shared.lock_state().subscribers.clear();
        self.shared.drops.send_modify(|n| *n += 1);
    }

    /// Makes every open WebSocket connection go silent, as a half-open TCP connection does:
    /// nothing is sent on it (no event, no pong) and nothing it receives is read, but it is
    /// not closed. Connections made afterwards work.
    pub fn stall_streams(&self) {
        self.shared.stalls.send_modify(|n| *n += 1);
    }

    /// Ends every user data stream subscription as Binance does when it terminates one: an
    /// `eventStreamTerminated` event, then no more events on that connection (it stays open).
    pub fn terminate_streams(&self) {
        let now = self.shared.now_ms();
        let event = serde_json::json!({"e": "eventStreamTerminated", "E": now}).to_string();
        let subscribers = std::mem::take(&mut self.shared.lock_state().subscribers);
        for subscriber in subscribers {
            let _ = subscriber.send(event.clone());
        }
    }

    /// While `true`, WebSocket connections are closed as they arrive.
    pub fn refuse_streams(&self, refuse: bool) {
        self.shared.lock_control().refuse_streams = refuse;
    }

    /// Sets the request weight already used in the current minute of the venue's clock (as if
    /// other clients on the same IP had spent it). Over [`WEIGHT_LIMIT`] a request is refused
    /// with 429 and a `Retry-After` until the next minute, as Binance does.
    pub fn set_used_weight(&self, used: u32) {
        let minute = self.shared.now_ms().div_euclid(60_000);
        let mut control = self.shared.lock_control();
        control.minute = minute;
        control.used = used;
    }

    /// The klines `GET /api/v3/klines` serves: `bars` of `interval` (`1m`, `1h`, `1d`, ...),
    /// oldest first, for the venue's symbol.
    pub fn set_klines(&self, interval: &str, bars: Vec<crate::venue::VenueBar>) {
        let mut state = self.shared.lock_state();
        state.klines.interval = interval.to_owned();
        state.klines.bars = bars;
    }

    /// After `pages` klines answers, later klines requests wait (the client sees a request
    /// that never ends, as when a download is interrupted) until this is called with `None`.
    pub fn hold_klines_after(&self, pages: Option<u64>) {
        let mut control = self.shared.lock_control();
        control.hold_klines_after = pages;
    }

    /// How many klines pages were answered with 200 so far.
    pub fn klines_served(&self) -> u64 {
        self.shared.lock_control().klines_served
    }

    /// How many user data stream subscriptions were accepted so far.
    pub fn subscriptions(&self) -> u64 {
        self.shared.lock_control().subscriptions
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock_control().log.clone()
    }

    /// Every order the venue took, oldest first.
    pub fn orders(&self) -> Vec<OrderView> {
        self.shared
            .lock_state()
            .orders
            .iter()
            .map(|o| OrderView {
                id: o.id,
                client_id: o.client_id.clone(),
                side: o.side.as_str(),
                kind: o.kind.clone(),
                status: o.status,
                quantity: o.quantity,
                price: o.price,
                stop_price: o.stop_price,
                trailing_delta: o.trailing_delta,
                executed: o.executed,
                order_list_id: o.order_list_id,
            })
            .collect()
    }

    /// The `executionReport` events sent so far (JSON, without the envelope).
    pub fn events(&self) -> Vec<String> {
        self.shared.lock_state().events.clone()
    }

    /// The signature the venue expects for `payload` (for tests of signing).
    pub fn sign(&self, payload: &str) -> String {
        auth::sign(&self.shared.lock_control().secret, payload)
    }
}
