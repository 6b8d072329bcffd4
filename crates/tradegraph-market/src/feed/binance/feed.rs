//! The connection loop: connect, read, answer pings, decode, check trade ids, reconnect.

use super::connect::{connect, tls_config, Socket};
use super::decode::Decoder;
use super::gaps::{Continuity, TradeIds};
use super::rollover::Live;
use super::BinanceConfig;
use crate::feed::Feed;
use crate::{Clock, FeedNotice, GapKind, MarketError, MarketEvent};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tradegraph_core::Timestamp;

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
        let session = Session {
            shared: self.shared,
            out: VecDeque::new(),
            phase: Phase::Waiting(Instant::now()),
            ids: TradeIds::default(),
            last_closed: None,
            attempt: 0,
            malformed: 0,
            connections: 0,
        };
        crate::metrics::metered(
            "binance",
            futures::stream::unfold(Box::new(session), |mut session| async move {
                let event = session.next_event().await;
                Some((event, session))
            }),
        )
    }
}

/// `from + after`, never overflowing (a configured duration may be huge).
pub(super) fn later(from: Instant, after: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 86_400);
    from.checked_add(after)
        .or_else(|| from.checked_add(YEAR))
        .unwrap_or(from)
}

pub(super) enum Phase {
    /// Connect at this instant.
    Waiting(Instant),
    Live(Box<Live>),
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
    out: VecDeque<MarketEvent>,
    phase: Phase,
    pub(super) ids: TradeIds,
    /// Open time of the last closed kline handed out.
    last_closed: Option<Timestamp>,
    /// Failed attempts since data last flowed.
    pub(super) attempt: u32,
    pub(super) malformed: u64,
    connections: u64,
}

impl Session {
    async fn next_event(&mut self) -> MarketEvent {
        loop {
            if let Some(event) = self.out.pop_front() {
                return event;
            }
            let phase = std::mem::replace(&mut self.phase, Phase::Waiting(Instant::now()));
            self.phase = match phase {
                Phase::Waiting(at) => {
                    sleep_until(at).await;
                    let config = &self.shared.config;
                    let tls = self.shared.tls.clone();
                    match connect(self.shared.url.clone(), tls, config.connect_timeout).await {
                        Ok(socket) => {
                            let conn = self.open(socket);
                            Phase::Live(Box::new(Live::new(conn, &self.shared.config)))
                        }
                        Err(reason) => self.disconnected(reason),
                    }
                }
                Phase::Live(live) => self.step(live).await,
            };
        }
    }

    /// Takes a new connection into use and says so.
    fn open(&mut self, socket: Socket) -> Conn {
        let conn = self.new_conn(socket);
        tracing::info!(feed = FEED, url = %self.shared.url, connection = conn.id, "connected");
        let url = self.shared.url.clone();
        self.notice(FeedNotice::Connected { url });
        conn
    }

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

    /// Reports a lost connection and schedules the next attempt.
    pub(super) fn disconnected(&mut self, reason: String) -> Phase {
        tracing::warn!(feed = FEED, %reason, "disconnected");
        self.notice(FeedNotice::Disconnected { reason });
        self.attempt = self.attempt.saturating_add(1);
        let delay = self.shared.config.backoff.delay(self.attempt);
        self.notice(FeedNotice::Reconnecting {
            attempt: self.attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        });
        Phase::Waiting(later(Instant::now(), delay))
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
        self.attempt = 0;
        self.out.push_back(event);
    }

    pub(super) fn notice(&mut self, notice: FeedNotice) {
        self.out.push_back(MarketEvent::Notice {
            feed: FEED.to_owned(),
            ts: self.shared.clock.now(),
            notice,
        });
    }
}
