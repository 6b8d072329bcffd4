//! A live connection, and its replacement before Binance's 24-hour limit without losing a
//! trade: the successor connects and streams while the old connection keeps delivering; the
//! successor's trades (and closed klines) are held until they reach back to what the old one
//! delivered, then the old connection is closed and the held events are handed out, repeats
//! dropped. Only if the successor shows no such overlap in time (a quiet market, or a stalled
//! old connection) does the switch happen anyway, and any trade-id gap is then reported.

use super::connect::{connect, Socket};
use super::feed::{Conn, Session};
use super::BinanceConfig;
use crate::feed::reconnect::later;
use crate::{FeedNotice, MarketEvent};
use futures::future::BoxFuture;
use futures::StreamExt;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The longest the two connections overlap.
const MAX_HANDOVER: Duration = Duration::from_secs(10);
/// How long closing the replaced connection may take.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

pub(super) struct Live {
    conn: Conn,
    next: Rollover,
    /// Failed attempts to open the successor.
    failures: u32,
}

/// The successor of a live connection.
enum Rollover {
    /// Open it at this instant.
    At(Instant),
    Connecting(BoxFuture<'static, Result<Socket, String>>),
    Overlap(Box<Overlap>),
}

struct Overlap {
    conn: Conn,
    /// Its trades and closed klines, not handed out yet (its books and open klines are
    /// dropped: the old connection's are as good, and fresh ones follow within seconds).
    held: Vec<MarketEvent>,
    since: Instant,
}

impl Live {
    pub(super) fn new(conn: Conn, config: &BinanceConfig) -> Self {
        let at = later(conn.opened, config.max_connection_age);
        Self {
            conn,
            next: Rollover::At(at),
            failures: 0,
        }
    }
}

enum Step {
    Old(Option<Result<Message, WsError>>),
    OldSilent,
    Due,
    Connected(Result<Box<Socket>, String>),
    New(Option<Result<Message, WsError>>),
    NewExpired,
}

async fn next_step(next: &mut Rollover, handover: Duration) -> Step {
    match next {
        Rollover::At(at) => {
            sleep_until(*at).await;
            Step::Due
        }
        Rollover::Connecting(connecting) => Step::Connected(connecting.await.map(Box::new)),
        Rollover::Overlap(o) => {
            match timeout_at(later(o.since, handover), o.conn.socket.next()).await {
                Ok(frame) => Step::New(frame),
                Err(_) => Step::NewExpired,
            }
        }
    }
}

impl Session {
    /// Waits for the next thing to happen on a live connection or its successor: `Ok` with the
    /// live connection (maybe the successor now), `Err` when the link is lost, and why.
    pub(super) async fn step_live(&mut self, mut live: Box<Live>) -> Result<Box<Live>, String> {
        let silence = self.shared.config.silence_timeout;
        let step = {
            let Live { conn, next, .. } = &mut *live;
            tokio::select! {
                frame = timeout_at(later(conn.last_rx, silence), conn.socket.next()) => {
                    frame.map_or(Step::OldSilent, Step::Old)
                }
                step = next_step(next, silence.min(MAX_HANDOVER)) => step,
            }
        };
        match step {
            Step::Old(frame) => match self.receive(&mut live.conn, frame).await {
                Ok(Some(event)) => {
                    self.emit(event);
                    Ok(live)
                }
                Ok(None) => Ok(live),
                Err(reason) => self.connection_lost(live, reason).await,
            },
            Step::OldSilent => {
                let reason = format!(
                    "connection {}: nothing received for {silence:?}",
                    live.conn.id
                );
                self.connection_lost(live, reason).await
            }
            Step::Due => {
                tracing::info!(
                    feed = "binance",
                    connection = live.conn.id,
                    "opening its successor"
                );
                let config = &self.shared.config;
                let (url, tls) = (self.shared.url.clone(), self.shared.tls.clone());
                live.next = Rollover::Connecting(connect(url, tls, config.connect_timeout));
                Ok(live)
            }
            Step::Connected(Ok(socket)) => {
                let conn = self.new_conn(*socket);
                let (held, since) = (Vec::new(), Instant::now());
                live.next = Rollover::Overlap(Box::new(Overlap { conn, held, since }));
                Ok(live)
            }
            Step::Connected(Err(reason)) => {
                self.retry_rollover(&mut live, reason);
                Ok(live)
            }
            Step::New(frame) => {
                let Rollover::Overlap(overlap) = &mut live.next else {
                    return Ok(live);
                };
                match self.receive(&mut overlap.conn, frame).await {
                    Ok(Some(event @ MarketEvent::Trade { .. }))
                    | Ok(Some(event @ MarketEvent::Candle { closed: true, .. })) => {
                        overlap.held.push(event);
                    }
                    Ok(_) => {}
                    Err(reason) => {
                        self.retry_rollover(&mut live, reason);
                        return Ok(live);
                    }
                }
                if self.reaches_back(&overlap.held) {
                    self.promote(live, "its trades continue the old connection's", true)
                        .await
                } else {
                    Ok(live)
                }
            }
            Step::NewExpired => {
                let why = format!(
                    "no overlap of trades within {:?}",
                    silence.min(MAX_HANDOVER)
                );
                self.promote(live, &why, false).await
            }
        }
    }

