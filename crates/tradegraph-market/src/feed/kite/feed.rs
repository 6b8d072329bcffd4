//! Kite's side of the shared reconnect loop ([`reconnect`]): connect and subscribe, read,
//! answer pings, decode.

use super::connect::{connect, tls_config, Socket};
use super::{parse_text, split, Converter, KiteConfig, Message};
use crate::feed::reconnect::{self, Link, Venue};
use crate::feed::Feed;
use crate::{Clock, FeedNotice, MarketError};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite;

const FEED: &str = "kite";

/// The Zerodha Kite Connect market-data feed.
///
/// Connects with the configured credentials, subscribes to the tokens in the configured mode,
/// and yields a [`MarketEvent::Tick`](crate::MarketEvent::Tick) per packet plus a [`MarketEvent::Book`](crate::MarketEvent::Book) per full packet.
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
        let link = Link::new(
            FEED,
            self.shared.config.backoff,
            Arc::clone(&self.shared.clock),
        );
        let session = Session {
            converter: Converter::new(FEED, &self.shared.config.tokens),
            shared: self.shared,
            link,
            frames: 0,
            malformed: 0,
        };
        reconnect::stream(session)
    }
}

struct Session {
    shared: Arc<Shared>,
    converter: Converter,
    link: Link,
    /// Messages received, for error locations.
    frames: u64,
    /// Malformed messages and packets skipped.
    malformed: u64,
}

impl Venue for Session {
    type Live = Box<Socket>;

    fn link(&mut self) -> &mut Link {
        &mut self.link
    }

    async fn connect(&mut self) -> Result<Box<Socket>, String> {
        let config = &self.shared.config;
        let socket = connect(config, Arc::clone(&self.shared.tls)).await?;
        self.link.connected(config.redacted_url());
        Ok(Box::new(socket))
    }

    async fn step(&mut self, mut socket: Box<Socket>) -> Result<Box<Socket>, String> {
        let silence = self.shared.config.silence_timeout;
        let outcome = match timeout(silence, socket.next()).await {
            Ok(Some(Ok(message))) => self.on_message(&mut socket, message).await,
            Ok(Some(Err(e))) => Err(format!("read failed: {e}")),
            Ok(None) => Err("the server closed the connection".to_owned()),
            Err(_) => Err(format!("nothing received for {silence:?}")),
        };
        outcome
            .map(|()| socket)
            .map_err(|reason| self.shared.config.redact(&reason))
    }

    fn lost(&mut self) {
        self.converter.disconnected();
    }
}

impl Session {
    /// Deals with one message; `Err` when the connection is over, and why.
    async fn on_message(
        &mut self,
        socket: &mut Socket,
        message: tungstenite::Message,
    ) -> Result<(), String> {
        self.frames += 1;
        match message {
            tungstenite::Message::Binary(bytes) => self.on_binary(&bytes),
            tungstenite::Message::Text(text) => match parse_text(text.as_str()) {
                Ok(m) => {
                    let payload = self.shared.config.redact(&m.payload);
                    if m.kind == "error" {
                        tracing::warn!(feed = FEED, %payload, "kite error message");
                    }
                    self.link.notice(FeedNotice::Message {
                        kind: m.kind,
                        payload,
                    });
                }
                Err(reason) => self.malformed(format!("frame {}", self.frames), reason),
            },
            tungstenite::Message::Ping(_) => {
                // tungstenite queued the pong; send it now.
                let limit = self.shared.config.connect_timeout;
                match timeout(limit, socket.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(format!("answering a ping: {e}")),
                    Err(_) => return Err("answering a ping: timed out".to_owned()),
                }
            }
            tungstenite::Message::Close(frame) => {
                let why = frame.map_or_else(String::new, |f| format!(": {} {}", f.code, f.reason));
                return Err(format!("the server closed the connection{why}"));
            }
            tungstenite::Message::Pong(_) | tungstenite::Message::Frame(_) => {}
        }
        Ok(())
    }

    /// A well-formed binary frame (data or a heartbeat) shows the link healthy: the next failure
    /// is the first attempt again. A server that accepts and subscribes but then sends nothing
    /// (or only text, such as an error) before closing keeps the count, and the delay, growing.
    fn on_binary(&mut self, bytes: &[u8]) {
        let frame = self.frames;
        let packets = match split(bytes) {
            Ok(Message::Heartbeat) => return self.link.healthy(),
            Ok(Message::Packets(packets)) => packets,
            Err(e) => return self.malformed(format!("frame {frame}"), e.to_string()),
        };
        self.link.healthy();
        let received = self.shared.clock.now();
        for packet in packets {
            match packet {
                Ok(packet) => self.converter.convert(&packet, received, self.link.queue()),
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
        self.link.notice(FeedNotice::Malformed { origin, reason });
    }
}
