//! The reconnect loop the WebSocket feeds share: connect, hand out what the live connection
//! yields, and after any failure report it, wait the [`Backoff`] delay (the attempt count starts
//! again once the venue says the link is healthy) and connect again, for as long as the stream
//! is polled (dropping it stops everything). The venue's side is a [`Venue`]: how to connect,
//! what one step on a live connection does, what a lost connection means for its data.

use crate::feed::Feed;
use crate::{Clock, FeedNotice, MarketEvent};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tradegraph_core::backoff::{Attempts, Backoff};

/// What differs between venues; the loop around it is [`stream`].
pub(crate) trait Venue: Send + 'static {
    /// A live connection (with whatever the venue keeps beside it).
    type Live: Send;

    /// The events and notices to hand out, and the reconnect bookkeeping.
    fn link(&mut self) -> &mut Link;

    /// Opens (and subscribes) a connection; `Err` says what failed, with no credentials.
    fn connect(&mut self) -> impl Future<Output = Result<Self::Live, String>> + Send;

    /// Waits for the next thing on a live connection and deals with it: `Ok` to go on with it,
    /// `Err` when it is lost (why, with no credentials).
    fn step(&mut self, live: Self::Live)
        -> impl Future<Output = Result<Self::Live, String>> + Send;

    /// A live connection was lost (before [`Link::failed`] reports it): the venue notes where
    /// its data stopped, to report the gap.
    fn lost(&mut self) {}
}

/// The queue of events a session hands out, and its reconnect attempts.
pub(crate) struct Link {
    feed: &'static str,
    clock: Arc<dyn Clock>,
    out: VecDeque<MarketEvent>,
    /// Failed attempts since the venue last said the link was healthy, and their delays.
    attempts: Attempts,
}

impl Link {
    /// A link of `feed` that waits `backoff` between attempts and stamps notices with `clock`.
    pub(crate) fn new(feed: &'static str, backoff: Backoff, clock: Arc<dyn Clock>) -> Self {
        Self {
            feed,
            clock,
            out: VecDeque::new(),
            attempts: Attempts::new(backoff),
        }
    }

    /// The queue events are handed out from, in order (market data is appended to it).
    pub(crate) fn queue(&mut self) -> &mut VecDeque<MarketEvent> {
        &mut self.out
    }

    /// Hands out `notice`, stamped now.
    pub(crate) fn notice(&mut self, notice: FeedNotice) {
        self.out.push_back(MarketEvent::Notice {
            feed: self.feed.to_owned(),
            ts: self.clock.now(),
            notice,
        });
    }

    /// The link works (data flows, or a connection is subscribed): the next failure is the
    /// first attempt again.
    pub(crate) fn healthy(&mut self) {
        self.attempts.healthy();
    }

    /// Failed attempts since the link was last healthy.
    #[cfg(all(test, feature = "binance", feature = "kite"))]
    pub(crate) fn attempt(&self) -> u32 {
        self.attempts.count()
    }

    /// Reports a connection to `url` (no credentials in it).
    #[cfg(feature = "kite")]
    pub(crate) fn connected(&mut self, url: String) {
        tracing::info!(feed = self.feed, %url, "connected");
        self.notice(FeedNotice::Connected { url });
    }

    /// Reports a connection to `url` (no credentials in it), for a venue that numbers its
    /// connections: the log line names the `connection`, as the venue's other lines about it do.
    #[cfg(feature = "binance")]
    pub(crate) fn connected_as(&mut self, url: String, connection: u64) {
        tracing::info!(feed = self.feed, %url, connection, "connected");
        self.notice(FeedNotice::Connected { url });
    }

    /// Reports a lost or failed connection and says when to try again.
    pub(crate) fn failed(&mut self, reason: String) -> Instant {
        tracing::warn!(feed = self.feed, %reason, "disconnected");
        self.notice(FeedNotice::Disconnected { reason });
        let (attempt, delay) = self.attempts.failed();
        self.notice(FeedNotice::Reconnecting {
            attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        });
        later(Instant::now(), delay)
    }

    fn pop(&mut self) -> Option<MarketEvent> {
        self.out.pop_front()
    }
}

/// `from + after`, never overflowing ([`tradegraph_core::time::later`] on the runtime's clock).
pub(crate) fn later(from: Instant, after: Duration) -> Instant {
    Instant::from_std(tradegraph_core::time::later(from.into_std(), after))
}

enum Phase<L> {
    /// Connect at this instant.
    Waiting(Instant),
    Live(L),
}

struct Session<V: Venue> {
    venue: V,
    phase: Phase<V::Live>,
}

impl<V: Venue> Session<V> {
    async fn next_event(&mut self) -> MarketEvent {
        loop {
            if let Some(event) = self.venue.link().pop() {
                return event;
            }
            let phase = std::mem::replace(&mut self.phase, Phase::Waiting(Instant::now()));
            self.phase = match phase {
                Phase::Waiting(at) => {
                    sleep_until(at).await;
                    match self.venue.connect().await {
                        Ok(live) => Phase::Live(live),
                        Err(reason) => Phase::Waiting(self.venue.link().failed(reason)),
                    }
                }
                Phase::Live(live) => match self.venue.step(live).await {
                    Ok(live) => Phase::Live(live),
                    Err(reason) => {
                        self.venue.lost();
                        Phase::Waiting(self.venue.link().failed(reason))
                    }
                },
            };
        }
    }
}

