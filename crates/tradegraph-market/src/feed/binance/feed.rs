//! Binance's side of the shared reconnect loop ([`reconnect`]): connect, read, answer pings,
//! decode, check trade ids, replace connections before their age limit
//! ([`rollover`](super::rollover)).

use super::connect::{connect, tls_config, Socket};
use super::decode::Decoder;
use super::gaps::{Continuity, TradeIds};
use super::rollover::Live;
use super::BinanceConfig;
use crate::feed::reconnect::{self, Link, Venue};
use crate::feed::Feed;
use crate::{Clock, FeedNotice, GapKind, MarketError, MarketEvent};
use std::sync::Arc;
use tokio::time::Instant;
use tradegraph_core::Timestamp;

#[cfg(test)]
pub(super) use crate::feed::reconnect::later;

pub(super) const FEED: &str = "binance";

/// The Binance spot market-data feed: one combined stream of trades (or aggregate trades),
/// 1-minute klines and the top-5 book of one symbol.
///
/// The stream never ends by itself: it reconnects with [`Backoff`](crate::feed::Backoff) after
/// any failure, replaces each connection before Binance's 24-hour limit (the new one is open
/// and streaming before the old one is dropped, so that switch loses nothing), and reports
/// what happened as [`FeedNotice`]s: connections, trade-id gaps (across reconnections too)
/// and malformed frames, which are skipped. Dropping the stream closes the connection.
///
/// ```no_run
/// use futures::StreamExt;
/// use std::sync::Arc;
/// use tradegraph_market::feed::binance::{BinanceConfig, BinanceFeed};
/// use tradegraph_market::SystemClock;
///
/// # async fn run() -> Result<(), tradegraph_market::MarketError> {
/// let feed = BinanceFeed::new(BinanceConfig::new("BTCUSDT"), Arc::new(SystemClock))?;
/// let mut events = feed.stream();
/// while let Some(event) = events.next().await {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BinanceFeed {
    shared: Arc<Shared>,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) config: BinanceConfig,
    pub(super) url: String,
    pub(super) decoder: Decoder,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tls: Arc<rustls::ClientConfig>,
}

impl BinanceFeed {
    /// A feed; nothing connects until [`stream`](Self::stream) is polled.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] when the configuration cannot work (see
    /// [`BinanceConfig::validate`]).
    pub fn new(config: BinanceConfig, clock: Arc<dyn Clock>) -> Result<Self, MarketError> {
        config.validate()?;
        let shared = Shared {
            url: config.stream_url(),
            decoder: Decoder::new(&config.symbol),
            tls: tls_config()?,
            config,
            clock,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// The combined-stream URL the feed connects to.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The events, forever. Drop the stream to disconnect.
    pub fn stream(self) -> Feed {
        let link = Link::new(
            FEED,
            self.shared.config.backoff,
            Arc::clone(&self.shared.clock),
        );
        let session = Session {
            shared: self.shared,
            link,
            ids: TradeIds::default(),
            last_closed: None,
            malformed: 0,
            connections: 0,
        };
        reconnect::stream(session)
    }
}

/// One connection.
pub(super) struct Conn {
    pub(super) socket: Socket,
    pub(super) id: u64,
    pub(super) opened: Instant,
    pub(super) last_rx: Instant,
    pub(super) frames: u64,
}

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    link: Link,
    pub(super) ids: TradeIds,
    /// Open time of the last closed kline handed out.
    last_closed: Option<Timestamp>,
    pub(super) malformed: u64,
    connections: u64,
}

impl Venue for Session {
    type Live = Box<Live>;

    fn link(&mut self) -> &mut Link {
        &mut self.link
    }

    async fn connect(&mut self) -> Result<Box<Live>, String> {
        let config = &self.shared.config;
        let tls = Arc::clone(&self.shared.tls);
        let socket = connect(self.shared.url.clone(), tls, config.connect_timeout).await?;
        let conn = self.new_conn(socket);
        self.link.connected_as(self.shared.url.clone(), conn.id);
        Ok(Box::new(Live::new(conn, &self.shared.config)))
    }

    async fn step(&mut self, live: Box<Live>) -> Result<Box<Live>, String> {
        self.step_live(live).await
    }
}

impl Session {
    /// Numbers a new connection.
    pub(super) fn new_conn(&mut self, socket: Socket) -> Conn {
        self.connections += 1;
        let now = Instant::now();
        Conn {
            socket,
            id: self.connections,
            opened: now,
            last_rx: now,
            frames: 0,
        }
    }

    /// Hands out market data, after checking trade ids (a repeat is dropped, a jump is
    /// reported) and kline times (a kline at or before the last closed one is a repeat).
    pub(super) fn emit(&mut self, event: MarketEvent) {
        if let MarketEvent::Candle { candle, closed, .. } = &event {
            if self.last_closed.is_some_and(|t| candle.open_time <= t) {
                return;
            }
            if *closed {
                self.last_closed = Some(candle.open_time);
            }
        }
        if let MarketEvent::Trade { symbol, trade } = &event {
            match self.ids.observe(trade.trade_id) {
                Continuity::Next => {}
                Continuity::Seen => return,
                Continuity::Gap {
                    first_missing,
                    last_missing,
                } => {
                    tracing::warn!(feed = FEED, %symbol, first_missing, last_missing, "trade ids skipped");
                    self.notice(FeedNotice::Gap {
                        symbol: symbol.to_string(),
                        kind: GapKind::TradeIds {
                            first_missing,
                            last_missing,
                        },
                    });
                }
            }
        }
        self.link.healthy();
        self.link.queue().push_back(event);
    }

    pub(super) fn notice(&mut self, notice: FeedNotice) {
        self.link.notice(notice);
    }
}
