//! A local Kite Connect venue for tests: real HTTP and WebSocket on 127.0.0.1, checking every
//! request as Kite does (`X-Kite-Version: 3`, `Authorization: token api_key:access_token`, the
//! login checksum, order forms, lot and tick size, market protection), keeping orders and GTTs,
//! matching them when the test moves the price, sending order updates on the WebSocket, and
//! recording every request.
//!
//! | Kite | here |
//! |---|---|
//! | `POST /session/token` | yes: checks the SHA-256 checksum, issues the access token |
//! | `POST`/`PUT`/`DELETE /orders/regular[/{id}]`, `GET /orders`, `/orders/{id}`, `/orders/{id}/trades` | yes |
//! | `POST /gtt/triggers` (`single`, `two-leg`), `GET`/`DELETE /gtt/triggers/{id}` | yes: a triggered leg places a LIMIT order |
//! | `GET /portfolio/positions`, `/user/margins`, `/instruments/{exchange}` | yes |
//! | the ticker WebSocket (`?api_key=..&access_token=..`) | order updates as `{"type":"order","data":{..}}` text messages |
//! | `GET /instruments/historical/{token}/{interval}` | yes: the candles of [`set_candles`](KiteVenue::set_candles), `from` and `to` (IST, inclusive) within Kite's window per interval (60 days of minute candles ... 2,000 of day candles); day candles by date with [`day_candles_by_date`](KiteVenue::day_candles_by_date); [`hold_history_after`](KiteVenue::hold_history_after) stalls later windows (an interrupted download) |
//! | 429 with `Retry-After`, 5xx, any `error_type`, dropped sockets | scripted with [`Failure`] |
//!
//! ```no_run
//! use tradegraph_testkit::venue::kite::{Failure, KiteVenue};
//! # async fn demo() -> std::io::Result<()> {
//! let venue = KiteVenue::start("api-key", "api-secret", "access-token").await?;
//! venue.fail_next("POST", "/orders/regular", Failure::RateLimited { retry_after_secs: 1 });
//! venue.set_price(48_200.into()); // matches the working orders, triggers GTTs
//! assert!(venue.requests().is_empty());
//! # Ok(()) }
//! ```

mod book;
mod clock;
mod dump;
mod gtt;
mod history;
mod http;
mod ws;

pub use book::{number, Book, KiteFail, VenueOrder, MAX_MODIFICATIONS};
pub use gtt::GttView;

use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// A failure the venue gives the next matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An error answer in Kite's envelope: status, `error_type` and message (`403
    /// TokenException`, `400 OrderException "Insufficient funds..."`, ...). Nothing is done.
    Reject {
        /// HTTP status.
        status: u16,
        /// `TokenException`, `InputException`, `OrderException`, `NetworkException`,
        /// `GeneralException`.
        error_type: &'static str,
        /// The message.
        message: String,
    },
    /// HTTP 429 `Too many requests` with `Retry-After`.
    RateLimited {
        /// Seconds.
        retry_after_secs: u64,
    },
    /// HTTP 503 `NetworkException`; nothing done.
    ServerError,
    /// The request is executed, but the answer is HTTP 504 (the outcome is unknown to the
    /// client).
    LoseAnswer,
    /// The request is served as usual: a place in the queue, so that a failure scripted
    /// after it hits a later request to the same path.
    Pass,
    /// HTTP 200 with this body, as it is (a truncated or garbled answer). Nothing is done.
    Body(String),
    /// The request is executed, but the answer is HTTP 200 with this body instead of its own
    /// (a proxy or a partial deploy garbling the answer to a request Kite carried out).
    ExecuteThenBody(String),
}

/// One request as the venue saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: String,
    /// `/orders/regular`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The raw body.
    pub body: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `X-Kite-Version` header.
    pub version: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

pub(crate) struct Control {
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) access_token: String,
    pub(crate) request_token: String,
    pub(crate) failures: VecDeque<(String, String, Failure)>,
    pub(crate) log: Vec<Recorded>,
    pub(crate) refuse_streams: bool,
    pub(crate) silent_streams: bool,
    pub(crate) stream_connections: u64,
    /// Historical-candles answers given with 200 so far.
    pub(crate) history_served: u64,
    /// Historical-candles requests wait once this many were answered.
    pub(crate) hold_history_after: Option<u64>,
}

