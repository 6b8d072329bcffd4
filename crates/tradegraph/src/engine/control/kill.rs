//! The kill switch at the broker. Engaged (over the API, or restored at start), it cancels the
//! working entries at once; with `kill_switch_closes_positions` it closes the open position.
//! On a broker that makes room for a close itself ([`Broker::closes_around_exits`]: Binance
//! lifts the OCO that locks the asset the close sells and places it again for what is left
//! whatever the close comes to; the paper broker's exits are reduce-only) the close is sent
//! while the exits protecting the position still work, and the exits left over are cancelled
//! once the position is gone: a close that cannot go (no price yet, the market closed, the
//! guard's re-check) or that the venue does not take never leaves the position without its
//! stop. On Kite, which has no reduce-only orders (an exit left working could sell the closed
//! position again), the exits are cancelled only right before a close that can go now, and a
//! close Kite then refuses leaves the position without them until it goes. With closes off the
//! exits are kept. It keeps at it, once a second, until
//! nothing it should remove works and (with closes) no position is left, through the
//! journaled paths of `cancel-all` and `close-all` (a close is never doubled: its client order
//! id comes from the trade and the attempt, and no close goes while another still works).
//! Each try logs what it did.

use super::closing::{Cancel, CloseNow};
use super::{Reply, ReplyKind};
use crate::engine::journal::Execution;
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use std::time::{Duration, Instant};
use tradegraph_broker::Broker;
use tradegraph_core::Symbol;
use tradegraph_market::{Clock, MarketEvent};

/// How long after an unfinished try the kill switch tries again.
const RETRY: Duration = Duration::from_secs(1);

/// What one try of the kill switch at the broker came to.
#[derive(Debug, Clone)]
pub(crate) struct KillTry {
    /// What it did, in words (the answer's and the log's).
    pub(crate) said: String,
    /// The cancels and the close, as the broker answered.
    pub(crate) detail: serde_json::Value,
    /// Nothing left to do: no working order it removes, and (with closes) no position.
    pub(crate) done: bool,
}

/// An unfinished kill switch: when it is tried again, and what its last try came to (a try
/// that comes to the same is logged at `debug`, not again at `warn`).
#[derive(Debug, Clone)]
pub(crate) struct KillRetry {
    at: Instant,
    said: String,
}

fn part(reply: &Reply) -> serde_json::Value {
    json!({"outcome": reply.outcome().as_str(), "message": reply.message, "detail": reply.detail})
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Whether the kill switch's work at the broker is due now: engaged, not yet done, and
    /// its last try at least a second ago.
    pub(crate) fn kill_due(&self) -> bool {
        self.kill_pending
            && self.kill_switch.is_engaged()
            && self
                .kill_retry
                .as_ref()
                .is_none_or(|retry| Instant::now() >= retry.at)
    }

    /// How long until the kill switch's next try is due (`None`: none is pending), for the
    /// loop to wake for it: the once-a-second timer alone woke it a second late.
    pub(crate) fn kill_wait(&self) -> Option<Duration> {
        (self.kill_pending && self.kill_switch.is_engaged()).then(|| {
            self.kill_retry.as_ref().map_or(Duration::ZERO, |retry| {
                retry.at.saturating_duration_since(Instant::now())
            })
        })
    }

    /// One try at the kill switch's work at the broker (see the module's docs); keeps it
    /// pending, to try again in a second, until it is done. Logs and returns what it did.
    ///
    /// # Errors
    /// Only what stops the bot (a state conflict); the broker's refusals are in the answer.
    pub(crate) async fn kill_at_venue(&mut self) -> Result<KillTry, EngineError> {
        let closes = self.config.risk_limits.kill_switch_closes_positions;
        let entries = self.cancel(Cancel::Entries).await?;
        let mut said = vec![format!("entries: {}", entries.message)];
        let mut detail = json!({"entries": part(&entries)});
        if closes {
            match self.prepare_close().await? {
                CloseNow::Go(intent) => {
                    let (exits, closed) = self.close_past_exits(*intent).await?;
                    if let Some(exits) = exits {
                        detail["exits"] = part(&exits);
                        said.push(if exits.kind == ReplyKind::Done {
                            format!("exits: {}", exits.message)
                        } else {
                            format!(
                                "the close waits: the exits were not all cancelled ({})",
                                exits.message
                            )
                        });
                    }
                    if let Some(closed) = closed {
                        said.push(format!("close: {}", closed.message));
                        detail["close"] = part(&closed);
                    }
                }
                CloseNow::Flat(reply) => {
                    // Nothing to protect: exits left over go too.
                    let exits = self.cancel(Cancel::Exits).await?;
                    detail["exits"] = part(&exits);
                    detail["close"] = part(&reply);
                    said.push(format!("close: {}", reply.message));
                }
                CloseNow::Wait(reply) => {
                    said.push(format!(
                        "the close waits and the exits are kept: {}",
                        reply.message
                    ));
                    detail["close"] = part(&reply);
                }
            }
        } else {
            said.push(
                "the exits protecting the position are kept (kill_switch_closes_positions is off)"
                    .to_owned(),
            );
        }
        let symbol = self.config.instrument.symbol.clone();
        let done = kill_done(self.broker.as_ref(), &symbol, closes).await;
        if !done {
            said.push("tried again in a second".to_owned());
        }
        let said = said.join("; ");
        let repeated = self
            .kill_retry
            .as_ref()
            .is_some_and(|retry| retry.said == said);
        if repeated {
            tracing::debug!(%symbol, %detail, "kill switch at the broker: {said}");
        } else {
            tracing::warn!(%symbol, %detail, done, "kill switch at the broker: {said}");
        }
        self.kill_pending = !done;
        self.kill_retry = (!done).then(|| {
            Box::new(KillRetry {
                at: Instant::now() + RETRY,
                said: said.clone(),
            })
        });
        Ok(KillTry { said, detail, done })
    }
}

/// Whether the kill switch has nothing left to do for `symbol`: no working order it removes,
/// and (with closes) no position. A broker that cannot be read is not done.
async fn kill_done(broker: &dyn Broker, symbol: &Symbol, closes: bool) -> bool {
    let (Ok(orders), Ok(positions)) = (broker.open_orders().await, broker.positions().await) else {
        return false;
    };
    let mut working = orders.iter().filter(|o| o.request.symbol == *symbol);
    if !closes {
        return !working.any(|o| o.parent.is_none() && !o.request.reduce_only);
    }
    working.next().is_none()
        && positions
            .iter()
            .all(|p| p.symbol != *symbol || p.quantity.is_zero())
}
