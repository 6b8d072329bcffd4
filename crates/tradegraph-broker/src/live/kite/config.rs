//! [`KiteConfig`]: where and how the Kite broker trades.

use super::product::{KiteProduct, DEFAULT_API_URL, DEFAULT_WS_URL};
use crate::live::venue::HttpSettings;
use crate::BrokerError;
use std::fmt;
use std::time::Duration;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::redact::Secret;

/// The Kite broker's settings. Nothing here reads the environment: the runtime fills it
/// (`KITE_API_URL`, `KITE_API_KEY`, `KITE_ACCESS_TOKEN` or the stored login).
///
/// ```
/// use tradegraph_broker::live::kite::{KiteConfig, KiteProduct};
/// use tradegraph_core::redact::Secret;
/// let config = KiteConfig::new(Secret::new("kite-api-key-0001"), Secret::new("kite-token-0001"), "NFO", "BANKNIFTY25JANFUT")
///     .with_product(KiteProduct::Nrml);
/// assert_eq!(config.api_url, "https://api.kite.trade");
/// assert!(!format!("{config:?}").contains("kite-token-0001"));
/// ```
#[derive(Clone)]
pub struct KiteConfig {
    /// The API key of the Kite Connect app.
    pub api_key: Secret,
    /// The day's access token (from `tradegraph kite login`).
    pub access_token: Secret,
    /// The REST base URL, without a trailing `/`.
    pub api_url: String,
    /// The WebSocket URL of order updates.
    pub ws_url: String,
    /// MIS (intraday) or NRML.
    pub product: KiteProduct,
    /// `NFO`, `NSE`, ...
    pub exchange: String,
    /// The instrument's trading symbol (`BANKNIFTY25JANFUT`).
    pub tradingsymbol: String,
    /// When set, stops go out as `SL` (stop-limit) with the limit this many ticks past the
    /// trigger; otherwise as `SL-M` with Kite's automatic market protection.
    pub stop_limit_ticks: Option<u32>,
    /// How far past its trigger a GTT stop leg's LIMIT price goes, in basis points of the
    /// trigger (default 50: 0.5 %, 240 points at 48 000), so that a gap still fills it.
    pub gtt_stop_band_bps: u32,
    /// How long the order-update socket may stay silent (Kite sends a heartbeat every
    /// second) before it is taken for dead and polling starts.
    pub silence_timeout: Duration,
    /// The least distance, in ticks, a trailing stop moves before the SL order is modified.
    pub trail_step_ticks: u32,
    /// Orders placed per second (Kite: 10).
    pub orders_per_second: u32,
    /// Orders placed per minute (Kite: 400).
    pub orders_per_minute: u32,
    /// Requests per second overall (Kite: 10).
    pub requests_per_second: u32,
    /// Orders placed per day (Kite: 5000).
    pub orders_per_day: u32,
    /// How often orders are polled while the order-update socket is down.
    pub poll_every: Duration,
    /// The delays between reconnections of the order-update socket.
    pub backoff: Backoff,
    /// The HTTP client's timeout, body cap and 429 retries.
    pub http: HttpSettings,
    /// When `tradingsymbol` names an underlying (`BANKNIFTY`) rather than a contract, the
    /// nearest-month future is traded, left this many days before its expiry.
    pub roll_days: u32,
    /// How long an order sent with its answer lost may stay unlisted by Kite (`GET /orders`)
    /// before it is taken as never received (`Rejected`, default 2 minutes). Until then it is
    /// pending, of unknown outcome: never sent again, and no other order is sent in its place.
    pub unknown_outcome_after: Duration,
    /// Whether the entry that finds a waiting roll due (the expiring contract's position
    /// closed) is refused rather than sent to the next contract: a caller whose prices are the
    /// expiring contract's (a bot whose feed streams its instrument token) decided it on
    /// them. Later entries go to the next contract. `false` by default.
    pub refuse_entry_that_rolls: bool,
    /// The exchange's trading hours (NSE's for NSE, NFO, BSE and BFO; `None` for another
    /// exchange, or a test venue that is always open). Kite refuses regular orders while the
    /// market is closed: an exit stop the exchange cancelled at the close goes out again when
    /// the session opens.
    pub session: Option<tradegraph_core::instrument::ExchangeSession>,
    /// How long after a trade is booked a read of the position is taken to show it (default
    /// 2 s): Kite's positions may lag its trades, and exits are fitted only to a read sent
    /// that long after the last trade.
    pub position_settle: Duration,
}