pub(crate) struct State {
    pub(crate) book: Book,
    pub(crate) gtts: Vec<gtt::Gtt>,
    pub(crate) exchange: String,
    pub(crate) tradingsymbol: String,
    pub(crate) dump: String,
    pub(crate) cash: Decimal,
    /// Margin blocked by the open position, in percent of its value (0: none, the default).
    pub(crate) margin_pct: Decimal,
    pub(crate) subscribers: Vec<mpsc::UnboundedSender<String>>,
    pub(crate) events: Vec<String>,
    /// Historical candles: instrument token, interval, bars.
    pub(crate) candles: Vec<(u32, String, Vec<crate::venue::VenueBar>)>,
    /// Day candles chosen by date, whatever the times of `from` and `to`.
    pub(crate) days_by_date: bool,
    /// While set, orders placed are left out of `GET /orders`, `GET /orders/{id}` and the
    /// WebSocket (Kite's order book lagging a placement).
    pub(crate) lag_orders: bool,
    /// The orders placed while lagging, not shown yet.
    pub(crate) unlisted: std::collections::HashSet<String>,
}

impl State {
    /// Sends the orders that changed since `before` to every WebSocket.
    pub(crate) fn publish(&mut self, before: &[VenueOrder]) {
        let changed: Vec<String> = self
            .book
            .orders
            .iter()
            .enumerate()
            .filter(|(i, o)| before.get(*i) != Some(o) && !self.unlisted.contains(&o.order_id))
            .map(|(_, o)| {
                serde_json::json!({"type": "order", "data": o.to_json(&self.exchange, &self.tradingsymbol)})
                    .to_string()
            })
            .collect();
        for message in changed {
            self.subscribers.retain(|s| s.send(message.clone()).is_ok());
            self.events.push(message);
        }
    }

