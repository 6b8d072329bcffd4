//! Binance's JSON (orders, trades, the account, `executionReport`) into the domain, exactly.

use super::filters::SymbolRules;
use crate::live::venue::{VenueTrade, VenueUpdate};
use crate::live::VenueReason;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use tradegraph_core::order::{
    ClientOrderId, Liquidity, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
    TimeInForce,
};
use tradegraph_core::{Symbol, Timestamp};

/// An order as `GET`/`POST`/`DELETE /api/v3/order` and `openOrders` describe it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireOrder {
    pub(crate) order_id: u64,
    pub(crate) client_order_id: String,
    /// A cancel's answer: the cancelled order's client id.
    #[serde(default)]
    pub(crate) orig_client_order_id: Option<String>,
    #[serde(default)]
    pub(crate) price: Decimal,
    pub(crate) orig_qty: Decimal,
    #[serde(default)]
    pub(crate) executed_qty: Decimal,
    #[serde(default)]
    pub(crate) cummulative_quote_qty: Decimal,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) time_in_force: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) side: String,
    #[serde(default)]
    pub(crate) stop_price: Decimal,
    #[serde(default)]
    pub(crate) trailing_delta: Option<u32>,
    #[serde(default)]
    pub(crate) time: Option<i64>,
    #[serde(default)]
    pub(crate) transact_time: Option<i64>,
    #[serde(default)]
    pub(crate) update_time: Option<i64>,
    #[serde(default)]
    pub(crate) fills: Vec<WireFill>,
}

/// A fill in a new order's `FULL` answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFill {
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) trade_id: u64,
}

/// `GET /api/v3/myTrades`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireTrade {
    pub(crate) id: u64,
    pub(crate) order_id: u64,
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) time: i64,
    pub(crate) is_maker: bool,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireAccount {
    pub(crate) balances: Vec<WireBalance>,
}

/// One asset's balance.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireBalance {
    pub(crate) asset: String,
    pub(crate) free: Decimal,
    pub(crate) locked: Decimal,
}

/// The user data stream's `executionReport`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExecutionReport {
    #[serde(rename = "E")]
    pub(crate) event_time: i64,
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "c")]
    pub(crate) client_id: String,
    #[serde(rename = "S")]
    pub(crate) side: String,
    #[serde(rename = "o")]
    pub(crate) kind: String,
    #[serde(rename = "f", default)]
    pub(crate) time_in_force: String,
    #[serde(rename = "q")]
    pub(crate) quantity: Decimal,
    #[serde(rename = "p")]
    pub(crate) price: Decimal,
    #[serde(rename = "P", default)]
    pub(crate) stop_price: Decimal,
    #[serde(rename = "d", default)]
    pub(crate) trailing_delta: Option<u32>,
    #[serde(rename = "C", default)]
    pub(crate) orig_client_id: Option<String>,
    #[serde(rename = "x")]
    pub(crate) execution: String,
    #[serde(rename = "X")]
    pub(crate) status: String,
    #[serde(rename = "r", default)]
    pub(crate) reject_reason: String,
    #[serde(rename = "i")]
    pub(crate) order_id: u64,
    #[serde(rename = "l")]
    pub(crate) last_qty: Decimal,
    #[serde(rename = "L")]
    pub(crate) last_price: Decimal,
    #[serde(rename = "n", default)]
    pub(crate) commission: Decimal,
    #[serde(rename = "N", default)]
    pub(crate) commission_asset: Option<String>,
    #[serde(rename = "T")]
    pub(crate) trade_time: i64,
    #[serde(rename = "t")]
    pub(crate) trade_id: i64,
    #[serde(rename = "m", default)]
    pub(crate) maker: bool,
}

/// Binance's order status as ours.
pub(crate) fn status(text: &str) -> OrderStatus {
    match text {
        "NEW" | "PENDING_NEW" => OrderStatus::Open,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" | "PENDING_CANCEL" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        other => {
            // Never terminal on a word we do not know: the book never moves an order back,
            // so `Open` leaves it as it was, and the venue's next word (or polling) settles it.
            tracing::warn!(
                status = other,
                "binance sent an order status this broker does not know: the order is kept as it was"
            );
            OrderStatus::Open
        }
    }
}

fn side(text: &str) -> OrderSide {
    if text == "SELL" {
        OrderSide::Sell
    } else {
        OrderSide::Buy
    }
}

