//! Trailing stops at Kite: an SL order whose trigger follows the best price, modified (a
//! write, paced by the order limits) only when it moves by the configured ticks, within
//! Kite's modification allowance per order, never back.

use super::broker::Inner;
use super::exits::{trail_trigger, Trail, MAX_MODIFICATIONS};
use super::modify_stop_form;
use super::now;
use super::rest::{encode, Cost, VENUE};
use reqwest::Method;
use rust_decimal::Decimal;
use std::sync::Arc;
use tokio::sync::watch;
use tradegraph_core::order::{ClientOrderId, OrderSide};

impl Inner {
    /// Moves trailing stops for `price`: by at least the configured ticks, within the order's
    /// modification allowance, never back.
    pub(crate) async fn trail_to(&self, price: Decimal) {
        let step = self.rules().tick_size * Decimal::from(self.config.trail_step_ticks.max(1));
        let moves: Vec<(ClientOrderId, Trail, Decimal)> = {
            let mut exits = self.exits();
            exits
                .trails
                .iter_mut()
                .filter_map(|(id, t)| {
                    t.best = match t.side {
                        OrderSide::Sell => t.best.max(price),
                        OrderSide::Buy => t.best.min(price),
                    };
                    let next = trail_trigger(&self.rules(), t.side, t.best, t.distance);
                    let moved = match t.side {
                        OrderSide::Sell => next >= t.trigger + step,
                        OrderSide::Buy => next <= t.trigger - step,
                    };
                    (moved && t.modifications < MAX_MODIFICATIONS)
                        .then(|| (id.clone(), t.clone(), next))
                })
                .collect()
        };
        for (client_id, trail, trigger) in moves {
            let Some(order) = self
                .book
                .order(&client_id)
                .filter(|o| !o.status.is_terminal())
            else {
                continue;
            };
            let form = modify_stop_form(
                &self.config_now(),
                &self.rules(),
                trail.side,
                trail.quantity,
                trigger,
            );
            let path = format!("/orders/regular/{}", order.id.as_str());
            match self
                .rest
                .call(Method::PUT, &path, Some(encode(&form)), Cost::Write)
                .await
            {
                Ok(_) => {
                    if let Some(t) = self.exits().trails.get_mut(&client_id) {
                        t.trigger = trigger;
                        t.modifications += 1;
                        if t.modifications == MAX_MODIFICATIONS {
                            tracing::warn!(venue = VENUE, client_id = %client_id, "the trailing stop reached Kite's modification allowance: it stays at {trigger}");
                        }
                    }
                    let mut moved = order;
                    moved.trigger_price = Some(trigger);
                    moved.updated_at = now();
                    self.book.track(moved);
                    tracing::info!(venue = VENUE, client_id = %client_id, trigger = %trigger, "trailing stop moved");
                }
                Err(e) => {
                    tracing::warn!(venue = VENUE, client_id = %client_id, error = %e, "could not move the trailing stop; trying again on the next price")
                }
            }
        }
    }
}

/// Moves the trailing stops as prices arrive (the latest price only, when they come faster
/// than Kite takes modifications).
pub(crate) async fn trail_loop(
    inner: Arc<Inner>,
    mut prices: watch::Receiver<Option<rust_decimal::Decimal>>,
) {
    while prices.changed().await.is_ok() {
        if inner.link.is_stopped() {
            break;
        }
        let price = *prices.borrow_and_update();
        if let Some(price) = price {
            inner.trail_to(price).await;
        }
    }
}