/// `venue`'s events, forever, metered under the feed name of its [`Link`]: it connects on the
/// first poll.
pub(crate) fn stream<V: Venue>(mut venue: V) -> Feed {
    let feed = venue.link().feed;
    let session = Session {
        venue,
        phase: Phase::Waiting(Instant::now()),
    };
    crate::metrics::metered(
        feed,
        futures::stream::unfold(Box::new(session), |mut session| async move {
            let event = session.next_event().await;
            Some((event, session))
        }),
    )
}

// The tests report connections both ways (`connected` is Kite's, `connected_as` Binance's).
#[cfg(all(test, feature = "binance", feature = "kite"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::SystemClock;
    use futures::StreamExt;

    /// Fails to connect `failures` times, then yields one event per step and loses the
    /// connection after `per_connection` of them.
    struct Scripted {
        link: Link,
        failures: u32,
        per_connection: u32,
        lost: u32,
    }

    impl Venue for Scripted {
        type Live = u32;

        fn link(&mut self) -> &mut Link {
            &mut self.link
        }

        async fn connect(&mut self) -> Result<u32, String> {
            if self.failures > 0 {
                self.failures -= 1;
                return Err("refused".into());
            }
            self.link.connected("ws://test".into());
            Ok(0)
        }

        async fn step(&mut self, sent: u32) -> Result<u32, String> {
            if sent == self.per_connection {
                return Err(format!("dropped after {sent}"));
            }
            self.link.healthy();
            self.link.notice(FeedNotice::Message {
                kind: "data".into(),
                payload: sent.to_string(),
            });
            Ok(sent + 1)
        }

        fn lost(&mut self) {
            self.lost += 1;
        }
    }

    fn notice(event: MarketEvent) -> FeedNotice {
        match event {
            MarketEvent::Notice { notice, .. } => notice,
            other => panic!("not a notice: {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_and_healthy_data_resets_the_count() {
        let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
        let venue = Scripted {
            link: Link::new("test", backoff, Arc::new(SystemClock)),
            failures: 2,
            per_connection: 1,
            lost: 0,
        };
        let got: Vec<FeedNotice> = stream(venue).take(11).map(notice).collect().await;
        let attempts: Vec<u32> = got
            .iter()
            .filter_map(|n| match n {
                FeedNotice::Reconnecting { attempt, delay_ms } => {
                    assert!(*delay_ms <= 40, "{delay_ms} ms");
                    Some(*attempt)
                }
                _ => None,
            })
            .collect();
        // Two refusals count up; after data flowed the lost connection is attempt 1 again.
        assert_eq!(attempts, [1, 2, 1]);
        assert!(matches!(&got[0], FeedNotice::Disconnected { reason } if reason == "refused"));
        assert!(matches!(&got[4], FeedNotice::Connected { url } if url == "ws://test"));
        assert!(matches!(&got[5], FeedNotice::Message { payload, .. } if payload == "0"));
        assert!(
            matches!(&got[6], FeedNotice::Disconnected { reason } if reason == "dropped after 1")
        );
        assert!(matches!(&got[8], FeedNotice::Connected { .. }));
    }

    /// Every event's fields, as `name=value` joined by spaces, one line per event.
    #[derive(Clone, Default)]
    struct Logged(Arc<std::sync::Mutex<Vec<String>>>);

    impl tracing::Subscriber for Logged {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Fields(Vec<String>);
            impl tracing::field::Visit for Fields {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    self.0.push(format!("{}={value:?}", field.name()));
                }
            }
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0.join(" "));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn a_numbered_connection_is_logged_with_its_number() {
        let logged = Logged::default();
        let mut link = Link::new("test", Backoff::default(), Arc::new(SystemClock));
        tracing::subscriber::with_default(logged.clone(), || {
            link.connected_as("ws://a".into(), 7);
            link.connected("ws://b".into());
        });
        let lines = logged.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            [
                "message=connected feed=\"test\" url=ws://a connection=7",
                "message=connected feed=\"test\" url=ws://b",
            ]
        );
        let urls: Vec<FeedNotice> = std::iter::from_fn(|| link.pop()).map(notice).collect();
        assert!(
            matches!(&urls[..], [FeedNotice::Connected { url: a }, FeedNotice::Connected { url: b }] if a == "ws://a" && b == "ws://b")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_live_connection_is_reported_to_the_venue_but_a_refusal_is_not() {
        let mut session = Session {
            venue: Scripted {
                link: Link::new("test", Backoff::default(), Arc::new(SystemClock)),
                failures: 1,
                per_connection: 0,
                lost: 0,
            },
            phase: Phase::Waiting(Instant::now()),
        };
        // Refused: Disconnected, Reconnecting; no loss of a live connection.
        for _ in 0..2 {
            session.next_event().await;
        }
        assert_eq!((session.venue.lost, session.venue.link.attempt()), (0, 1));
        // Connected, then lost at once (no data: not healthy, so attempt 2).
        for _ in 0..3 {
            session.next_event().await;
        }
        assert_eq!((session.venue.lost, session.venue.link.attempt()), (1, 2));
    }
}
