//! Submitting and cancelling: idempotency, the checks a venue would make, immediate fills.

use super::engine::{Market, Meta, Quote, Role};
use super::{FillTiming, PaperEngine};
use crate::{BrokerError, OrderRefusal, Placement, PriceField};
use tradegraph_core::money::{checked, is_multiple_of, Money};
use tradegraph_core::order::{
    ClientOrderId, Liquidity, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
    TimeInForce,
};
use tradegraph_core::{Decimal, Price, Quantity};

impl PaperEngine {
    /// Places an order. Idempotent: a client order id seen before returns that order (the same
    /// request) or [`BrokerError::DuplicateClientOrderId`] (a different one), and never fills
    /// twice. An order the venue would refuse comes back with status `Rejected` and a reason.
    /// Market orders, and limit orders that are marketable, fill at once, or with
    /// [`FillTiming::NextOpen`] at the next price event's first price.
    pub fn submit(&mut self, request: OrderRequest) -> Result<Order, BrokerError> {
        self.place(request, self.config.fill_timing)
    }

    /// [`submit`](Self::submit) with the fill timing given.
    pub(super) fn place(
        &mut self,
        request: OrderRequest,
        timing: FillTiming,
    ) -> Result<Order, BrokerError> {
        if self.retired.contains(&request.client_id) {
            // Placed long ago and let go by `compact`: never placed again.
            return Err(BrokerError::DuplicateClientOrderId(request.client_id));
        }
        if let Some((index, original)) = self.submitted.get(&request.client_id) {
            if *original != request {
                return Err(BrokerError::DuplicateClientOrderId(request.client_id));
            }
            return self.order_at(*index);
        }
        let market = self
            .markets
            .get(&request.symbol)
            .ok_or_else(|| BrokerError::UnknownInstrument(request.symbol.clone()))?;
        let refusal = self.refusal(&request, market);
        let quote = market.last;
        let expires_at = match request.time_in_force {
            TimeInForce::Day => market
                .instrument
                .session
                .day_at(self.now)
                .map(|(_, end)| end),
            _ => None,
        };
        let index = self.register(request.clone(), Role::Plain, None);
        if let Some(meta) = self.meta.get_mut(index) {
            meta.expires_at = expires_at;
        }
        let (Some(quote), None) = (quote, refusal.as_ref()) else {
            let reason = refusal.unwrap_or_else(|| OrderRefusal::NoPrice(request.symbol.clone()));
            crate::metrics::refused(crate::metrics::PAPER, reason.label());
            tracing::debug!(client_id = %request.client_id, %reason, "paper order rejected");
            self.end(index, OrderStatus::Rejected, reason.to_string())?;
            return self.order_at(index);
        };
        self.open(index)?;
        let deferred = timing == FillTiming::NextOpen
            && matches!(request.kind, OrderKind::Market | OrderKind::Limit { .. });
        if deferred {
            // Fills (or, a limit, becomes a resting order) at the next price event.
            if let Some(meta) = self.meta.get_mut(index) {
                meta.deferred = true;
            }
            tracing::debug!(client_id = %request.client_id, kind = %request.kind, "paper order placed, to fill at the next price");
            return self.order_at(index);
        }
        match request.kind {
            OrderKind::Market => {
                let price = self.slip(
                    &request.symbol,
                    request.side,
                    market_price(request.side, &quote),
                    request.quantity,
                    &quote,
                )?;
                self.execute(index, price, Liquidity::Taker)?;
            }
            OrderKind::Limit { price: limit } => {
                let volume = self.markets.get(&request.symbol).and_then(|m| m.bar_volume);
                if let Some(price) = self.marketable_fill(&request, limit, &quote, volume)? {
                    self.execute(index, price, Liquidity::Taker)?;
                } else if matches!(request.time_in_force, TimeInForce::Ioc | TimeInForce::Fok) {
                    self.end(
                        index,
                        OrderStatus::Cancelled,
                        "IOC/FOK limit not marketable",
                    )?;
                }
            }
            OrderKind::Stop { trigger } => {
                if let Some(order) = self.orders.get_mut(index) {
                    order.trigger_price = Some(trigger);
                }
            }
            OrderKind::TrailingStop { distance } => {
                self.start_trailing(index, quote.price, distance)
            }
            _ => {}
        }
        tracing::debug!(client_id = %request.client_id, kind = %request.kind, "paper order placed");
        self.order_at(index)
    }

