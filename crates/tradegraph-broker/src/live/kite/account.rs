//! Positions (`GET /portfolio/positions`, net), the account (`GET /user/margins`) and order
//! amendments (`PUT /orders/regular/{id}`).

use super::broker::Inner;
use super::now;
use super::order::decimal;
use super::rest::{encode, Cost, KiteRest};
use crate::{AmendRefusal, Amendment, BrokerError};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use tradegraph_core::order::{ClientOrderId, Order, OrderKind};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Currency;

impl Inner {
    /// The net position in the instrument traded, in the configured product (Kite keeps a row
    /// per product): quantity, cost at Kite's average price, realised P&L, marked at Kite's
    /// last price.
    pub(crate) async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let data = self
            .rest
            .call(Method::GET, "/portfolio/positions", None, Cost::Read)
            .await?;
        let read = |e: String| self.rest.unreadable("GET /portfolio/positions", &e);
        let net = data
            .get("net")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for row in &net {
            if row.get("tradingsymbol").and_then(Value::as_str)
                != Some(self.tradingsymbol().as_str())
            {
                continue;
            }
            // Kite keeps a row per product: the bot's own (another product's position in the
            // contract, a hedge by hand or another bot's, is not its to close or protect)
            if row
                .get("product")
                .and_then(Value::as_str)
                .is_some_and(|p| p != self.config.product.as_str())
            {
                continue;
            }
            let quantity = decimal(row.get("quantity"), "quantity").map_err(read)?;
            let average = decimal(row.get("average_price"), "average_price").map_err(read)?;
            let last = decimal(row.get("last_price"), "last_price").map_err(read)?;
            let at = now();
            let mut position = Position::flat(self.symbol.clone());
            position.quantity = quantity;
            position.cost_basis = quantity
                .checked_mul(average)
                .ok_or_else(|| read(format!("{quantity} x {average} overflows")))?;
            position.realized_pnl = decimal(row.get("realised"), "realised").map_err(read)?;
            position.mark_price = (last > Decimal::ZERO).then_some(last);
            position.opened_at = (!quantity.is_zero()).then_some(at);
            position.updated_at = at;
            out.push(position);
        }
        Ok(out)
    }

    /// The account in INR: cash is the equity segment's `available.cash`, equity its `net` (the
    /// margin left) plus the margins blocked by positions (`utilised` SPAN, exposure, option
    /// premium, delivery and holding sales), so that it moves with the positions' P&L only;
    /// the instrument's position with its P&L and exposure. The commodity segment is not read.
    ///
    /// `day_start_equity` is the equity the trading day (the IST calendar day) opened with, as
    /// the book first saw it ([`VenueBook::opening_equity`]; Kite's margins do not say), so the
    /// risk guard's daily-loss limit works on a live account. `initial_cash` is the equity now.
    ///
    /// [`VenueBook::opening_equity`]: crate::live::venue::VenueBook::opening_equity
    pub(crate) async fn account(&self) -> Result<Account, BrokerError> {
        let data = self
            .rest
            .call(Method::GET, "/user/margins", None, Cost::Read)
            .await?;
        let read = |e: String| self.rest.unreadable("GET /user/margins", &e);
        let equity = data
            .get("equity")
            .ok_or_else(|| read("no `equity` segment".into()))?;
        let cash =
            decimal(equity.pointer("/available/cash"), "equity.available.cash").map_err(read)?;
        let available = decimal(equity.get("net"), "equity.net").map_err(read)?;
        // `net` is the margin left for trading: the cash less every utilised margin. The
        // margins an open position blocks (SPAN, exposure, option premium, delivery, holding
        // sales) are not losses: added back, equity moves with the positions' P&L only, and a
        // lot bought is not a daily loss of its margin.
        let mut blocked = Decimal::ZERO;
        for field in [
            "span",
            "exposure",
            "option_premium",
            "delivery",
            "holding_sales",
        ] {
            // absent or null: none blocked
            let what = format!("equity.utilised.{field}");
            let value =
                decimal(equity.pointer(&format!("/utilised/{field}")), &what).map_err(read)?;
            blocked = blocked
                .checked_add(value)
                .ok_or_else(|| read(format!("{what} overflows")))?;
        }
        let net = available
            .checked_add(blocked)
            .ok_or_else(|| read("equity.net with the blocked margins overflows".into()))?;
        let mut account = Account::flat(Currency::Inr, cash, now());
        account.equity = net;
        account.initial_cash = net;
        let day_start = account.as_of.india_day_start();
        account.day_start_equity = self.book.opening_equity(day_start, net);
        account.day_started_at = Some(day_start);
        account.positions = self.positions().await?;
        let positions = &account.positions;
        let totals = (
            sum(positions.iter().map(Position::unrealized_pnl)),
            sum(positions.iter().map(|p| p.realized_pnl)),
            sum(positions.iter().map(Position::exposure)),
            sum(positions.iter().map(Position::market_value)),
        );
        let (Some(unrealized), Some(realized), Some(gross), Some(net_exposure)) = totals else {
            return Err(read("the positions' totals overflow".into()));
        };
        account.unrealized_pnl = unrealized;
        account.realized_pnl = realized;
        account.gross_exposure = gross;
        account.net_exposure = net_exposure;
        Ok(account)
    }

    /// Changes a working order in place: quantity (whole lots), limit price or trigger (on the
    /// grid).
    pub(crate) async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        let refuse = |reason: AmendRefusal| BrokerError::NotAmendable {
            client_id: client_id.clone(),
            reason,
        };
        let order = self
            .book
            .order(client_id)
            .ok_or_else(|| BrokerError::UnknownOrder(client_id.clone()))?;
        if order.status.is_terminal() || order.id.as_str().is_empty() {
            return Err(refuse(AmendRefusal::NotWorking(order.status)));
        }
        if amendment.is_empty() {
            return Ok(order);
        }
        let quantity = amendment.quantity.unwrap_or(order.request.quantity);
        let check = self.rules().check_quantity(quantity).and_then(|()| {
            amendment
                .price
                .map_or(Ok(()), |p| self.rules().check_price("limit price", p))?;
            amendment
                .trigger
                .map_or(Ok(()), |t| self.rules().check_price("trigger", t))
        });
        check.map_err(|reason| refuse(AmendRefusal::Venue(reason)))?;
        let (order_type, price, trigger) = match order.request.kind {
            OrderKind::Limit { price } => ("LIMIT", amendment.price.or(Some(price)), None),
            OrderKind::Stop { trigger } | OrderKind::TrailingStop { distance: trigger } => {
                let trigger = amendment.trigger.or(order.trigger_price).or(Some(trigger));
                match self.config.stop_limit_ticks {
                    Some(ticks) => (
                        "SL",
                        amendment.price.or(trigger.map(|t| {
                            super::stop_limit(&self.rules(), order.request.side, t, ticks)
                        })),
                        trigger,
                    ),
                    None => ("SL-M", None, trigger),
                }
            }
            _ => ("MARKET", None, None),
        };
        let mut form = vec![
            ("order_type", order_type.to_owned()),
            ("quantity", quantity.normalize().to_string()),
        ];
        if let Some(price) = price {
            form.push(("price", price.normalize().to_string()));
        }
        if let Some(trigger) = trigger {
            form.push(("trigger_price", trigger.normalize().to_string()));
        }
        let path = format!("/orders/regular/{}", order.id.as_str());
        let reply = self
            .rest
            .send(Method::PUT, &path, Some(encode(&form)), Cost::Write, None)
            .await?;
        if !reply.is_success() {
            let reason = KiteRest::reason_of(&reply);
            if reason.is_refusal() {
                // The venue's refusal, its text masked as any venue error's.
                return Err(match self.rest.error(reason) {
                    BrokerError::Venue { reason, .. } => refuse(AmendRefusal::Venue(reason)),
                    other => other,
                });
            }
            return Err(self.rest.error(reason));
        }
        let mut now_order = self.refresh(&order).await?.unwrap_or(order);
        if amendment.trigger.is_some() || amendment.quantity.is_some() {
            now_order.trigger_price = amendment.trigger.or(now_order.trigger_price);
            now_order.request.quantity = quantity;
            now_order = self.book.track(now_order);
        }
        Ok(now_order)
    }
}

/// The exact sum, `None` on overflow.
fn sum(mut values: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    values.try_fold(Decimal::ZERO, Decimal::checked_add)
}
