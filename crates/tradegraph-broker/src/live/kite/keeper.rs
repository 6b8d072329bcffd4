//! The keeper: what the broker checks on a timer, whether or not updates arrive.
//!
//! - exits owed: a filled entry whose exits could not be placed (a 5xx, a 429 longer than
//!   the wait, a lost answer) is tried again with a growing delay until they are placed or
//!   the position is closed, with an error logged at every failure (the position is
//!   unprotected meanwhile); an entry whose placement's answer was lost keeps its plan until
//!   Kite shows it (then it gets its exits) or has said three times it does not have it;
//! - lapsed stops: an exit stop that ended unfilled while its position is open (the
//!   exchange's close, Kite's risk checks) is placed again with the same growing delay (see
//!   `lapse.rs`);
//! - lagging orders: an order Kite shows finished before its trades are all readable stays
//!   open in the book and is read again until they are;
//! - triggered GTT stop legs: a LIMIT order a gap left behind is moved with the price (inside
//!   the protection band) until it fills;
//! - the day: the instruments dump is read again on a new trading day (the contract's roll).

use super::broker::Inner;
use super::params::gtt_stop_limit;
use super::rest::VENUE;
use crate::Amendment;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tradegraph_core::order::{ClientOrderId, OrderSide, OrderStatus};

/// The longest wait between two tries at an entry's exits.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// The span over which an exit stop's lapses are counted (see `lapse.rs`).
const LAPSE_WINDOW: Duration = Duration::from_secs(600);
/// How many lapses of one stop within [`LAPSE_WINDOW`] are placed again; past them it is left
/// to the operator (a stop Kite keeps rejecting would burn the day's orders).
pub(crate) const MAX_LAPSES: u32 = 5;

/// How many times Kite must say it has no order of a lost placement before its plan goes.
const MISSES_BEFORE_DROP: u32 = 3;

/// The keeper's memory (not saved: a restart asks Kite again).
#[derive(Debug, Default)]
pub(crate) struct Keep {
    /// Entries owing exits, and exit stops owed again (`lapse.rs`): failed tries so far, and
    /// when to try next.
    owed: HashMap<ClientOrderId, (u32, Instant)>,
    /// Planned entries Kite did not show (a lost placement): how many times, and when to
    /// look again.
    misses: HashMap<ClientOrderId, (u32, Instant)>,
    /// Orders finished at Kite whose trades are not all readable yet.
    pub(crate) lagging: HashSet<ClientOrderId>,
    /// The sides whose exits a fill asked to fit to the position, when that could not be done
    /// (the position unreadable): fitted again at each round until done.
    pub(crate) fits_owed: HashSet<tradegraph_core::order::OrderSide>,
    /// The net position as last read and trusted, and the trades booked since.
    pub(crate) net: super::fit::NetWatch,
    /// Exit stops that ended unfilled: how many times within [`LAPSE_WINDOW`] of the first.
    lapses: HashMap<ClientOrderId, (u32, Instant)>,
}

impl Keep {
    /// Records a lapse of the exit stop `id`: how many within [`LAPSE_WINDOW`] (a stop that
    /// worked since does not start the count over; only time does).
    pub(crate) fn lapse(&mut self, id: &ClientOrderId) -> u32 {
        let now = Instant::now();
        let entry = self.lapses.entry(id.clone()).or_insert((0, now));
        if now.duration_since(entry.1) > LAPSE_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0
    }

    /// How many tries at `id`'s exits failed so far (0 when none is owed).
    pub(crate) fn tries(&self, id: &ClientOrderId) -> u32 {
        self.owed.get(id).map_or(0, |o| o.0)
    }

    /// Whether `id`'s next try is due (no failed try recorded, or its delay is over).
    pub(crate) fn due(&self, id: &ClientOrderId) -> bool {
        self.owed
            .get(id)
            .is_none_or(|(_, at)| Instant::now() >= *at)
    }
}

impl Inner {
    pub(crate) fn keep(&self) -> MutexGuard<'_, Keep> {
        self.keep.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a failed try at `id`'s exits (an entry's, or an exit stop's); the delay until
    /// the next one.
    pub(crate) fn owe_exits(&self, id: &ClientOrderId) -> Duration {
        let tries = self.keep().tries(id) + 1;
        self.owe_after(id, tries)
    }

