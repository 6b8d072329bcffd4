//! Executing a fill: slippage, reduce-only cuts, leverage, fees, the books, and what a fill
//! sets off (attached exits, one-cancels-the-other).

use super::engine::{Market, Quote, Role};
use super::PaperEngine;
use crate::BrokerError;
use tradegraph_core::money::{checked, Money};
use tradegraph_core::order::{
    Charge, ClientOrderId, DecisionId, Fill, Leg, Liquidity, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::{CoreError, Decimal, Price, Quantity, Symbol, Timestamp, TradingSession};

const MINUTE: i64 = 60_000;

impl PaperEngine {
    /// `price` moved by the slippage model against a `side` order of `quantity` at `quote`,
    /// rounded to the tick against it too (a buy pays more, a sell gets less), never below one
    /// tick.
    pub(super) fn slip(
        &self,
        symbol: &Symbol,
        side: OrderSide,
        price: Price,
        quantity: Quantity,
        quote: &Quote,
    ) -> Result<Price, BrokerError> {
        let volume = self.markets.get(symbol).and_then(|m| m.bar_volume);
        self.slip_with(symbol, side, price, quantity, quote, volume)
    }

    /// [`slip`](Self::slip) with the bar volume the volume model uses given.
    pub(super) fn slip_with(
        &self,
        symbol: &Symbol,
        side: OrderSide,
        price: Price,
        quantity: Quantity,
        quote: &Quote,
        volume: Option<Quantity>,
    ) -> Result<Price, BrokerError> {
        let tick = self
            .markets
            .get(symbol)
            .map_or(Decimal::ZERO, |m| m.instrument.tick_size);
        let touch = quote.bid.zip(quote.ask);
        let slipped = self
            .config
            .slippage
            .fill_price(side, price, touch, quantity, volume, tick);
        Ok(checked("slipped price", slipped)?)
    }

    /// Fills what can be filled of order `index` at `price`, stamped with market time.
    pub(super) fn execute(
        &mut self,
        index: usize,
        price: Price,
        liquidity: Liquidity,
    ) -> Result<(), BrokerError> {
        self.execute_at(index, price, liquidity, self.now)
    }

    /// [`execute`](Self::execute), the fill stamped at `ts` (the time of the price it fills
    /// at).
    pub(super) fn execute_at(
        &mut self,
        index: usize,
        price: Price,
        liquidity: Liquidity,
        ts: Timestamp,
    ) -> Result<(), BrokerError> {
        let order = self.order_at(index)?;
        let request = &order.request;
        let held = self.portfolio.quantity(&request.symbol);
        let reduces = OrderSide::of_quantity(held).is_some_and(|h| h != request.side);
        let mut quantity = order.remaining();
        if request.reduce_only {
            if !reduces {
                return self.end(
                    index,
                    OrderStatus::Cancelled,
                    "reduce-only, but the position is gone",
                );
            }
            quantity = quantity.min(held.abs());
        } else if let Err(problem) = self.leverage_check(request, price, held) {
            let status = if order.status == OrderStatus::Pending {
                crate::metrics::refused(crate::metrics::PAPER, problem.label());
                OrderStatus::Rejected
            } else {
                OrderStatus::Cancelled
            };
            return self.end(index, status, problem.to_string());
        }
        let notional = checked("fill value", quantity.checked_mul(price))?;
        let (fee, charges) = checked_fee(self.config.fees.fee_at(
            request.side,
            notional,
            liquidity,
            ts,
        ))?;
        let fill = Fill {
            seq: self.fills_base + self.fills.len() as u64 + 1,
            order_id: order.id.clone(),
            client_id: request.client_id.clone(),
            symbol: request.symbol.clone(),
            side: request.side,
            quantity,
            price,
            fee,
            charges,
            liquidity,
            ts,
        };
        let mut updated = order.clone();
        updated.record_fill(&fill)?;
        self.portfolio.apply_fill(&fill)?;
        if let Some(last) = self.markets.get(&request.symbol).and_then(|m| m.last) {
            self.portfolio.mark(&request.symbol, last.price, self.now)?;
        }
        let symbol = request.symbol.clone();
        let has_exits = request.exits.is_some();
        let cut = updated.status == OrderStatus::PartiallyFilled && request.reduce_only;
        let filled = updated.status == OrderStatus::Filled;
        crate::metrics::filled(crate::metrics::PAPER, &fill);
        if updated.status != order.status {
            crate::metrics::order_status(crate::metrics::PAPER, &updated);
        }
        *self.order_mut(index)? = updated;
        tracing::debug!(client_id = %fill.client_id, side = %fill.side, quantity = %fill.quantity, price = %fill.price, fee = %fill.fee, "paper fill");
        self.fills.push(fill);
        if filled {
            self.working.retain(|i| *i != index);
        }
        if cut {
            self.end(
                index,
                OrderStatus::Cancelled,
                "reduce-only: the rest exceeded the position",
            )?;
        }
        let role = self.meta.get(index).map_or(Role::Plain, |m| m.role);
        if role != Role::Plain {
            self.one_cancels_the_others(&symbol, index)?;
        }
        if has_exits {
            self.attach_exits(index)?;
        }
        self.resize_exits(&symbol)
    }

    /// Whether `ts` is inside the square-off window of `market`'s session.
    pub(super) fn in_square_off(&self, market: &Market, ts: Timestamp) -> bool {
        let (Some(minutes), TradingSession::Exchange(session)) =
            (self.config.square_off_minutes, &market.instrument.session)
        else {
            return false;
        };
        let bounds = market
            .session
            .filter(|(open, close)| *open <= ts && ts < *close)
            .or_else(|| session.session_at(ts));
        bounds.is_some_and(|(_, close)| ts >= close.add_millis(-i64::from(minutes) * MINUTE))
    }

    /// Inside the square-off window: cancels the instrument's working orders and closes its
    /// position at the market, once per session.
    pub(super) fn square_off(&mut self, symbol: &Symbol, ts: Timestamp) -> Result<(), BrokerError> {
        let Some(market) = self.markets.get(symbol) else {
            return Ok(());
        };
        let TradingSession::Exchange(session) = &market.instrument.session else {
            return Ok(());
        };
        let bounds = market
            .session
            .filter(|(open, close)| *open <= ts && ts < *close)
            .or_else(|| session.session_at(ts));
        let due = self.in_square_off(market, ts);
        let done = bounds.is_some_and(|(open, _)| market.squared_off == Some(open));
        if let Some(market) = self.markets.get_mut(symbol) {
            market.session = bounds;
        }
        let (true, false, Some((open, _))) = (due, done, bounds) else {
            return Ok(());
        };
        let working: Vec<usize> = self
            .working
            .iter()
            .copied()
            .filter(|i| {
                self.orders
                    .get(*i)
                    .is_some_and(|o| &o.request.symbol == symbol)
            })
            .collect();
        for index in working {
            self.end(index, OrderStatus::Cancelled, "square-off before the close")?;
        }
        self.exit_groups.remove(symbol);
        let held = self.portfolio.quantity(symbol);
        if let Some(side) = OrderSide::of_quantity(held) {
            let decision = DecisionId::new(format!("squareoff-{}", open.compact()));
            let id = ClientOrderId::derive(symbol, &decision, Leg::SquareOff);
            let close =
                OrderRequest::market(id, symbol.clone(), side.opposite(), held.abs()).reduce_only();
            tracing::info!(%symbol, quantity = %held, "paper square-off before the close");
            // At the market now, whatever the fill timing: the broker's own close.
            let order = self.place(close, super::FillTiming::Immediate)?;
            if order.status == OrderStatus::Rejected {
                return Err(CoreError::Fill {
                    client_id: order.request.client_id.to_string(),
                    reason: format!("square-off refused: {}", order.reason.unwrap_or_default()),
                }
                .into());
            }
        }
        if let Some(market) = self.markets.get_mut(symbol) {
            market.squared_off = Some(open);
        }
        Ok(())
    }

    /// The signed position held in `symbol`.
    pub(super) fn held(&self, symbol: &Symbol) -> Quantity {
        self.portfolio.quantity(symbol)
    }
}

/// The fee and its charges, or the overflow named.
fn checked_fee(fee: Option<(Money, Vec<Charge>)>) -> Result<(Money, Vec<Charge>), BrokerError> {
    fee.ok_or_else(|| tradegraph_core::CoreError::Overflow { what: "fee" }.into())
}
