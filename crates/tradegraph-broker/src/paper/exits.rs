//! Attached exits: created when their entry fills, sized to the whole position, one cancels
//! the others, replaced by the next entry's exits, cancelled when the position is gone.

use super::engine::{ExitGroup, Role};
use super::PaperEngine;
use crate::BrokerError;
use tradegraph_core::order::{Leg, OrderKind, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::Symbol;

impl PaperEngine {
    /// Puts the exits of filled entry `parent` on the position it built, replacing any earlier
    /// exits of the instrument.
    pub(super) fn attach_exits(&mut self, parent: usize) -> Result<(), BrokerError> {
        let entry = self.order_at(parent)?;
        let Some(exits) = entry.request.exits else {
            return Ok(());
        };
        let symbol = entry.request.symbol.clone();
        let held = self.held(&symbol);
        let Some(position_side) = OrderSide::of_quantity(held) else {
            return Ok(());
        };
        if position_side != entry.request.side {
            return Ok(());
        }
        let parent_id = entry.request.client_id.clone();
        if let Some(group) = self.exit_groups.get(&symbol) {
            if group.parent == parent_id {
                return Ok(());
            }
            let replaced = group.orders.clone();
            let reason = format!("replaced by the exits of {parent_id}");
            for index in replaced {
                if self.order_at(index)?.status.is_working() {
                    self.end(index, OrderStatus::Cancelled, reason.clone())?;
                }
            }
        }
        let side = position_side.opposite();
        let quantity = held.abs();
        let price = self
            .last_price(&symbol)
            .or(entry.average_fill_price)
            .unwrap_or_default();
        let legs = [
            (
                Leg::StopLoss,
                Role::StopLoss,
                exits.stop_loss.map(|trigger| OrderKind::Stop { trigger }),
            ),
            (
                Leg::TrailingStop,
                Role::Trailing,
                exits
                    .trailing_distance
                    .map(|distance| OrderKind::TrailingStop { distance }),
            ),
            (
                Leg::TakeProfit,
                Role::TakeProfit,
                exits.take_profit.map(|price| OrderKind::Limit { price }),
            ),
        ];
        let mut orders = Vec::new();
        for (leg, role, kind) in legs {
            let Some(kind) = kind else { continue };
            let id = parent_id.child(leg);
            if self.submitted.contains_key(&id) {
                continue;
            }
            let request = OrderRequest::new(id, symbol.clone(), side, quantity, kind).reduce_only();
            let index = self.register(request, role, Some(parent_id.clone()));
            self.open(index)?;
            match kind {
                OrderKind::Stop { trigger } => self.order_mut(index)?.trigger_price = Some(trigger),
                OrderKind::TrailingStop { distance } => self.start_trailing(index, price, distance),
                _ => {}
            }
            if let Some(meta) = self.meta.get_mut(index) {
                // Inside a candle the path after the entry is unknown: its take-profit waits
                // for the next price event, its stops do not.
                meta.armed_after = if self.in_candle { self.event } else { 0 };
            }
            orders.push(index);
        }
        if !orders.is_empty() {
            self.exit_groups.insert(
                symbol,
                ExitGroup {
                    parent: parent_id,
                    orders,
                },
            );
        }
        Ok(())
    }

    /// After a fill in `symbol`: keeps the exits the size of the position, or cancels them when
    /// the position is gone (or flipped).
    pub(super) fn resize_exits(&mut self, symbol: &Symbol) -> Result<(), BrokerError> {
        let Some(group) = self.exit_groups.get(symbol) else {
            return Ok(());
        };
        let orders = group.orders.clone();
        let held = self.held(symbol);
        let position_side = OrderSide::of_quantity(held);
        for index in orders {
            let order = self.order_at(index)?;
            if !order.status.is_working() {
                continue;
            }
            if position_side.is_none_or(|s| s == order.request.side) {
                self.end(
                    index,
                    OrderStatus::Cancelled,
                    "the position it protected is closed",
                )?;
            } else {
                let filled = order.filled_quantity;
                self.order_mut(index)?.request.quantity = filled + held.abs();
            }
        }
        let still = self.exit_groups.get(symbol).is_some_and(|g| {
            g.orders
                .iter()
                .any(|i| self.orders.get(*i).is_some_and(|o| o.status.is_working()))
        });
        if !still {
            self.exit_groups.remove(symbol);
        }
        Ok(())
    }

    /// An attached exit filled: its siblings are cancelled.
    pub(super) fn one_cancels_the_others(
        &mut self,
        symbol: &Symbol,
        filled: usize,
    ) -> Result<(), BrokerError> {
        let Some(group) = self.exit_groups.remove(symbol) else {
            return Ok(());
        };
        if !group.orders.contains(&filled) {
            self.exit_groups.insert(symbol.clone(), group);
            return Ok(());
        }
        let leg = self.order_at(filled)?.request.client_id;
        for index in group.orders {
            if index != filled && self.order_at(index)?.status.is_working() {
                self.end(
                    index,
                    OrderStatus::Cancelled,
                    format!("one-cancels-the-other: {leg} filled"),
                )?;
            }
        }
        Ok(())
    }
}
