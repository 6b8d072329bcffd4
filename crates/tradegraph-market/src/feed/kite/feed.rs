//! The connection loop: connect, subscribe, read, answer pings, decode, reconnect.

use super::connect::{connect, tls_config, Socket};
use super::{parse_text, split, Converter, KiteConfig, Message};
use crate::feed::Feed;
use crate::{Clock, FeedNotice, MarketError, MarketEvent};
use futures::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite;

const FEED: &str = "kite";

/// The Zerodha Kite Connect market-data feed.
///
/// Connects with the configured credentials, subscribes to the tokens in the configured mode,
/// and yields a [`MarketEvent::Tick`] per packet plus a [`MarketEvent::Book`] per full packet.
/// The stream never ends by itself: after a drop, an error or [`silence`]
/// (`KiteConfig::silence_timeout`) it reconnects with [`Backoff`](crate::feed::Backoff) and
/// jitter and subscribes again, and reports it all as [`FeedNotice`]s (`Connected`,
/// `Disconnected`, `Reconnecting`, a `Gap` per instrument across the outage, `Malformed` for
/// skipped input, `Message` for Kite's text messages). Credentials appear in none of them.
/// Dropping the stream closes the connection.
///
/// [`silence`]: KiteConfig::silence_timeout
///
/// ```no_run
/// use futures::StreamExt;
/// use std::sync::Arc;
/// use tradegraph_market::feed::kite::{KiteConfig, KiteFeed};
/// use tradegraph_market::SystemClock;
///
/// # async fn run() -> Result<(), tradegraph_market::MarketError> {
/// let config = KiteConfig::new("api_key", "access_token", vec![(260105, "BANKNIFTY".into())]);
/// let mut events = KiteFeed::new(config, Arc::new(SystemClock))?.stream();
/// while let Some(event) = events.next().await {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KiteFeed {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: KiteConfig,
    clock: Arc<dyn Clock>,
    tls: Arc<rustls::ClientConfig>,
}

impl KiteFeed {
    /// A feed; nothing connects until [`stream`](Self::stream) is polled.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] when the configuration cannot work (see
    /// [`KiteConfig::validate`]).
    pub fn new(config: KiteConfig, clock: Arc<dyn Clock>) -> Result<Self, MarketError> {
        config.validate()?;
        let tls = tls_config()?;
        Ok(Self {
            shared: Arc::new(Shared { config, clock, tls }),
        })
    }

    /// The events, forever. Drop the stream to disconnect.
    pub fn stream(self) -> Feed {
        let session = Session {
            converter: Converter::new(FEED, &self.shared.config.tokens),
            shared: self.shared,
            out: VecDeque::new(),
            phase: Phase::Waiting(Instant::now()),
            attempt: 0,
            frames: 0,
            malformed: 0,
        };
        crate::metrics::metered(
            "kite",
            futures::stream::unfold(Box::new(session), |mut session| async move {
                let event = session.next_event().await;
                Some((event, session))
            }),
        )
    }
}

enum Phase {
    /// Connect at this instant.
    Waiting(Instant),
    Live(Box<Socket>),
}

struct Session {
    shared: Arc<Shared>,
    converter: Converter,
    out: VecDeque<MarketEvent>,
    phase: Phase,
    /// Failed attempts since the last successful connection.
    attempt: u32,
    /// Messages received, for error locations.
    frames: u64,
    /// Malformed messages and packets skipped.
    malformed: u64,
}

impl Session {
    async fn next_event(&mut self) -> MarketEvent {
        loop {
            if let Some(event) = self.out.pop_front() {
                return event;
            }
            match &mut self.phase {
                Phase::Waiting(at) => {
                    sleep_until(*at).await;
                    self.connect().await;
                }
                Phase::Live(socket) => {
                    let silence = self.shared.config.silence_timeout;
                    match timeout(silence, socket.next()).await {
                        Ok(Some(Ok(message))) => self.on_message(message).await,
                        Ok(Some(Err(e))) => self.disconnect(&format!("read failed: {e}")),
                        Ok(None) => self.disconnect("the server closed the connection"),
                        Err(_) => self.disconnect(&format!("nothing received for {silence:?}")),
                    }
                }
            }
        }
    }