    /// The taker price a limit order of `request` gets at `quote` if it is marketable there:
    /// the slipped market price (with `volume` the bar volume known then), never past the limit.
    pub(super) fn marketable_fill(
        &self,
        request: &OrderRequest,
        limit: Price,
        quote: &Quote,
        volume: Option<Quantity>,
    ) -> Result<Option<Price>, BrokerError> {
        let now = market_price(request.side, quote);
        let marketable = match request.side {
            OrderSide::Buy => now <= limit,
            OrderSide::Sell => now >= limit,
        };
        if !marketable {
            return Ok(None);
        }
        let slipped = self.slip_with(
            &request.symbol,
            request.side,
            now,
            request.quantity,
            quote,
            volume,
        )?;
        Ok(Some(match request.side {
            OrderSide::Buy => slipped.min(limit),
            OrderSide::Sell => slipped.max(limit),
        }))
    }

    /// Cancels a working order.
    pub fn cancel(&mut self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        let (index, _) = *self
            .submitted
            .get(client_id)
            .ok_or_else(|| BrokerError::UnknownOrder(client_id.clone()))?;
        let status = self.order_at(index)?.status;
        if !status.is_working() {
            return Err(BrokerError::NotCancellable {
                client_id: client_id.clone(),
                status,
            });
        }
        self.end(index, OrderStatus::Cancelled, "cancelled by the client")?;
        for group in self.exit_groups.values_mut() {
            group.orders.retain(|i| *i != index);
        }
        self.exit_groups.retain(|_, g| !g.orders.is_empty());
        self.order_at(index)
    }

    /// Why a venue would refuse `request` now, if it would.
    pub(super) fn refusal(&self, request: &OrderRequest, market: &Market) -> Option<OrderRefusal> {
        let instrument = &market.instrument;
        let (lot, tick) = (instrument.lot_size, instrument.tick_size);
        let on_grid = |what: PriceField, price: Price| -> Option<OrderRefusal> {
            if price <= Decimal::ZERO {
                Some(OrderRefusal::PriceNotPositive { what, price })
            } else if !is_multiple_of(price, tick) {
                Some(OrderRefusal::OffTickGrid { what, price, tick })
            } else {
                None
            }
        };
        if request.quantity <= Quantity::ZERO {
            return Some(OrderRefusal::QuantityNotPositive(request.quantity));
        }
        if !is_multiple_of(request.quantity, lot) {
            return Some(OrderRefusal::OffLotGrid {
                quantity: request.quantity,
                lot,
            });
        }
        let price_problem = match request.kind {
            OrderKind::Limit { price } => on_grid(PriceField::Limit, price),
            OrderKind::Stop { trigger } => on_grid(PriceField::Trigger, trigger),
            OrderKind::TrailingStop { distance } => on_grid(PriceField::Trailing, distance),
            _ => None,
        };
        if price_problem.is_some() {
            return price_problem;
        }
        let Some(quote) = market.last else {
            return Some(OrderRefusal::NoPrice(request.symbol.clone()));
        };
        if !instrument.session.is_open(self.now) {
            return Some(OrderRefusal::MarketClosed(self.now));
        }
        if !request.reduce_only && self.in_square_off(market, self.now) {
            return Some(OrderRefusal::SquareOff);
        }
        let held = self.portfolio.quantity(&request.symbol);
        let reduces = OrderSide::of_quantity(held).is_some_and(|h| h != request.side);
        if request.reduce_only && !reduces {
            return Some(OrderRefusal::NothingToReduce);
        }
        if matches!(request.time_in_force, TimeInForce::Ioc | TimeInForce::Fok)
            && !matches!(request.kind, OrderKind::Market | OrderKind::Limit { .. })
        {
            return Some(OrderRefusal::TimeInForce);
        }
        if let OrderKind::Stop { trigger } = request.kind {
            let fires = match request.side {
                OrderSide::Buy => quote.price >= trigger,
                OrderSide::Sell => quote.price <= trigger,
            };
            if fires {
                return Some(OrderRefusal::StopWouldTrigger {
                    trigger,
                    price: quote.price,
                });
            }
        }
        if let Some(exits) = request.exits {
            if request.reduce_only {
                return Some(OrderRefusal::ExitsOnReduceOnly);
            }
            let reference = request.kind.limit_price().unwrap_or(quote.price);
            let long = request.side == OrderSide::Buy;
            for (what, level, below) in [
                (PriceField::StopLoss, exits.stop_loss, long),
                (PriceField::TakeProfit, exits.take_profit, !long),
            ] {
                let Some(level) = level else { continue };
                if let Some(problem) = on_grid(what, level) {
                    return Some(OrderRefusal::BadExit(Box::new(problem)));
                }
                if (below && level >= reference) || (!below && level <= reference) {
                    let side = if below {
                        Placement::Below
                    } else {
                        Placement::Above
                    };
                    return Some(OrderRefusal::ExitOnWrongSide {
                        what,
                        level,
                        side,
                        reference,
                    });
                }
            }
            if let Some(d) = exits.trailing_distance {
                if let Some(problem) = on_grid(PriceField::Trailing, d) {
                    return Some(OrderRefusal::BadExit(Box::new(problem)));
                }
            }
        }
        if !reduces || request.quantity > held.abs() {
            let price = request.kind.limit_price().unwrap_or(quote.price);
            if let Err(problem) = self.leverage_check(request, price, held) {
                return Some(problem);
            }
        }
        None
    }