    /// The live connection is over: its successor takes over if it is streaming already.
    async fn connection_lost(
        &mut self,
        live: Box<Live>,
        reason: String,
    ) -> Result<Box<Live>, String> {
        if let Rollover::Overlap(overlap) = &live.next {
            let lossless = self.reaches_back(&overlap.held);
            self.promote(live, &reason, lossless).await
        } else {
            Err(reason)
        }
    }

    /// Whether the successor's first trade is at or before the one after the last handed out.
    fn reaches_back(&self, held: &[MarketEvent]) -> bool {
        let first_trade = held.iter().find_map(|event| match event {
            MarketEvent::Trade { trade, .. } => Some(trade),
            _ => None,
        });
        let Some(trade) = first_trade else {
            return false;
        };
        self.ids
            .last()
            .is_none_or(|last| trade.trade_id <= last.saturating_add(1))
    }

    /// Closes the old connection and makes the successor the live one; `lossless` when the
    /// successor's trades continue the old connection's (said as [`FeedNotice::Replaced`], not
    /// as a disconnection: nothing is missing).
    async fn promote(
        &mut self,
        live: Box<Live>,
        why: &str,
        lossless: bool,
    ) -> Result<Box<Live>, String> {
        let Live {
            conn: mut old,
            next,
            ..
        } = *live;
        let Rollover::Overlap(overlap) = next else {
            return Err(why.to_owned());
        };
        let Overlap {
            conn: new, held, ..
        } = *overlap;
        let age = old.opened.elapsed();
        // Best effort: the old connection may be gone already.
        let _closed = timeout(CLOSE_WAIT, old.socket.close(None)).await;
        let reason = format!(
            "connection {} replaced by connection {} after {age:.1?}: {why}",
            old.id, new.id
        );
        tracing::info!(feed = "binance", %reason, "switched connections");
        if lossless {
            self.notice(FeedNotice::Replaced { reason });
        } else {
            self.notice(FeedNotice::Disconnected { reason });
            let url = self.shared.url.clone();
            self.notice(FeedNotice::Connected { url });
        }
        for event in held {
            self.emit(event);
        }
        Ok(Box::new(Live::new(new, &self.shared.config)))
    }

    /// The successor failed: keep the live connection and try again later.
    fn retry_rollover(&mut self, live: &mut Live, reason: String) {
        live.failures = live.failures.saturating_add(1);
        let delay = self.shared.config.backoff.delay(live.failures);
        tracing::warn!(feed = "binance", %reason, ?delay, "could not open the successor connection; retrying");
        live.next = Rollover::At(later(Instant::now(), delay));
    }
}
