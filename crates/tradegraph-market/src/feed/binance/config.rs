//! What the Binance feed connects to and how it behaves.

use crate::feed::Backoff;
use crate::MarketError;
use std::fmt;
use std::time::Duration;
use tradegraph_core::redact;

/// Which trade stream to subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TradeStream {
    /// `<symbol>@trade`: every trade; `trade_id` is Binance's trade id.
    #[default]
    Trade,
    /// `<symbol>@aggTrade`: trades of one taker order at one price, aggregated; `trade_id` is the
    /// aggregate trade id (`a`), which is consecutive too.
    AggTrade,
}

/// Configuration of [`BinanceFeed`](super::BinanceFeed).
///
/// ```
/// use std::time::Duration;
/// use tradegraph_market::feed::binance::{BinanceConfig, TradeStream};
///
/// let config = BinanceConfig {
///     trade_stream: TradeStream::AggTrade,
///     depth: false,
///     ..BinanceConfig::new("BTCUSDT")
/// };
/// assert_eq!(config.streams(), ["btcusdt@aggTrade", "btcusdt@kline_1m"]);
/// assert_eq!(
///     config.stream_url(),
///     "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m"
/// );
/// assert_eq!(config.max_connection_age, Duration::from_secs(23 * 3600 + 50 * 60));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Base endpoint, without a path (`wss://stream.binance.com:9443`,
    /// `wss://data-stream.binance.vision`, or a local `ws://` server in tests).
    pub url: String,
    /// The instrument (`BTCUSDT`; any case).
    pub symbol: String,
    /// Raw trades or aggregate trades.
    pub trade_stream: TradeStream,
    /// Subscribe to the top-5 book every 100 ms (`<symbol>@depth5@100ms`).
    pub depth: bool,
    /// Subscribe to 1-minute klines (`<symbol>@kline_1m`).
    pub klines: bool,
    /// A connection older than this is replaced by a fresh one, opened before the old one is
    /// dropped so that no trade is lost. Binance drops connections at 24 hours.
    pub max_connection_age: Duration,
    /// A connection that receives nothing (not even a ping) for this long is considered dead.
    /// Binance pings every 20 seconds.
    pub silence_timeout: Duration,
    /// How long a connection attempt (TCP, TLS and WebSocket handshake) may take.
    pub connect_timeout: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
}

impl BinanceConfig {
    /// Binance's production endpoint.
    pub const DEFAULT_URL: &'static str = "wss://stream.binance.com:9443";

    /// The spot testnet's market streams (the testnet's REST endpoint's prices).
    pub const TESTNET_URL: &'static str = "wss://stream.testnet.binance.vision";