/// The client order id the venue reports; an id ours cannot hold (none of the bot's) becomes
/// `binance-<orderId>`.
pub(crate) fn client_id(text: &str, order_id: u64) -> ClientOrderId {
    ClientOrderId::new(text)
        .or_else(|_| ClientOrderId::new(format!("binance-{order_id}")))
        .unwrap_or_else(|_| {
            ClientOrderId::derive(
                &Symbol::new("binance"),
                &tradegraph_core::order::DecisionId::new(order_id.to_string()),
                tradegraph_core::order::Leg::Other(0),
            )
        })
}

/// Our request for an order the venue describes (an order placed by hand or before a crash).
#[allow(clippy::too_many_arguments)]
pub(crate) fn request_of(
    symbol: &Symbol,
    client: ClientOrderId,
    side_text: &str,
    kind: &str,
    quantity: Decimal,
    price: Decimal,
    stop: Decimal,
    trailing: Option<u32>,
    reference: Decimal,
    tif: &str,
) -> OrderRequest {
    let kind = match kind {
        "MARKET" => OrderKind::Market,
        "STOP_LOSS" | "STOP_LOSS_LIMIT" if stop.is_zero() => OrderKind::TrailingStop {
            distance: (reference * Decimal::from(trailing.unwrap_or(0)) / Decimal::from(10_000))
                .normalize(),
        },
        "STOP_LOSS" | "STOP_LOSS_LIMIT" => OrderKind::Stop { trigger: stop },
        "TAKE_PROFIT" => OrderKind::Limit { price: stop },
        _ => OrderKind::Limit { price },
    };
    let mut request = OrderRequest::new(client, symbol.clone(), side(side_text), quantity, kind);
    request.time_in_force = match tif {
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        _ => TimeInForce::Gtc,
    };
    request
}

use crate::metrics::BINANCE_UNVALUED_FEES_TOTAL as UNVALUED_FEES;

/// Whether the first unvalued fee was logged as an error (later ones are warnings).
static UNVALUED_LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What a venue's numbers come to overflows a decimal: `what`, named with its values.
pub(crate) fn overflows(what: impl std::fmt::Display) -> VenueReason {
    VenueReason::Other {
        code: "overflow".into(),
        message: format!("{what} overflows a decimal"),
    }
}

/// Values fees in the quote asset: quote as is, base at the fill price, another asset through
/// `prices` (0 with a warning when it has none; the fee is logged in its own terms). A value
/// that overflows a decimal is an error naming the fee.
///
/// A commission in the base asset is also [`fee_in_base`]: the position gets that much less.
pub(crate) fn fee_value(
    rules: &SymbolRules,
    prices: &HashMap<String, Decimal>,
    commission: Decimal,
    asset: &str,
    fill_price: Decimal,
) -> Result<Decimal, VenueReason> {
    if commission.is_zero() || asset.is_empty() || asset == rules.quote_asset {
        return Ok(commission);
    }
    let valued = |price: Decimal| {
        commission.checked_mul(price).ok_or_else(|| {
            overflows(format_args!(
                "a fee of {commission} {asset} at {price} {}",
                rules.quote_asset
            ))
        })
    };
    if asset == rules.base_asset {
        return valued(fill_price);
    }
    match prices.get(asset) {
        Some(price) => valued(*price),
        None => {
            metrics::counter!(UNVALUED_FEES, "asset" => asset.to_owned()).increment(1);
            if !UNVALUED_LOGGED.swap(true, std::sync::atomic::Ordering::AcqRel) {
                tracing::error!(fee = %commission, asset, "a fee was charged in an asset without a known price: booked as 0 {}; set fee_asset_prices (or the broker's fee asset price) to value it; further such fees are counted in {UNVALUED_FEES} and logged as warnings", rules.quote_asset);
            } else {
                tracing::warn!(fee = %commission, asset, "a fee in an asset without a known price: booked as 0 {}", rules.quote_asset);
            }
            Ok(Decimal::ZERO)
        }
    }
}