    async fn connect(&mut self) {
        let config = &self.shared.config;
        match connect(config, Arc::clone(&self.shared.tls)).await {
            Ok(socket) => {
                let url = config.redacted_url();
                tracing::info!(feed = FEED, %url, "connected and subscribed");
                self.attempt = 0;
                self.phase = Phase::Live(Box::new(socket));
                self.notice(FeedNotice::Connected { url });
            }
            Err(reason) => self.disconnect(&reason),
        }
    }

    async fn on_message(&mut self, message: tungstenite::Message) {
        self.frames += 1;
        match message {
            tungstenite::Message::Binary(bytes) => self.on_binary(&bytes),
            tungstenite::Message::Text(text) => match parse_text(text.as_str()) {
                Ok(m) => {
                    let payload = self.shared.config.redact(&m.payload);
                    if m.kind == "error" {
                        tracing::warn!(feed = FEED, %payload, "kite error message");
                    }
                    self.notice(FeedNotice::Message {
                        kind: m.kind,
                        payload,
                    });
                }
                Err(reason) => self.malformed(format!("frame {}", self.frames), reason),
            },
            tungstenite::Message::Ping(_) => {
                // tungstenite queued the pong; send it now.
                if let Phase::Live(socket) = &mut self.phase {
                    let limit = self.shared.config.connect_timeout;
                    match timeout(limit, socket.flush()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => self.disconnect(&format!("answering a ping: {e}")),
                        Err(_) => self.disconnect("answering a ping: timed out"),
                    }
                }
            }
            tungstenite::Message::Close(frame) => {
                let why = frame.map_or_else(String::new, |f| format!(": {} {}", f.code, f.reason));
                self.disconnect(&format!("the server closed the connection{why}"));
            }
            tungstenite::Message::Pong(_) | tungstenite::Message::Frame(_) => {}
        }
    }

    fn on_binary(&mut self, bytes: &[u8]) {
        let frame = self.frames;
        let packets = match split(bytes) {
            Ok(Message::Heartbeat) => return,
            Ok(Message::Packets(packets)) => packets,
            Err(e) => return self.malformed(format!("frame {frame}"), e.to_string()),
        };
        let received = self.shared.clock.now();
        for packet in packets {
            match packet {
                Ok(packet) => self.converter.convert(&packet, received, &mut self.out),
                Err(e) => {
                    let origin = match e.packet() {
                        Some(n) => format!("frame {frame} packet {n}"),
                        None => format!("frame {frame}"),
                    };
                    self.malformed(origin, e.to_string());
                }
            }
        }
    }

    fn malformed(&mut self, origin: String, reason: String) {
        self.malformed += 1;
        let reason = self.shared.config.redact(&reason);
        tracing::warn!(feed = FEED, %origin, %reason, total = self.malformed, "skipped malformed input");
        self.notice(FeedNotice::Malformed { origin, reason });
    }

    /// Drops the connection (if any) and schedules the next attempt.
    fn disconnect(&mut self, reason: &str) {
        let reason = self.shared.config.redact(reason);
        tracing::warn!(feed = FEED, %reason, "disconnected");
        if matches!(self.phase, Phase::Live(_)) {
            self.converter.disconnected();
        }
        self.notice(FeedNotice::Disconnected { reason });
        self.attempt = self.attempt.saturating_add(1);
        let delay = self.shared.config.backoff.delay(self.attempt);
        self.notice(FeedNotice::Reconnecting {
            attempt: self.attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        });
        let now = Instant::now();
        self.phase = Phase::Waiting(now.checked_add(delay).unwrap_or(now));
    }

    fn notice(&mut self, notice: FeedNotice) {
        self.out.push_back(MarketEvent::Notice {
            feed: FEED.to_owned(),
            ts: self.shared.clock.now(),
            notice,
        });
    }
}
