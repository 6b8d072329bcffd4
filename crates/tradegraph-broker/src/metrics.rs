//! The brokers' metrics, recorded through the [`metrics`] facade: nothing is kept when no
//! recorder is installed, and the application chooses the exporter (the `tradegraph` runtime
//! installs a Prometheus one).
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `tradegraph_broker_orders_total` | counter | `broker`, `side`, `kind`, `status` | orders reaching a status: `open` (accepted and working), `partially_filled`, `filled`, `cancelled`, `rejected`, `expired`; a market order counts once as `open` and once as `filled` |
//! | `tradegraph_broker_fills_total` | counter | `broker`, `side`, `liquidity` | fills (`liquidity` = `maker` or `taker`) |
//! | `tradegraph_broker_refusals_total` | counter | `broker`, `reason` | orders the broker refused, by reason: `quantity`, `lot_size`, `price_grid`, `no_price`, `market_closed`, `square_off`, `reduce_only`, `time_in_force`, `stop_would_trigger`, `exits`, `leverage` (paper), and a venue's typed reasons (`insufficient_balance`, `filter_failed`, `market_closed`, `other`) |
//! | `tradegraph_broker_binance_used_weight` | gauge | | Binance's request weight used in the current minute (`X-MBX-USED-WEIGHT-1M`) |
//! | `tradegraph_broker_binance_unvalued_fees_total` | counter | `asset` | Binance fees charged in an asset without a known price (BNB without `fee_asset_prices`), booked as 0 |
//!
//! Every label value is a fixed word: order and client ids, and the refusal's message, never
//! become labels.
//!
//! ```
//! use tradegraph_broker::metrics;
//! // Registers the descriptions and units with the installed recorder (none here: a no-op).
//! metrics::describe();
//! assert!(metrics::ALL.iter().any(|(name, _, labels)| {
//!     *name == metrics::ORDERS_TOTAL && labels.contains(&"status")
//! }));
//! ```

use metrics::{Label, Unit};
use tradegraph_core::order::{Fill, Liquidity, Order, OrderKind, OrderSide, OrderStatus};

/// Counter: orders reaching a status (`broker`, `side`, `kind`, `status`).
pub const ORDERS_TOTAL: &str = "tradegraph_broker_orders_total";
/// Counter: fills (`broker`, `side`, `liquidity`).
pub const FILLS_TOTAL: &str = "tradegraph_broker_fills_total";
/// Counter: orders refused, by reason (`broker`, `reason`).
pub const REFUSALS_TOTAL: &str = "tradegraph_broker_refusals_total";
/// Counter: fees Binance charged in an asset without a known price, booked as 0 (`asset`; the
/// amount is in the log line).
pub const BINANCE_UNVALUED_FEES_TOTAL: &str = "tradegraph_broker_binance_unvalued_fees_total";
/// Gauge: Binance's request weight used in the current minute.
pub const BINANCE_USED_WEIGHT: &str = "tradegraph_broker_binance_used_weight";

/// Every metric of this crate: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (
        ORDERS_TOTAL,
        "counter",
        &["broker", "side", "kind", "status"],
    ),
    (FILLS_TOTAL, "counter", &["broker", "side", "liquidity"]),
    (REFUSALS_TOTAL, "counter", &["broker", "reason"]),
    (BINANCE_USED_WEIGHT, "gauge", &[]),
    (BINANCE_UNVALUED_FEES_TOTAL, "counter", &["asset"]),
];

/// The `broker` label of the paper broker.
pub(crate) const PAPER: &str = "paper";

/// Registers every metric's description and unit with the installed recorder. Call it once
/// after installing the recorder; recording works without it.
pub fn describe() {
    metrics::describe_counter!(
        ORDERS_TOTAL,
        Unit::Count,
        "Orders reaching a status (open, partially_filled, filled, cancelled, rejected, expired)."
    );
    metrics::describe_counter!(FILLS_TOTAL, Unit::Count, "Fills, by side and liquidity.");
    metrics::describe_counter!(
        REFUSALS_TOTAL,
        Unit::Count,
        "Orders the broker refused, by reason."
    );
    metrics::describe_counter!(
        BINANCE_UNVALUED_FEES_TOTAL,
        Unit::Count,
        "Binance fees charged in an asset without a known price, booked as 0."
    );
    metrics::describe_gauge!(
        BINANCE_USED_WEIGHT,
        Unit::Count,
        "Binance request weight used in the current minute (X-MBX-USED-WEIGHT-1M)."
    );
}

fn side(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "buy",
        OrderSide::Sell => "sell",
    }
}

fn kind(kind: &OrderKind) -> &'static str {
    match kind {
        OrderKind::Market => "market",
        OrderKind::Limit { .. } => "limit",
        OrderKind::Stop { .. } => "stop",
        OrderKind::TrailingStop { .. } => "trailing_stop",
        _ => "other",
    }
}

fn status(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Open => "open",
        OrderStatus::PartiallyFilled => "partially_filled",
        OrderStatus::Filled => "filled",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Rejected => "rejected",
        OrderStatus::Expired => "expired",
        _ => "other",
    }
}

/// `broker`'s `order` reached its current status.
pub(crate) fn order_status(broker: &'static str, order: &Order) {
    let labels = vec![
        Label::from_static_parts("broker", broker),
        Label::from_static_parts("side", side(order.request.side)),
        Label::from_static_parts("kind", kind(&order.request.kind)),
        Label::from_static_parts("status", status(order.status)),
    ];
    metrics::counter!(ORDERS_TOTAL, labels).increment(1);
}

/// `broker` filled `fill`.
pub(crate) fn filled(broker: &'static str, fill: &Fill) {
    let liquidity = match fill.liquidity {
        Liquidity::Maker => "maker",
        Liquidity::Taker => "taker",
    };
    let labels = vec![
        Label::from_static_parts("broker", broker),
        Label::from_static_parts("side", side(fill.side)),
        Label::from_static_parts("liquidity", liquidity),
    ];
    metrics::counter!(FILLS_TOTAL, labels).increment(1);
}

/// `broker` refused an order for `reason` (a fixed word).
pub(crate) fn refused(broker: &'static str, reason: &'static str) {
    let labels = vec![
        Label::from_static_parts("broker", broker),
        Label::from_static_parts("reason", reason),
    ];
    metrics::counter!(REFUSALS_TOTAL, labels).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        tradegraph_testkit::assert_metric_names("tradegraph_broker_", ALL);
    }

    #[test]
    fn statuses_are_snake_case_words() {
        assert_eq!(status(OrderStatus::PartiallyFilled), "partially_filled");
        assert_eq!(kind(&OrderKind::Market), "market");
        assert_eq!(side(OrderSide::Sell), "sell");
    }
}