    /// Moves the price: orders match, GTTs trigger (their orders then match too).
    pub(crate) fn move_price(&mut self, price: Decimal) {
        let before = self.book.orders.clone();
        self.book.set_price(price);
        gtt::trigger(self, price);
        self.publish(&before);
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    control: Mutex<Control>,
    pub(crate) drops: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running venue; stops when dropped.
pub struct KiteVenue {
    shared: Arc<Shared>,
    http: SocketAddr,
    ws: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for KiteVenue {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl KiteVenue {
    /// Starts the venue for the account `api_key` (app secret `api_secret`) whose access token
    /// today is `access_token`. It trades one NFO BANKNIFTY future (lot 30, tick 0.05, expiring
    /// in 30 days: [`tradingsymbol`](Self::tradingsymbol)); its dump also lists the contracts
    /// expiring in 2 and 60 days. Cash: 1,000,000.
    ///
    /// # Errors
    /// When it cannot listen on 127.0.0.1.
    pub async fn start(
        api_key: &str,
        api_secret: &str,
        access_token: &str,
    ) -> std::io::Result<Self> {
        let (dump, tradingsymbol) = dump::banknifty(30, Decimal::new(5, 2));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                book: Book::new(30, Decimal::new(5, 2)),
                gtts: Vec::new(),
                exchange: "NFO".into(),
                tradingsymbol,
                dump,
                cash: Decimal::from(1_000_000),
                margin_pct: Decimal::ZERO,
                subscribers: Vec::new(),
                events: Vec::new(),
                candles: Vec::new(),
                days_by_date: false,
                lag_orders: false,
                unlisted: std::collections::HashSet::new(),
            }),
            control: Mutex::new(Control {
                api_key: api_key.to_owned(),
                api_secret: api_secret.to_owned(),
                access_token: access_token.to_owned(),
                request_token: "request-token-0001".into(),
                failures: VecDeque::new(),
                log: Vec::new(),
                refuse_streams: false,
                silent_streams: false,
                stream_connections: 0,
                history_served: 0,
                hold_history_after: None,
            }),
            drops: watch::channel(0).0,
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

    /// The ticker WebSocket URL (`ws://127.0.0.1:<port>`), without its query.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws)
    }

    /// The contract traded.
    pub fn tradingsymbol(&self) -> String {
        self.shared.lock_state().tradingsymbol.clone()
    }

    /// The next trading day's dump, as Kite publishes it: the contract traded now expires
    /// tomorrow (inside the broker's roll), and the next month's is traded from now on (its
    /// symbol is returned; the expiring one still takes orders).
    pub fn roll_contract(&self) -> String {
        let mut state = self.shared.lock_state();
        let lot = u32::try_from(state.book.lot_size.mantissa()).unwrap_or(30);
        let (dump, next) = dump::banknifty_rolled(lot, state.book.tick_size);
        state.dump = dump;
        state.tradingsymbol = next.clone();
        next
    }

    /// The request token `POST /session/token` takes (one login).
    pub fn set_request_token(&self, token: &str) {
        self.shared.lock_control().request_token = token.to_owned();
    }

    /// The access token the venue takes now (a login issues a new one).
    pub fn access_token(&self) -> String {
        self.shared.lock_control().access_token.clone()
    }

    /// Moves the last price: working orders match, GTTs trigger.
    pub fn set_price(&self, price: Decimal) {
        self.shared.lock_state().move_price(price);
    }

    /// A MARKET order placed by hand (in Kite's web app: no `tag`) in the contract traded, in
    /// the product of the last order placed (a position is exited by hand in its product; MIS
    /// before any); returns its order id.
    pub fn place_by_hand(&self, side: &str, quantity: Decimal) -> String {
        let product = self
            .shared
            .lock_state()
            .book
            .orders
            .last()
            .map_or_else(|| "MIS".to_owned(), |o| o.product.clone());
        self.place_by_hand_in(side, quantity, &product)
    }

    /// A MARKET order placed by hand in the contract traded, in `product` (`MIS`, `NRML`): a
    /// position of another product than the bot's; returns its order id.
    pub fn place_by_hand_in(&self, side: &str, quantity: Decimal, product: &str) -> String {
        let mut state = self.shared.lock_state();
        let before = state.book.orders.clone();
        let form: std::collections::HashMap<String, String> = [
            ("transaction_type", side.to_owned()),
            ("quantity", quantity.to_string()),
            ("product", product.to_owned()),
            ("order_type", "MARKET".to_owned()),
            ("market_protection", "-1".to_owned()),
            ("exchange", state.exchange.clone()),
            ("tradingsymbol", state.tradingsymbol.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let placed = state.book.place(&form).unwrap_or_default();
        state.publish(&before);
        placed
    }

    /// The next match fills at most `quantity` (once), then the rest on later prices.
    pub fn fill_partially(&self, quantity: Decimal) {
        self.shared.lock_state().book.partial = Some(quantity);
    }

    /// While `true`, new trades stay out of `GET /orders/{id}/trades` although the orders
    /// show them filled (Kite's trade book lags its order book); `false` shows them all.
    pub fn delay_trades(&self, delay: bool) {
        let mut state = self.shared.lock_state();
        state.book.delay_trades = delay;
        if !delay {
            state.book.hidden_trades.clear();
        }
    }

    /// The equity segment's available cash.
    pub fn set_cash(&self, cash: Decimal) {
        self.shared.lock_state().cash = cash;
    }

    /// Blocks `pct` percent of the open position's value as margin, as Kite does for futures
    /// (SPAN four fifths, exposure one fifth): `utilised` shows it, and `net` (the margin left)
    /// is the cash less it.
    pub fn set_margin_pct(&self, pct: Decimal) {
        self.shared.lock_state().margin_pct = pct;
    }

    /// The next request to `method path` (the path as sent, `/orders/regular`) gets `failure`.
    pub fn fail_next(&self, method: &str, path: &str, failure: Failure) {
        self.shared.lock_control().failures.push_back((
            method.to_owned(),
            path.to_owned(),
            failure,
        ));
    }

    /// While `true`, orders placed are taken (their ids answered) but Kite does not list them
    /// yet: not in `GET /orders` nor `GET /orders/{id}`, no WebSocket update. `false` lists
    /// them and sends their updates.
    pub fn lag_orders(&self, lag: bool) {
        let mut state = self.shared.lock_state();
        state.lag_orders = lag;
        if !lag {
            // Every order shown now is sent as changed.
            let shown = std::mem::take(&mut state.unlisted);
            let before: Vec<VenueOrder> = state
                .book
                .orders
                .iter()
                .map(|o| VenueOrder {
                    status: if shown.contains(&o.order_id) {
                        String::new()
                    } else {
                        o.status.clone()
                    },
                    ..o.clone()
                })
                .collect();
            state.publish(&before);
        }
    }

    /// The exchange's close: every working regular order (a `DAY` order) is `CANCELLED`, as
    /// NSE cancels unfilled day orders at the end of the session; GTTs and positions stay.
    pub fn close_session(&self) {
        let mut state = self.shared.lock_state();
        let before = state.book.orders.clone();
        for order in state.book.orders.iter_mut().filter(|o| o.working()) {
            order.status = "CANCELLED".into();
            order.status_message = Some("Order cancelled by the exchange at market close.".into());
        }
        state.publish(&before);
    }

    /// The next order placed is accepted (its id answered), then `REJECTED` with this
    /// `status_message`, as Kite's margin and risk checks do after taking a request.
    pub fn reject_after_accepting(&self, status_message: &str) {
        self.shared.lock_state().book.reject_next = Some(status_message.to_owned());
    }

    /// Closes every WebSocket connection now.
    pub fn drop_streams(&self) {
        self.shared.lock_state().subscribers.clear();
        self.shared.drops.send_modify(|n| *n += 1);
    }

    /// While `true`, WebSocket connections are closed as they arrive.
    pub fn refuse_streams(&self, refuse: bool) {
        self.shared.lock_control().refuse_streams = refuse;
    }

    /// While `true`, the WebSockets stay open but send nothing (no heartbeat, no order
    /// update): a half-open connection as the client sees it.
    pub fn silence_streams(&self, silent: bool) {
        self.shared.lock_control().silent_streams = silent;
    }

    /// How many WebSocket connections were accepted so far.
    pub fn stream_connections(&self) -> u64 {
        self.shared.lock_control().stream_connections
    }

    /// How many WebSockets are connected now.
    pub fn subscribers(&self) -> usize {
        let mut state = self.shared.lock_state();
        state.subscribers.retain(|s| !s.is_closed());
        state.subscribers.len()
    }

    /// The candles `GET /instruments/historical/{token}/{interval}` serves for `token` at
    /// `interval` (Kite's names: `minute`, `5minute`, `60minute`, `day`, ...), oldest first.
    pub fn set_candles(&self, token: u32, interval: &str, bars: Vec<crate::venue::VenueBar>) {
        let mut state = self.shared.lock_state();
        state
            .candles
            .retain(|(t, i, _)| !(*t == token && i == interval));
        state.candles.push((token, interval.to_owned(), bars));
    }

    /// Whether day candles are chosen by their date only: from `from`'s date to `to`'s date,
    /// whatever their times (off by default: by the second, like the other intervals). Kite's
    /// documentation does not say which it does; a client must work with both.
    pub fn day_candles_by_date(&self, by_date: bool) {
        self.shared.lock_state().days_by_date = by_date;
    }

    /// After `windows` historical-candles answers, later historical requests wait (the client
    /// sees a request that never ends, as when a download is interrupted) until this is called
    /// with `None`.
    pub fn hold_history_after(&self, windows: Option<u64>) {
        self.shared.lock_control().hold_history_after = windows;
    }

    /// How many historical-candles answers were given with 200 so far.
    pub fn history_served(&self) -> u64 {
        self.shared.lock_control().history_served
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock_control().log.clone()
    }

    /// Every order the venue took, oldest first.
    pub fn orders(&self) -> Vec<VenueOrder> {
        self.shared.lock_state().book.orders.clone()
    }

    /// Every GTT, oldest first.
    pub fn gtts(&self) -> Vec<GttView> {
        self.shared
            .lock_state()
            .gtts
            .iter()
            .map(gtt::Gtt::view)
            .collect()
    }

    /// The order updates sent on the WebSocket so far (whole text messages).
    pub fn events(&self) -> Vec<String> {
        self.shared.lock_state().events.clone()
    }
}
