//! The order-update link: a WebSocket session run again and again ([`keep_streaming`]),
//! polling while it is down ([`poll_while_down`]), and the [`Link`] both share.

use super::Masker;
use crate::live::VenueReason;
use crate::BrokerError;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tradegraph_core::backoff::{Attempts, Backoff};

/// A venue's WebSocket.
pub type WebSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest message taken from a venue's order-update socket.
const MAX_MESSAGE: usize = 1 << 20;

/// The state of a venue broker's order-update link, shared by the session that streams, the
/// poller that stands in while it is down, and the broker that reports
/// [`reconnections`](crate::Broker::reconnections).
///
/// ```
/// use tradegraph_broker::live::venue::Link;
/// let link = Link::new();
/// assert!(!link.is_up());
/// link.up();
/// link.down();
/// link.up();
/// assert_eq!(link.reconnections(), 1, "the first link is not a reconnection");
/// ```
#[derive(Debug, Default)]
pub struct Link {
    up: AtomicBool,
    links: AtomicU64,
    /// Links whose catch-up poll (what happened while down) has been applied.
    caught_up: AtomicU64,
    stopped: AtomicBool,
    changed: Notify,
}

impl Link {
    /// A link that is down, never connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session is subscribed: updates flow.
    pub fn up(&self) {
        self.links.fetch_add(1, Ordering::AcqRel);
        self.up.store(true, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// The session ended: polling stands in.
    pub fn down(&self) {
        self.up.store(false, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Whether updates flow through the socket now.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Links made after the first whose catch-up poll has been applied (see
    /// [`poll_while_down`]), so that whoever compares the venue with the bot's books when it
    /// moves compares after the updates missed while down were booked. Without a poller it
    /// counts the links themselves.
    pub fn reconnections(&self) -> u64 {
        let caught_up = self.caught_up.load(Ordering::Acquire);
        let counted = if caught_up == 0 {
            self.links.load(Ordering::Acquire)
        } else {
            caught_up
        };
        counted.saturating_sub(1)
    }

    /// Stops the streaming loop and the poller (the broker is dropped).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.down();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// Opens a WebSocket to `url` (`ws://` or `wss://`, TLS as the feeds have it), within
/// `timeout`. Errors are masked with `masker`.
///
/// # Errors
/// [`BrokerError::Venue`] with [`VenueReason::Unavailable`].
pub async fn connect_websocket(
    venue: &'static str,
    url: &str,
    timeout: Duration,
    masker: &Masker,
) -> Result<WebSocket, BrokerError> {
    let fail = |what: String| BrokerError::Venue {
        venue: venue.to_owned(),
        reason: VenueReason::Unavailable(masker.mask(&what)),
    };
    let tls = tradegraph_market::feed::tls::tls_config(venue)
        .map_err(|e| BrokerError::Config(e.to_string()))?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let handshake = tokio_tungstenite::connect_async_tls_with_config(
        url,
        Some(config),
        true,
        Some(Connector::Rustls(tls)),
    );
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(e)) => Err(fail(format!("connecting to {url}: {e}"))),
        Err(_) => Err(fail(format!(
            "connecting to {url}: no handshake within {timeout:?}"
        ))),
    }
}

/// Runs `session` until the link is stopped: each run connects, subscribes, calls
/// [`Link::up`] and reads updates until the socket ends; then the link is down, and the next
/// run starts after `backoff`'s delay (the attempt count starts again once a session got up).
/// Spawn it; stop it with [`Link::stop`].
pub async fn keep_streaming<S, F>(
    venue: &'static str,
    link: Arc<Link>,
    backoff: Backoff,
    mut session: S,
) where
    S: FnMut() -> F,
    F: Future<Output = Result<(), BrokerError>>,
{
    let mut attempts = Attempts::new(backoff);
    while !link.is_stopped() {
        let before = link.reconnections();
        let ended = session().await;
        let was_up = link.is_up() || link.reconnections() != before;
        link.down();
        if link.is_stopped() {
            break;
        }
        if was_up {
            attempts.healthy();
        }
        let (attempt, delay) = attempts.failed();
        match ended {
            Ok(()) => tracing::warn!(
                venue,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "the order-update stream closed: polling until it is back"
            ),
            Err(e) => {
                tracing::warn!(venue, attempt, delay_ms = delay.as_millis() as u64, error = %e, "the order-update stream failed: polling until it is back")
            }
        }
        tokio::time::sleep(delay).await;
    }
}

/// Calls `poll` every `every` while the link is down, and once right after each time it comes
/// up (for what happened while it was down), until the link is stopped. Spawn it.
pub async fn poll_while_down<P, F>(
    venue: &'static str,
    link: Arc<Link>,
    every: Duration,
    mut poll: P,
) where
    P: FnMut() -> F,
    F: Future<Output = Result<(), BrokerError>>,
{
    let mut polled_for = u64::MAX;
    while !link.is_stopped() {
        let changed = link.changed.notified();
        let links = link.links.load(Ordering::Acquire);
        let catch_up = link.is_up() && links != polled_for;
        if !link.is_up() || catch_up {
            if let Err(e) = poll().await {
                tracing::warn!(venue, error = %e, "polling the venue for order updates failed; trying again");
            } else if catch_up {
                polled_for = links;
                link.caught_up.fetch_add(1, Ordering::AcqRel);
            }
            if catch_up {
                continue;
            }
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep(every) => {}
            }
        } else {
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[tokio::test(start_paused = true)]
    async fn polling_runs_while_down_and_once_after_each_reconnect() {
        let link = Arc::new(Link::new());
        let polls = Arc::new(AtomicU32::new(0));
        let counter = polls.clone();
        let poller = tokio::spawn(poll_while_down(
            "test",
            link.clone(),
            Duration::from_secs(1),
            move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        let while_down = polls.load(Ordering::SeqCst);
        assert!(while_down >= 3, "polled {while_down} times in 3.5 s down");
        link.up();
        tokio::time::sleep(Duration::from_secs(10)).await;
        // Once for the catch-up after the link came up, then nothing while it is up.
        assert_eq!(polls.load(Ordering::SeqCst), while_down + 1);
        assert_eq!(link.reconnections(), 0, "the first link is no reconnection");
        link.down();
        link.up();
        // The reconnection counts once its catch-up poll is done, not when the link is up.
        assert_eq!(link.reconnections(), 0, "not before the catch-up poll");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(polls.load(Ordering::SeqCst) >= while_down + 2);
        assert_eq!(link.reconnections(), 1, "after the catch-up poll");
        link.stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(poller.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_run_again_and_reconnections_are_counted() {
        let link = Arc::new(Link::new());
        let runs = Arc::new(AtomicU32::new(0));
        let (l, r) = (link.clone(), runs.clone());
        let streaming = tokio::spawn(keep_streaming(
            "test",
            link.clone(),
            Backoff::default(),
            move || {
                let (l, r) = (l.clone(), r.clone());
                async move {
                    let n = r.fetch_add(1, Ordering::SeqCst);
                    if n % 2 == 0 {
                        l.up();
                        Ok(())
                    } else {
                        Err(BrokerError::Config("refused".into()))
                    }
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(120)).await;
        let n = runs.load(Ordering::SeqCst);
        assert!(n >= 4, "{n} sessions");
        assert_eq!(link.reconnections(), u64::from(n.div_ceil(2)) - 1);
        link.stop();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(streaming.is_finished());
    }
}