    /// Records `id`'s exits as owed after `tries` failed tries; the delay until the next.
    pub(crate) fn owe_after(&self, id: &ClientOrderId, tries: u32) -> Duration {
        let factor = 2u32.saturating_pow(tries.clamp(1, 16) - 1);
        let delay = self.config.poll_every.saturating_mul(factor).min(MAX_RETRY);
        self.owe_until(id, tries, Instant::now() + delay);
        delay
    }

    /// Records `id`'s exits as owed, tried next at `at`.
    pub(crate) fn owe_until(&self, id: &ClientOrderId, tries: u32, at: Instant) {
        self.keep().owed.insert(id.clone(), (tries, at));
    }

    /// `entry`'s exits are placed (or no longer owed).
    pub(crate) fn owed_paid(&self, entry: &ClientOrderId) {
        let mut keep = self.keep();
        keep.owed.remove(entry);
        keep.misses.remove(entry);
    }

    /// Whether any exit is owed now (the position is unprotected).
    pub(crate) fn owes_exits(&self) -> bool {
        !self.keep().owed.is_empty() || !self.exits().lapsed.is_empty()
    }

    /// One round of the keeper.
    pub(crate) async fn keep_once(&self) {
        self.retry_owed_exits().await;
        self.retry_lapsed().await;
        self.retry_owed_fits().await;
        self.resync_lagging().await;
        self.watch_gtt_stops().await;
        self.daily_check().await;
    }

    /// Exits a fill left larger than the position (its position read failed): fitted again,
    /// side by side, until the position is read (a GTT left whole on a closed position would
    /// open a reverse one when it triggers).
    async fn retry_owed_fits(&self) {
        let owed: Vec<_> = self.keep().fits_owed.iter().copied().collect();
        for side in owed {
            match self.fit_exits(Some(side)).await {
                Ok(()) => {
                    self.keep().fits_owed.remove(&side);
                    tracing::info!(
                        venue = VENUE,
                        ?side,
                        "the exits are fitted to the position at last"
                    );
                }
                Err(e) => {
                    tracing::warn!(venue = VENUE, ?side, error = %e, "the exits are still not fitted to the position; trying again");
                }
            }
        }
    }

    async fn retry_owed_exits(&self) {
        let planned: Vec<ClientOrderId> = {
            let exits = self.exits();
            exits
                .plans
                .keys()
                .filter(|id| !exits.submitting.contains(*id) && !exits.placing.contains(*id))
                .cloned()
                .collect()
        };
        for entry in planned {
            let tracked = self.book.order(&entry).is_some();
            let due = {
                let keep = self.keep();
                let at = if tracked {
                    keep.owed.get(&entry)
                } else {
                    keep.misses.get(&entry)
                };
                at.is_none_or(|(_, at)| Instant::now() >= *at)
            };
            if !due {
                continue;
            }
            match self.book.order(&entry) {
                Some(order) if !order.filled_quantity.is_zero() => {
                    let owed = self.keep().owed.contains_key(&entry);
                    let flat = if owed {
                        self.flat_for(&order).await
                    } else {
                        Some(false)
                    };
                    match flat {
                        Some(true) => {
                            tracing::warn!(venue = VENUE, client_id = %entry, "the position is closed: its exits are no longer owed");
                            self.exits().plans.remove(&entry);
                            self.owed_paid(&entry);
                        }
                        // Read right after a trade: not known yet; tried at the next round.
                        None => {}
                        Some(false) => self.after_update(&entry).await,
                    }
                }
                Some(_) => {}
                None => self.look_for_lost(&entry).await,
            }
        }
    }

    /// Whether nothing is left to close for `entry`'s exits: `None` for a read sent right
    /// after a trade (it may not show it); a read that fails counts as not flat (the exits
    /// are tried).
    async fn flat_for(&self, entry: &tradegraph_core::order::Order) -> Option<bool> {
        match self.read_net().await {
            Ok((positions, true)) => {
                let net = super::fit::net_of(&positions);
                Some(match entry.request.side {
                    OrderSide::Buy => net <= Decimal::ZERO,
                    OrderSide::Sell => net >= Decimal::ZERO,
                })
            }
            Ok((_, false)) => None,
            Err(_) => Some(false),
        }
    }

