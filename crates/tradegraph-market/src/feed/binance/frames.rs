//! One read result of a connection: text frames decoded, pings answered, binary frames and
//! malformed text reported and skipped, closes and errors turned into a reason.

use super::decode::Decoded;
use super::feed::{Conn, Session, FEED};
use crate::{FeedNotice, MarketError, MarketEvent};
use futures::SinkExt;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

impl Session {
    /// Handles one read result of `conn`: market data comes back, pings are answered, problems
    /// are reported. `Err` means the connection is over, and why.
    pub(super) async fn receive(
        &mut self,
        conn: &mut Conn,
        frame: Option<Result<Message, WsError>>,
    ) -> Result<Option<MarketEvent>, String> {
        conn.last_rx = Instant::now();
        let id = conn.id;
        match frame {
            None => Err(format!("connection {id} ended")),
            Some(Err(e)) => Err(format!("connection {id}: {e}")),
            Some(Ok(Message::Text(text))) => {
                conn.frames += 1;
                Ok(self.decode(conn, text.as_str()))
            }
            Some(Ok(Message::Binary(bytes))) => {
                conn.frames += 1;
                let reason = format!(
                    "a binary frame of {} bytes; expected JSON text",
                    bytes.len()
                );
                self.malformed(conn, reason);
                Ok(None)
            }
            Some(Ok(Message::Ping(payload))) => {
                let limit = self.shared.config.connect_timeout;
                match timeout(limit, conn.socket.send(Message::Pong(payload))).await {
                    Ok(Ok(())) => Ok(None),
                    Ok(Err(e)) => Err(format!("connection {id}: answering a ping: {e}")),
                    Err(_) => Err(format!(
                        "connection {id}: could not answer a ping in {limit:?}"
                    )),
                }
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => Ok(None),
            Some(Ok(Message::Close(frame))) => Err(match frame {
                Some(f) => format!(
                    "server closed connection {id}: {} {}",
                    u16::from(f.code),
                    f.reason
                ),
                None => format!("server closed connection {id}"),
            }),
        }
    }

    fn decode(&mut self, conn: &Conn, text: &str) -> Option<MarketEvent> {
        match self.shared.decoder.decode(text, self.shared.clock.now()) {
            Ok(Decoded::Event(event)) => Some(event),
            Ok(Decoded::ExchangeError { code, frame }) => {
                tracing::warn!(feed = FEED, code, %frame, "error from Binance");
                let (kind, payload) = ("error".to_owned(), frame);
                self.notice(FeedNotice::Message { kind, payload });
                None
            }
            Ok(Decoded::Reply) => None,
            Err(MarketError::Malformed { reason, .. }) => {
                self.malformed(conn, reason);
                None
            }
            Err(other) => {
                self.malformed(conn, other.to_string());
                None
            }
        }
    }

    fn malformed(&mut self, conn: &Conn, reason: String) {
        self.malformed += 1;
        let origin = format!("{FEED} connection {} frame {}", conn.id, conn.frames);
        let count = self.malformed;
        tracing::warn!(feed = FEED, %origin, %reason, count, "skipping a malformed frame");
        let reason = format!("{reason} (malformed frame #{count} of this feed; skipped)");
        self.notice(FeedNotice::Malformed { origin, reason });
    }
}