impl WireOrder {
    pub(crate) fn request(&self, symbol: &Symbol, reference: Decimal) -> OrderRequest {
        let client = self
            .orig_client_order_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.client_order_id);
        request_of(
            symbol,
            client_id(client, self.order_id),
            &self.side,
            &self.kind,
            self.orig_qty,
            self.price,
            self.stop_price,
            self.trailing_delta,
            reference,
            &self.time_in_force,
        )
    }

    /// The order as the venue describes it, on `request` (ours when tracked).
    pub(crate) fn to_order(&self, request: OrderRequest) -> Order {
        let at = Timestamp::from_millis(self.time.or(self.transact_time).unwrap_or(0));
        let mut order = Order::new(OrderId::new(self.order_id.to_string()), request, at);
        order.status = status(&self.status);
        order.filled_quantity = self.executed_qty;
        if !self.executed_qty.is_zero() {
            order.average_fill_price = self
                .cummulative_quote_qty
                .checked_div(self.executed_qty)
                .map(|p| p.normalize());
        }
        if !self.stop_price.is_zero() {
            order.trigger_price = Some(self.stop_price);
        }
        order.updated_at =
            Timestamp::from_millis(self.update_time.or(self.transact_time).unwrap_or(0));
        order
    }
}

impl ExecutionReport {
    /// The client id of the order the event is about (a cancel's event carries the cancel's
    /// own id in `c` and the order's in `C`).
    pub(crate) fn order_client_id(&self) -> ClientOrderId {
        let id = match self.orig_client_id.as_deref() {
            Some(orig) if !orig.is_empty() => orig,
            _ => &self.client_id,
        };
        client_id(id, self.order_id)
    }

    /// The event as an update for the book; `request` is ours when tracked.
    pub(crate) fn to_update(
        &self,
        request: OrderRequest,
        rules: &SymbolRules,
        prices: &HashMap<String, Decimal>,
    ) -> Result<VenueUpdate, VenueReason> {
        let traded = self.execution == "TRADE" && self.trade_id >= 0;
        let fee = if traded {
            fee_value(
                rules,
                prices,
                self.commission,
                self.commission_asset.as_deref().unwrap_or(""),
                self.last_price,
            )?
        } else {
            Decimal::ZERO
        };
        let trade = traded.then(|| VenueTrade {
            trade_id: self.trade_id.to_string(),
            quantity: self.last_qty,
            price: self.last_price,
            fee,
            fee_in_asset: fee_in_base(
                rules,
                self.commission,
                self.commission_asset.as_deref().unwrap_or(""),
            ),
            liquidity: if self.maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            ts: Timestamp::from_millis(self.trade_time),
        });
        let reason = match self.execution.as_str() {
            "REJECTED" => Some(format!("rejected by binance: {}", self.reject_reason)),
            "CANCELED" => Some("cancelled at the venue".to_owned()),
            "EXPIRED" | "TRADE_PREVENTION" => Some(format!(
                "expired at the venue ({})",
                self.execution.to_ascii_lowercase()
            )),
            _ => None,
        };
        Ok(VenueUpdate {
            request,
            order_id: OrderId::new(self.order_id.to_string()),
            status: status(&self.status),
            trade,
            reason,
            at: Timestamp::from_millis(self.event_time),
        })
    }
}

/// The part of a commission charged in the base asset itself (BTC on a buy of BTCUSDT, by
/// default): the position holds that much less than the trade's quantity.
pub(crate) fn fee_in_base(rules: &SymbolRules, commission: Decimal, asset: &str) -> Decimal {
    if asset == rules.base_asset {
        commission.max(Decimal::ZERO)
    } else {
        Decimal::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_whose_value_overflows_is_an_error_naming_it() {
        let rules = super::super::filters::tests::btc();
        let prices = HashMap::from([("BNB".to_owned(), Decimal::MAX)]);
        let err = fee_value(&rules, &prices, Decimal::TWO, "BNB", Decimal::ONE).unwrap_err();
        assert!(err.to_string().contains("a fee of 2 BNB"), "{err}");
        let err = fee_value(&rules, &prices, Decimal::MAX, "BTC", Decimal::TWO).unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
        assert_eq!(
            fee_value(&rules, &prices, Decimal::ONE, "BTC", Decimal::TEN),
            Ok(Decimal::TEN)
        );
    }

    #[test]
    fn a_status_binance_may_add_later_is_never_terminal() {
        for text in ["PENDING_NEW", "NEW", "SOMETHING_NEW", ""] {
            assert!(!status(text).is_terminal(), "{text:?}");
        }
        assert_eq!(status("EXPIRED"), OrderStatus::Expired);
        assert_eq!(status("EXPIRED_IN_MATCH"), OrderStatus::Expired);
        assert_eq!(status("FILLED"), OrderStatus::Filled);
    }
}