    /// A planned entry the book does not have (its placement's answer was lost): synced when
    /// Kite shows it under its tag, its plan dropped once Kite said often enough it has not.
    async fn look_for_lost(&self, entry: &ClientOrderId) {
        match self.find(entry).await {
            Ok(Some(_)) => {
                self.keep().misses.remove(entry);
                self.after_update(entry).await;
            }
            Ok(None) => {
                match self.lost_order(entry) {
                    // Its answer lost, not listed yet: it may be working; the plan stays.
                    Some(lost) if lost.status == OrderStatus::Pending => return,
                    // Taken as never received: no order, nothing to protect.
                    Some(_) => {
                        self.exits().plans.remove(entry);
                        self.owed_paid(entry);
                        return;
                    }
                    None => {}
                }
                let misses = {
                    let mut keep = self.keep();
                    let tries = keep.misses.get(entry).map_or(0, |m| m.0) + 1;
                    let next = Instant::now() + self.config.poll_every.max(Duration::from_secs(1));
                    keep.misses.insert(entry.clone(), (tries, next));
                    tries
                };
                if misses >= MISSES_BEFORE_DROP {
                    self.exits().plans.remove(entry);
                    self.owed_paid(entry);
                    tracing::warn!(venue = VENUE, client_id = %entry, "Kite has no order under this tag: its planned exits are dropped");
                }
            }
            Err(e) => {
                let next = Instant::now() + self.config.poll_every.max(Duration::from_secs(1));
                self.keep()
                    .misses
                    .entry(entry.clone())
                    .and_modify(|m| m.1 = next)
                    .or_insert((0, next));
                tracing::warn!(venue = VENUE, client_id = %entry, error = %e, "could not look for an order whose placement's answer was lost");
            }
        }
    }

    async fn resync_lagging(&self) {
        let lagging: Vec<ClientOrderId> = self.keep().lagging.iter().cloned().collect();
        for client_id in lagging {
            let Some(order) = self.book.order(&client_id) else {
                self.keep().lagging.remove(&client_id);
                continue;
            };
            if let Err(e) = self.refresh(&order).await {
                tracing::warn!(venue = VENUE, client_id = %client_id, error = %e, "could not read the trades of an order Kite shows finished");
            }
        }
    }

    /// Moves the limit of a triggered GTT stop leg the price has passed: to the protection
    /// band past the last price, so that it fills.
    async fn watch_gtt_stops(&self) {
        let stops: Vec<(ClientOrderId, Decimal)> = self
            .exits()
            .gtt_stops
            .iter()
            .map(|(id, limit)| (id.clone(), *limit))
            .collect();
        let Some(last) = self.last_price() else {
            return;
        };
        for (client_id, price) in stops {
            let Some(order) = self.book.order(&client_id) else {
                continue;
            };
            if order.status.is_terminal() {
                self.exits().gtt_stops.remove(&client_id);
                continue;
            }
            let side = order.request.side;
            let passed = match side {
                OrderSide::Sell => last < price,
                OrderSide::Buy => last > price,
            };
            if !passed || order.id.as_str().is_empty() {
                continue;
            }
            let marketable = gtt_stop_limit(&self.config, &self.rules(), side, last);
            tracing::error!(venue = VENUE, client_id = %client_id, limit = %price, last = %last, to = %marketable, "a triggered GTT stop rests unfilled past its limit: moving it with the price");
            match self.amend(&client_id, Amendment::price(marketable)).await {
                Ok(mut moved) => {
                    moved.request.kind =
                        tradegraph_core::order::OrderKind::Limit { price: marketable };
                    self.book.track(moved);
                }
                Err(e) => {
                    tracing::error!(venue = VENUE, client_id = %client_id, error = %e, "could not move a triggered GTT stop: close the position at Kite")
                }
            }
        }
    }
}

/// Runs the keeper every `poll_every` until the broker stops.
pub(crate) async fn keep_loop(inner: Arc<Inner>) {
    let every = inner.config.poll_every.max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        if inner.link.is_stopped() {
            break;
        }
        inner.keep_once().await;
    }
}
