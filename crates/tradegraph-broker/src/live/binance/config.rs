//! [`BinanceConfig`]: keys, URLs, timing and the instrument of the Binance spot broker.

#[cfg(doc)]
use super::endpoints::TESTNET_API_URL;
use super::endpoints::{BINANCE_API_URL, BINANCE_WS_API_URL};
use crate::live::venue::HttpSettings;
use crate::BrokerError;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::Duration;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Exchange, Instrument};

/// How the Binance spot broker connects and trades. Nothing here reads the environment: the
/// runtime fills it (`BINANCE_API_KEY`, `BINANCE_API_SECRET`, `BINANCE_API_URL`, ...).
///
/// ```
/// use tradegraph_broker::live::binance::BinanceConfig;
/// use tradegraph_core::{redact::Secret, Instrument};
/// let config = BinanceConfig::new(Secret::new("k3y-value"), Secret::new("s3cret-value"), Instrument::btc_usdt());
/// assert_eq!(config.base_url, "https://api.binance.com");
/// assert_eq!(config.recv_window_ms, 5_000);
/// config.validate()?;
/// // Keys never show.
/// let shown = format!("{config:?}");
/// assert!(!shown.contains("k3y-value") && !shown.contains("s3cret-value"));
/// # Ok::<(), tradegraph_broker::BrokerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BinanceConfig {
    /// The API key (`X-MBX-APIKEY`).
    pub api_key: Secret,
    /// The API secret (HMAC-SHA256 key).
    pub api_secret: Secret,
    /// The REST base URL ([`BINANCE_API_URL`]; the testnet's is [`TESTNET_API_URL`]).
    pub base_url: String,
    /// The WebSocket API URL for the user data stream ([`BINANCE_WS_API_URL`]).
    pub ws_api_url: String,
    /// `recvWindow` of signed requests, in ms (Binance's default 5000; at most 60000).
    pub recv_window_ms: u64,
    /// The instrument traded (its symbol is Binance's, e.g. `BTCUSDT`).
    pub instrument: Instrument,
    /// Base-asset holdings in the account that are not the bot's: [`positions`] reports the
    /// base balance minus this.
    ///
    /// [`positions`]: crate::Broker::positions
    pub reserved_base: Decimal,
    /// Prices (in the quote asset) of other assets that fees may be charged in (`BNB`): a fee
    /// in an asset without a price is valued 0, with a warning.
    pub fee_asset_prices: HashMap<String, Decimal>,
    /// How much below (for a sell) or above (for a buy) the trigger a stop-limit's limit goes,
    /// in basis points, where the symbol takes no stop-market (`STOP_LOSS`) order.
    pub stop_limit_slippage_bps: u32,
    /// The request weight allowed per minute (Binance's `REQUEST_WEIGHT`, 6000).
    pub weight_per_minute: u32,
    /// The share of it this broker uses before it slows down, in percent.
    pub weight_headroom_pct: u32,
    /// How often the venue is polled for order updates while the stream is down.
    pub poll_every: Duration,
    /// How often the server time offset is measured again.
    pub time_sync_every: Duration,
    /// How long the user data stream may say nothing (no event, no pong to the broker's pings,
    /// sent every third of it) before the connection is taken as dead and polling covers.
    pub stream_idle_timeout: Duration,
    /// HTTP timeouts, body cap, retries.
    pub http: HttpSettings,
    /// How long an order sent with its answer lost may stay unknown to Binance (`GET
    /// /api/v3/order`: "does not exist") before it is taken as never received (`Rejected`,
    /// default 2 minutes). Until then it is pending, of unknown outcome: never sent again, and
    /// no other order is sent in its place.
    pub unknown_outcome_after: Duration,
}

impl BinanceConfig {
    /// A configuration for the real venue with Binance's defaults.
    pub fn new(api_key: Secret, api_secret: Secret, instrument: Instrument) -> Self {
        Self {
            api_key,
            api_secret,
            base_url: BINANCE_API_URL.to_owned(),
            ws_api_url: BINANCE_WS_API_URL.to_owned(),
            recv_window_ms: 5_000,
            instrument,
            reserved_base: Decimal::ZERO,
            fee_asset_prices: HashMap::new(),
            stop_limit_slippage_bps: 50,
            weight_per_minute: 6_000,
            weight_headroom_pct: 80,
            poll_every: Duration::from_secs(2),
            time_sync_every: Duration::from_secs(300),
            stream_idle_timeout: Duration::from_secs(60),
            http: HttpSettings::default(),
            unknown_outcome_after: Duration::from_secs(120),
        }
    }

    /// With other URLs (the testnet's, or a local venue's).
    pub fn with_urls(mut self, base_url: impl Into<String>, ws_api_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self.ws_api_url = ws_api_url.into();
        self
    }

    /// Checks every field; the error names the field and what to do.
    ///
    /// # Errors
    /// [`BrokerError::Config`].
    pub fn validate(&self) -> Result<(), BrokerError> {
        let bad = |field: &str, what: String| {
            Err(BrokerError::Config(format!("binance: {field} {what}")))
        };
        if self.api_key.is_empty() {
            return bad("api_key", "is empty: set BINANCE_API_KEY".into());
        }
        if self.api_secret.is_empty() {
            return bad("api_secret", "is empty: set BINANCE_API_SECRET".into());
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return bad(
                "base_url",
                "must start with https:// (or http:// for a local venue)".into(),
            );
        }
        if !(self.ws_api_url.starts_with("wss://") || self.ws_api_url.starts_with("ws://")) {
            return bad(
                "ws_api_url",
                "must start with wss:// (or ws:// for a local venue)".into(),
            );
        }
        if self.recv_window_ms == 0 || self.recv_window_ms > 60_000 {
            return bad(
                "recv_window_ms",
                format!("is {}: Binance takes 1 to 60000 ms", self.recv_window_ms),
            );
        }
        if self.instrument.exchange != Exchange::Binance {
            return bad(
                "instrument",
                format!("{} does not trade on Binance", self.instrument.symbol),
            );
        }
        if self.reserved_base.is_sign_negative() {
            return bad(
                "reserved_base",
                format!("is {}: it cannot be negative", self.reserved_base),
            );
        }
        if let Some((asset, price)) = self
            .fee_asset_prices
            .iter()
            .find(|(_, p)| **p <= Decimal::ZERO)
        {
            return bad(
                "fee_asset_prices",
                format!("gives {asset} the price {price}: prices are positive"),
            );
        }
        if self.stop_limit_slippage_bps >= 10_000 {
            return bad(
                "stop_limit_slippage_bps",
                "must be below 10000 (100 %)".into(),
            );
        }
        if self.weight_per_minute == 0 || !(1..=100).contains(&self.weight_headroom_pct) {
            return bad(
                "weight_per_minute/weight_headroom_pct",
                "must be positive, the headroom 1 to 100 %".into(),
            );
        }
        if self.stream_idle_timeout < Duration::from_millis(30) {
            return bad(
                "stream_idle_timeout",
                format!(
                    "is {} ms: at least 30 ms (Binance pings every 20 s; 60 s is the default)",
                    self.stream_idle_timeout.as_millis()
                ),
            );
        }
        if self.poll_every.is_zero() || self.time_sync_every.is_zero() {
            return bad("poll_every/time_sync_every", "must be above zero".into());
        }
        Ok(())
    }
}
