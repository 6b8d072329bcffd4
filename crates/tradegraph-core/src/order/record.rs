//! The broker's record of an order: the request, its status and what has filled.

use super::{ClientOrderId, Fill, OrderId, OrderRequest, OrderStatus};
use crate::money::{checked, Money};
use crate::{CoreError, Price, Quantity, Timestamp};
use serde::{Deserialize, Serialize};

/// An order as the broker knows it.
///
/// Changes go through [`Order::transition`] and [`Order::record_fill`], which keep the lifecycle
/// of [`OrderStatus`] and never let the filled quantity pass the ordered one.
///
/// ```
/// use tradegraph_core::order::*;
/// use tradegraph_core::{Decimal, Symbol, Timestamp};
/// let id = ClientOrderId::new("demo")?;
/// let request = OrderRequest::market(id.clone(), Symbol::new("BTCUSDT"), OrderSide::Buy, Decimal::ONE);
/// let mut order = Order::new(OrderId::new("P-1"), request, Timestamp::EPOCH);
/// order.transition(OrderStatus::Open, Timestamp::EPOCH)?;
/// let fill = Fill {
///     seq: 1, order_id: order.id.clone(), client_id: id, symbol: Symbol::new("BTCUSDT"),
///     side: OrderSide::Buy, quantity: Decimal::ONE, price: Decimal::from(100),
///     fee: Decimal::new(1, 1), charges: vec![], liquidity: Liquidity::Taker, ts: Timestamp::EPOCH,
/// };
/// order.record_fill(&fill)?;
/// assert_eq!(order.status, OrderStatus::Filled);
/// assert_eq!(order.average_fill_price, Some(Decimal::from(100)));
/// assert!(order.transition(OrderStatus::Cancelled, Timestamp::EPOCH).is_err());
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The broker's id.
    pub id: OrderId,
    /// What was asked for. For attached exits the broker keeps `quantity` equal to the position
    /// it protects.
    pub request: OrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// How much has filled.
    pub filled_quantity: Quantity,
    /// Volume-weighted price of the fills so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_fill_price: Option<Price>,
    /// Fees charged so far.
    pub fees: Money,
    /// The entry whose exits this order is, for attached stop-loss, take-profit and trailing stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ClientOrderId>,
    /// The current trigger of a stop or trailing stop (a trailing stop's moves with the price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<Price>,
    /// Why it was rejected, cancelled or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the broker accepted it.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Order {
    /// A new order in [`OrderStatus::Pending`].
    pub fn new(id: OrderId, request: OrderRequest, at: Timestamp) -> Self {
        Self {
            id,
            request,
            status: OrderStatus::Pending,
            filled_quantity: Quantity::ZERO,
            average_fill_price: None,
            fees: Money::ZERO,
            parent: None,
            trigger_price: None,
            reason: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Our id.
    pub fn client_id(&self) -> &ClientOrderId {
        &self.request.client_id
    }

    /// What is left to fill.
    pub fn remaining(&self) -> Quantity {
        (self.request.quantity - self.filled_quantity).max(Quantity::ZERO)
    }

    /// Whether it was refused.
    pub fn is_rejected(&self) -> bool {
        self.status == OrderStatus::Rejected
    }

    /// Moves to `next` if the lifecycle allows it.
    pub fn transition(&mut self, next: OrderStatus, at: Timestamp) -> Result<(), CoreError> {
        if !self.status.can_become(next) {
            return Err(CoreError::OrderLifecycle {
                client_id: self.request.client_id.to_string(),
                from: self.status,
                to: next,
            });
        }
        self.status = next;
        self.updated_at = at;
        Ok(())
    }

    /// Ends the order as `status` (cancelled, rejected or expired) with a reason.
    pub fn close(
        &mut self,
        status: OrderStatus,
        reason: impl Into<String>,
        at: Timestamp,
    ) -> Result<(), CoreError> {
        self.transition(status, at)?;
        self.reason = Some(reason.into());
        Ok(())
    }

    /// Records a fill of this order: adds its quantity and fee, updates the average price and
    /// moves to `PartiallyFilled` or `Filled`. Refuses a fill of another order, of the wrong side,
    /// of a non-positive quantity, or more than what remains.
    pub fn record_fill(&mut self, fill: &Fill) -> Result<(), CoreError> {
        let refuse = |reason: String| CoreError::Fill {
            client_id: self.request.client_id.to_string(),
            reason,
        };
        if fill.client_id != self.request.client_id || fill.symbol != self.request.symbol {
            return Err(refuse(format!(
                "the fill is for {} on {}",
                fill.client_id, fill.symbol
            )));
        }
        if fill.side != self.request.side {
            return Err(refuse(format!(
                "the fill is a {}, the order a {}",
                fill.side, self.request.side
            )));
        }
        if fill.quantity <= Quantity::ZERO || fill.quantity > self.remaining() {
            return Err(refuse(format!(
                "fill quantity {} is not in (0, {}]",
                fill.quantity,
                self.remaining()
            )));
        }
        let filled = checked(
            "filled quantity",
            self.filled_quantity.checked_add(fill.quantity),
        )?;
        let before = match self.average_fill_price {
            Some(avg) => checked("fill value", avg.checked_mul(self.filled_quantity))?,
            None => Money::ZERO,
        };
        let value = checked(
            "fill value",
            before.checked_add(checked("fill value", fill.notional())?),
        )?;
        let next = if filled >= self.request.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        // Everything computed before anything changes: a refused fill leaves the order as it
        // was.
        let average = checked("average fill price", value.checked_div(filled))?;
        let fees = checked("order fees", self.fees.checked_add(fill.fee))?;
        self.transition(next, fill.ts)?;
        self.average_fill_price = Some(average);
        self.filled_quantity = filled;
        self.fees = fees;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::order::{ClientOrderId, Fill, Liquidity, OrderId, OrderRequest, OrderSide};
    use crate::{Decimal, Symbol, Timestamp};

    /// A fill refused because its fee overflows the order's fees leaves the order as it was
    /// (it was half recorded: status, average price and quantity changed, the fees not).
    #[test]
    fn a_refused_fill_leaves_the_order_as_it_was() {
        let id = ClientOrderId::new("atomic").unwrap();
        let request = OrderRequest::market(
            id.clone(),
            Symbol::new("BTCUSDT"),
            OrderSide::Buy,
            Decimal::TWO,
        );
        let mut order = Order::new(OrderId::new("P-1"), request, Timestamp::EPOCH);
        order
            .transition(OrderStatus::Open, Timestamp::EPOCH)
            .unwrap();
        order.fees = Decimal::MAX;
        let before = order.clone();
        let fill = Fill {
            seq: 1,
            order_id: order.id.clone(),
            client_id: id,
            symbol: Symbol::new("BTCUSDT"),
            side: OrderSide::Buy,
            quantity: Decimal::ONE,
            price: Decimal::from(100),
            fee: Decimal::ONE,
            charges: vec![],
            liquidity: Liquidity::Taker,
            ts: Timestamp::EPOCH,
        };
        assert!(order.record_fill(&fill).is_err());
        assert_eq!(order, before);
    }
}