impl KiteConfig {
    /// Settings with Kite's URLs and limits, product MIS.
    pub fn new(
        api_key: Secret,
        access_token: Secret,
        exchange: impl Into<String>,
        tradingsymbol: impl Into<String>,
    ) -> Self {
        Self {
            api_key,
            access_token,
            api_url: DEFAULT_API_URL.to_owned(),
            ws_url: DEFAULT_WS_URL.to_owned(),
            product: KiteProduct::Mis,
            exchange: exchange.into(),
            tradingsymbol: tradingsymbol.into(),
            stop_limit_ticks: None,
            gtt_stop_band_bps: 50,
            silence_timeout: Duration::from_secs(10),
            trail_step_ticks: 1,
            orders_per_second: 10,
            orders_per_minute: 400,
            requests_per_second: 10,
            orders_per_day: 5000,
            poll_every: Duration::from_secs(2),
            backoff: Backoff::default(),
            http: HttpSettings::default(),
            roll_days: 3,
            unknown_outcome_after: Duration::from_secs(120),
            refuse_entry_that_rolls: false,
            session: None,
            position_settle: Duration::from_secs(2),
        }
        .with_exchange_hours()
    }

    /// The exchange's hours for [`session`](Self::session): NSE's for the exchanges that keep
    /// them.
    fn with_exchange_hours(mut self) -> Self {
        self.session = matches!(self.exchange.as_str(), "NSE" | "NFO" | "BSE" | "BFO")
            .then(tradegraph_core::instrument::ExchangeSession::nse);
        self
    }

    /// Refuses the entry that finds a waiting roll due ([`refuse_entry_that_rolls`](Self::refuse_entry_that_rolls)).
    pub fn with_entry_that_rolls_refused(mut self) -> Self {
        self.refuse_entry_that_rolls = true;
        self
    }

    /// The REST base URL (a local venue server in tests, or `KITE_API_URL`).
    pub fn with_api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The WebSocket URL of order updates.
    pub fn with_ws_url(mut self, url: impl Into<String>) -> Self {
        self.ws_url = url.into();
        self
    }

    /// The product.
    pub fn with_product(mut self, product: KiteProduct) -> Self {
        self.product = product;
        self
    }

    /// The `Authorization` header value: `token api_key:access_token`. A secret: never log it.
    pub fn authorization(&self) -> Secret {
        Secret::new(format!(
            "token {}:{}",
            self.api_key.expose(),
            self.access_token.expose()
        ))
    }

    /// Hides the key and the token in a text (for errors and logs).
    pub fn redact(&self, text: &str) -> String {
        self.access_token.redact(&self.api_key.redact(text))
    }

    /// Checks what cannot work, naming it.
    ///
    /// # Errors
    /// [`BrokerError::Config`] naming the missing credential, instrument or limit.
    pub fn validate(&self) -> Result<(), BrokerError> {
        if self.api_key.is_empty() || self.access_token.is_empty() {
            return Err(BrokerError::Config(
                "Kite needs an API key and an access token: set KITE_API_KEY and run \
                 `tradegraph kite login` (or set KITE_ACCESS_TOKEN)"
                    .into(),
            ));
        }
        if self.exchange.is_empty() || self.tradingsymbol.is_empty() {
            return Err(BrokerError::Config(
                "Kite needs the exchange and the trading symbol of the instrument".into(),
            ));
        }
        if self.orders_per_second == 0
            || self.orders_per_minute == 0
            || self.orders_per_day == 0
            || self.requests_per_second == 0
        {
            return Err(BrokerError::Config(
                "Kite rate limits must be above 0 (Kite allows 10 requests/s, 10 orders/s, 400 orders/min, 5000 orders/day)".into(),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for KiteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KiteConfig")
            .field("api_key", &self.api_key)
            .field("access_token", &self.access_token)
            .field("api_url", &tradegraph_core::redact::url(&self.api_url))
            .field("ws_url", &tradegraph_core::redact::url(&self.ws_url))
            .field("product", &self.product)
            .field("exchange", &self.exchange)
            .field("tradingsymbol", &self.tradingsymbol)
            .field("stop_limit_ticks", &self.stop_limit_ticks)
            .field("gtt_stop_band_bps", &self.gtt_stop_band_bps)
            .field("silence_timeout", &self.silence_timeout)
            .field("trail_step_ticks", &self.trail_step_ticks)
            .field("poll_every", &self.poll_every)
            .field("roll_days", &self.roll_days)
            .finish_non_exhaustive()
    }
}