    /// The defaults for `symbol`: trades, depth and klines on the production endpoint,
    /// a new connection every 23 h 50 min, 30 s silence timeout, 10 s connect timeout.
    pub fn new(symbol: impl Into<String>) -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            symbol: symbol.into(),
            trade_stream: TradeStream::Trade,
            depth: true,
            klines: true,
            max_connection_age: Duration::from_secs(23 * 3600 + 50 * 60),
            silence_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
        }
    }

    /// The stream names, in subscription order (trades, klines, depth).
    pub fn streams(&self) -> Vec<String> {
        let symbol = self.symbol.trim().to_ascii_lowercase();
        let mut streams = vec![match self.trade_stream {
            TradeStream::Trade => format!("{symbol}@trade"),
            TradeStream::AggTrade => format!("{symbol}@aggTrade"),
        }];
        if self.klines {
            streams.push(format!("{symbol}@kline_1m"));
        }
        if self.depth {
            streams.push(format!("{symbol}@depth5@100ms"));
        }
        streams
    }

    /// The combined-stream URL: `<url>/stream?streams=<a>/<b>/<c>`. Connecting to it subscribes,
    /// so every reconnection resubscribes.
    pub fn stream_url(&self) -> String {
        format!(
            "{}/stream?streams={}",
            self.url.trim().trim_end_matches('/'),
            self.streams().join("/")
        )
    }

    /// Checks that the configuration can work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field and what to change.
    pub fn validate(&self) -> Result<(), MarketError> {
        let url = self.url.trim();
        if !(url.starts_with("wss://") || url.starts_with("ws://")) || url.contains(['?', '#', '@'])
        {
            return Err(MarketError::Config(format!(
                "binance.url `{}`: give a ws:// or wss:// endpoint without credentials, path, \
                 query or fragment (Binance's streams take none), e.g. {}",
                redact::url(url),
                Self::DEFAULT_URL
            )));
        }
        let symbol = self.symbol.trim();
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(MarketError::Config(format!(
                "binance.symbol `{symbol}`: give a Binance symbol of letters and digits, e.g. BTCUSDT"
            )));
        }
        for (name, value, min) in [
            ("max_connection_age", self.max_connection_age, 10),
            ("silence_timeout", self.silence_timeout, 10),
            ("connect_timeout", self.connect_timeout, 10),
        ] {
            if value < Duration::from_millis(min) {
                return Err(MarketError::Config(format!(
                    "binance.{name} {value:?} is too short: give at least {min} ms"
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for BinanceConfig {
    /// Every field, the URL [redacted](redact::url): a URL that [`validate`](Self::validate)
    /// would refuse may carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceConfig")
            .field("url", &redact::url(&self.url))
            .field("symbol", &self.symbol)
            .field("trade_stream", &self.trade_stream)
            .field("depth", &self.depth)
            .field("klines", &self.klines)
            .field("max_connection_age", &self.max_connection_age)
            .field("silence_timeout", &self.silence_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl Default for BinanceConfig {
    /// [`BinanceConfig::new`] for `BTCUSDT`.
    fn default() -> Self {
        Self::new("BTCUSDT")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_names_every_stream_in_lowercase() {
        let config = BinanceConfig::new(" BtcUsdt ");
        assert_eq!(
            config.stream_url(),
            "wss://stream.binance.com:9443/stream?streams=\
             btcusdt@trade/btcusdt@kline_1m/btcusdt@depth5@100ms"
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn a_bad_url_is_named_without_its_credentials() {
        for url in [
            "https://user:pa55w0rd-canary@stream.example.com",
            "wss://stream.example.com/?api_key=pa55w0rd-canary",
            "wss://user:pa55/w0rd-canary@stream.example.com/x?y=1",
            "wss://user:pa55w0rd-canary@stream.example.com",
            "wss://stream.example.com/#token=pa55w0rd-canary",
        ] {
            let config = BinanceConfig {
                url: url.into(),
                ..BinanceConfig::default()
            };
            let message = config.validate().err().map(|e| e.to_string());
            let Some(message) = message else {
                panic!("{url} must be refused");
            };
            assert!(!message.contains("pa55"), "{message}");
            assert!(message.contains("stream.example.com"), "{message}");
            assert!(message.contains("binance.url"), "{message}");
            let config = BinanceConfig {
                url: url.into(),
                ..BinanceConfig::default()
            };
            let debug = format!("{config:?}");
            assert!(
                !debug.contains("pa55") && debug.contains("BTCUSDT"),
                "{debug}"
            );
        }
    }

    #[test]
    fn bad_values_are_named() {
        let bad_symbol = BinanceConfig::new("BTC/USDT");
        let message = bad_symbol.validate().err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("binance.symbol `BTC/USDT`")));
        let bad_url = BinanceConfig {
            url: "https://stream.binance.com".into(),
            ..BinanceConfig::default()
        };
        assert!(bad_url.validate().is_err());
        let zero_age = BinanceConfig {
            max_connection_age: Duration::ZERO,
            ..BinanceConfig::default()
        };
        let message = zero_age.validate().err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("max_connection_age")));
    }
}