    /// Whether `request` at `price` keeps gross exposure within equity × leverage.
    pub(super) fn leverage_check(
        &self,
        request: &OrderRequest,
        price: Price,
        held: Quantity,
    ) -> Result<(), OrderRefusal> {
        let overflow = |_| OrderRefusal::Overflow;
        let after = checked(
            "position",
            held.checked_add(request.side.sign() * request.quantity),
        )
        .map_err(overflow)?;
        if after.abs() <= held.abs() {
            return Ok(());
        }
        let others = self
            .portfolio
            .open_positions()
            .filter(|p| p.symbol != request.symbol)
            .fold(Money::ZERO, |acc, p| acc.saturating_add(p.exposure()));
        let gross = checked("exposure", after.abs().checked_mul(price))
            .and_then(|mine| checked("exposure", mine.checked_add(others)))
            .map_err(overflow)?;
        let equity = self.portfolio.equity();
        let allowed = equity.saturating_mul(self.config.max_leverage);
        if gross > allowed {
            return Err(OrderRefusal::Leverage {
                exposure: gross,
                equity,
                allowed,
                leverage: self.config.max_leverage,
            });
        }
        Ok(())
    }

    /// Records a new order (status `Pending`) and returns its index.
    pub(super) fn register(
        &mut self,
        request: OrderRequest,
        role: Role,
        parent: Option<ClientOrderId>,
    ) -> usize {
        let index = self.orders.len();
        let id = OrderId::new(format!("P-{}", self.order_base + index as u64 + 1));
        self.submitted
            .insert(request.client_id.clone(), (index, request.clone()));
        let mut order = Order::new(id, request, self.now);
        order.parent = parent;
        self.orders.push(order);
        self.meta.push(Meta {
            role,
            best: None,
            armed_after: 0,
            expires_at: None,
            deferred: false,
        });
        index
    }

    /// Moves a registered order to `Open` and into the working set.
    pub(super) fn open(&mut self, index: usize) -> Result<(), BrokerError> {
        let now = self.now;
        let order = self.order_mut(index)?;
        order.transition(OrderStatus::Open, now)?;
        crate::metrics::order_status(crate::metrics::PAPER, order);
        self.working.push(index);
        Ok(())
    }

    /// Ends an order (cancelled, rejected, expired) and takes it out of the working set.
    pub(super) fn end(
        &mut self,
        index: usize,
        status: OrderStatus,
        reason: impl Into<String>,
    ) -> Result<(), BrokerError> {
        let now = self.now;
        let order = self.order_mut(index)?;
        order.close(status, reason, now)?;
        crate::metrics::order_status(crate::metrics::PAPER, order);
        self.working.retain(|i| *i != index);
        Ok(())
    }

    /// Starts a trailing stop at `price`.
    pub(super) fn start_trailing(&mut self, index: usize, price: Price, distance: Price) {
        let (Some(order), Some(meta)) = (self.orders.get_mut(index), self.meta.get_mut(index))
        else {
            return;
        };
        meta.best = Some(price);
        order.trigger_price = match order.request.side {
            OrderSide::Sell => price.checked_sub(distance),
            OrderSide::Buy => price.checked_add(distance),
        };
    }

    pub(super) fn order_at(&self, index: usize) -> Result<Order, BrokerError> {
        self.orders.get(index).cloned().ok_or_else(|| lost(index))
    }

    pub(super) fn order_mut(&mut self, index: usize) -> Result<&mut Order, BrokerError> {
        self.orders.get_mut(index).ok_or_else(|| lost(index))
    }
}

/// The price a market order of `side` meets.
pub(super) fn market_price(side: OrderSide, quote: &Quote) -> Price {
    match side {
        OrderSide::Buy => quote.buy_price(),
        OrderSide::Sell => quote.sell_price(),
    }
}

/// An order index that does not exist: a bookkeeping bug, reported rather than panicking.
fn lost(index: usize) -> BrokerError {
    BrokerError::Venue {
        venue: "paper".into(),
        reason: crate::live::VenueReason::Other {
            code: "bookkeeping".into(),
            message: format!("internal bookkeeping error: no order at index {index}"),
        },
    }
}
