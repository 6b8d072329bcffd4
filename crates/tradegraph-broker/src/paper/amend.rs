//! Amending a working paper order: its quantity, limit price or trigger.

use super::engine::Role;
use super::PaperEngine;
use crate::{AmendRefusal, Amendment, BrokerError, PriceField};
use tradegraph_core::money::is_multiple_of;
use tradegraph_core::order::{ClientOrderId, Order, OrderKind};
use tradegraph_core::{Decimal, Price};

impl PaperEngine {
    /// Changes a working order in place, as a venue's modify does: a new quantity (not below
    /// what has filled, on the lot grid), a new limit price (limit orders), a new trigger (stop
    /// orders, such as an entry's attached stop-loss moved by hand); the order keeps its client
    /// order id and its place. A limit moved through the market fills at the next price event.
    /// An empty amendment returns the order unchanged.
    ///
    /// # Errors
    /// [`BrokerError::UnknownOrder`]; [`BrokerError::NotAmendable`] when the order is no longer
    /// working, or the change does not fit it (a price for a market order, a quantity below
    /// what filled, off the grid); nothing changed then.
    pub fn amend(
        &mut self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        let (index, _) = *self
            .submitted
            .get(client_id)
            .ok_or_else(|| BrokerError::UnknownOrder(client_id.clone()))?;
        let order = self.order_at(index)?;
        let refuse = |reason: AmendRefusal| BrokerError::NotAmendable {
            client_id: client_id.clone(),
            reason,
        };
        if !order.status.is_working() {
            return Err(refuse(AmendRefusal::NotWorking(order.status)));
        }
        if amendment.is_empty() {
            return Ok(order);
        }
        let instrument = &self
            .markets
            .get(&order.request.symbol)
            .ok_or_else(|| BrokerError::UnknownInstrument(order.request.symbol.clone()))?
            .instrument;
        let (lot, tick) = (instrument.lot_size, instrument.tick_size);
        let on_tick = |what: PriceField, p: Price| {
            if p <= Decimal::ZERO || !is_multiple_of(p, tick) {
                Err(refuse(AmendRefusal::OffTickGrid {
                    what,
                    price: p,
                    tick,
                }))
            } else {
                Ok(p)
            }
        };
        let mut next = order.request.clone();
        let mut trigger_price = order.trigger_price;
        if let Some(quantity) = amendment.quantity {
            if quantity <= order.filled_quantity || !is_multiple_of(quantity, lot) {
                return Err(refuse(AmendRefusal::Quantity {
                    quantity,
                    filled: order.filled_quantity,
                    lot,
                }));
            }
            next.quantity = quantity;
        }
        match (next.kind, amendment.price, amendment.trigger) {
            (_, None, None) => {}
            (OrderKind::Limit { .. }, Some(price), None) => {
                next.kind = OrderKind::Limit {
                    price: on_tick(PriceField::Limit, price)?,
                };
            }
            (OrderKind::Stop { .. }, None, Some(trigger)) => {
                let trigger = on_tick(PriceField::Trigger, trigger)?;
                next.kind = OrderKind::Stop { trigger };
                trigger_price = Some(trigger);
            }
            (kind, _, _) => return Err(refuse(AmendRefusal::WrongPrice(kind))),
        }
        // The checks a new order would get (grid, market open, a stop not through the market,
        // exposure within leverage), on what is left to fill.
        let mut check = next.clone();
        check.exits = None;
        check.quantity = next.quantity - order.filled_quantity;
        let market = self
            .markets
            .get(&next.symbol)
            .ok_or_else(|| BrokerError::UnknownInstrument(next.symbol.clone()))?;
        if let Some(problem) = self.refusal(&check, market) {
            return Err(refuse(AmendRefusal::Order(problem)));
        }
        // An attached exit never covers more than the position.
        let exit = self.meta.get(index).is_some_and(|m| m.role != Role::Plain);
        let held = self.portfolio.quantity(&next.symbol).abs();
        if exit && next.quantity > held {
            return Err(refuse(AmendRefusal::ExitTooLarge {
                quantity: next.quantity,
                held,
            }));
        }
        let now = self.now;
        let order = self.order_mut(index)?;
        order.request = next;
        order.trigger_price = trigger_price;
        order.updated_at = now.max(order.updated_at);
        tracing::debug!(%client_id, "paper order amended");
        self.order_at(index)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{OrderRefusal, PaperConfig};
    use tradegraph_core::order::{Exits, OrderRequest, OrderSide, OrderStatus};
    use tradegraph_core::{Instrument, Tick, Timestamp};

    fn engine() -> (PaperEngine, Instrument) {
        let btc = Instrument::btc_usdt();
        let mut paper =
            PaperEngine::new(PaperConfig::new(btc.clone(), Decimal::from(100_000))).unwrap();
        paper
            .on_tick(
                &btc.symbol,
                &Tick::new(
                    Timestamp::from_millis(1_000),
                    Decimal::from(40_000),
                    Decimal::ONE,
                ),
            )
            .unwrap();
        (paper, btc)
    }

    fn id(s: &str) -> ClientOrderId {
        ClientOrderId::new(s).unwrap()
    }

    #[test]
    fn a_moved_stop_triggers_at_its_new_price_and_only_there() {
        let (mut paper, btc) = engine();
        let entry =
            OrderRequest::market(id("e1"), btc.symbol.clone(), OrderSide::Buy, Decimal::ONE)
                .with_exits(Exits::stop(Decimal::from(39_000)));
        paper.submit(entry).unwrap();
        let stop = paper
            .open_orders()
            .into_iter()
            .find(|o| o.trigger_price.is_some())
            .unwrap();
        let moved = paper
            .amend(stop.client_id(), Amendment::trigger(Decimal::from(39_800)))
            .unwrap();
        assert_eq!(moved.trigger_price, Some(Decimal::from(39_800)));
        assert_eq!(moved.client_id(), stop.client_id());
        // 39 900 is above the new stop: nothing; 39 700 is below it: stopped out there.
        let tick = |ms, p| Tick::new(Timestamp::from_millis(ms), Decimal::from(p), Decimal::ONE);
        assert!(paper
            .on_tick(&btc.symbol, &tick(2_000, 39_900))
            .unwrap()
            .is_empty());
        let fills = paper.on_tick(&btc.symbol, &tick(3_000, 39_700)).unwrap();
        assert_eq!(fills.len(), 1);
        assert!(paper.positions().is_empty());
    }

    #[test]
    fn a_limit_can_be_repriced_and_resized_but_not_given_a_trigger() {
        let (mut paper, btc) = engine();
        let limit = OrderRequest::limit(
            id("l1"),
            btc.symbol.clone(),
            OrderSide::Buy,
            Decimal::ONE,
            Decimal::from(39_000),
        );
        paper.submit(limit.clone()).unwrap();
        let amended = paper
            .amend(
                &id("l1"),
                Amendment::price(Decimal::from(39_500)).with_trigger(Decimal::from(1)),
            )
            .unwrap_err();
        assert!(
            matches!(
                amended,
                BrokerError::NotAmendable {
                    reason: AmendRefusal::WrongPrice(OrderKind::Limit { .. }),
                    ..
                }
            ),
            "{amended}"
        );
        let order = paper
            .amend(
                &id("l1"),
                Amendment::quantity(Decimal::from(2)).with_price(Decimal::from(39_500)),
            )
            .unwrap();
        assert_eq!(
            order.request.kind,
            OrderKind::Limit {
                price: Decimal::from(39_500)
            }
        );
        assert_eq!(order.request.quantity, Decimal::from(2));
        // Resubmitting the original request is still the same order, never a second one.
        assert_eq!(paper.submit(limit).unwrap().id, order.id);
        let off_grid = paper
            .amend(&id("l1"), Amendment::price(Decimal::new(39_500_001, 3)))
            .unwrap_err();
        assert!(off_grid.to_string().contains("tick size"), "{off_grid}");
        assert!(
            matches!(
                off_grid,
                BrokerError::NotAmendable {
                    reason: AmendRefusal::OffTickGrid {
                        what: PriceField::Limit,
                        ..
                    },
                    ..
                }
            ),
            "{off_grid}"
        );
    }

    #[test]
    fn an_amendment_gets_the_checks_a_new_order_gets() {
        let (mut paper, btc) = engine();
        let entry =
            OrderRequest::market(id("e2"), btc.symbol.clone(), OrderSide::Buy, Decimal::ONE)
                .with_exits(Exits::stop(Decimal::from(39_000)));
        paper.submit(entry).unwrap();
        let stop = paper
            .open_orders()
            .into_iter()
            .find(|o| o.trigger_price.is_some())
            .unwrap();
        // A stop moved through the market would fire at once: refused, as a new one would be.
        let through = paper
            .amend(stop.client_id(), Amendment::trigger(Decimal::from(40_100)))
            .unwrap_err();
        assert!(
            through.to_string().contains("would trigger immediately"),
            "{through}"
        );
        assert!(
            matches!(
                through,
                BrokerError::NotAmendable {
                    reason: AmendRefusal::Order(OrderRefusal::StopWouldTrigger { .. }),
                    ..
                }
            ),
            "{through}"
        );
        // An exit never covers more than the position.
        let over = paper
            .amend(stop.client_id(), Amendment::quantity(Decimal::from(2)))
            .unwrap_err();
        assert!(
            over.to_string().contains("more than the position"),
            "{over}"
        );
        assert!(
            matches!(
                over,
                BrokerError::NotAmendable {
                    reason: AmendRefusal::ExitTooLarge { .. },
                    ..
                }
            ),
            "{over}"
        );
        // A limit buy grown beyond what the equity allows: refused on leverage.
        let limit = OrderRequest::limit(
            id("l2"),
            btc.symbol.clone(),
            OrderSide::Buy,
            Decimal::ONE,
            Decimal::from(39_000),
        );
        paper.submit(limit).unwrap();
        let huge = paper
            .amend(&id("l2"), Amendment::quantity(Decimal::from(100)))
            .unwrap_err();
        assert!(huge.to_string().contains("exposure"), "{huge}");
        assert!(
            matches!(
                huge,
                BrokerError::NotAmendable {
                    reason: AmendRefusal::Order(OrderRefusal::Leverage { .. }),
                    ..
                }
            ),
            "{huge}"
        );
        assert_eq!(
            paper.order(&id("l2")).unwrap().request.quantity,
            Decimal::ONE,
            "nothing changed"
        );
    }

    #[test]
    fn finished_and_unknown_orders_are_not_amended() {
        let (mut paper, btc) = engine();
        paper
            .submit(OrderRequest::market(
                id("m1"),
                btc.symbol.clone(),
                OrderSide::Buy,
                Decimal::ONE,
            ))
            .unwrap();
        assert_eq!(paper.order(&id("m1")).unwrap().status, OrderStatus::Filled);
        let err = paper
            .amend(&id("m1"), Amendment::quantity(Decimal::from(2)))
            .unwrap_err();
        assert!(err.to_string().contains("FILLED"), "{err}");
        assert!(matches!(
            paper.amend(&id("nope"), Amendment::quantity(Decimal::ONE)),
            Err(BrokerError::UnknownOrder(_))
        ));
    }
}
