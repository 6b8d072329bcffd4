//! Why a broker refuses an order or an amendment, typed (as the guard's findings and the
//! venue's [`VenueReason`] are); `Display` gives the message an order's `reason` carries.

use crate::live::VenueReason;
use std::fmt;
use tradegraph_core::order::{OrderKind, OrderStatus};
use tradegraph_core::{Decimal, Price, Quantity, Symbol, Timestamp};

/// Which price of an order a refusal is about.
///
/// ```
/// use tradegraph_broker::PriceField;
///
/// assert_eq!(PriceField::StopLoss.to_string(), "stop-loss");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PriceField {
    /// A limit order's price.
    Limit,
    /// A stop order's trigger.
    Trigger,
    /// An attached stop-loss.
    StopLoss,
    /// An attached take-profit.
    TakeProfit,
    /// A trailing stop's distance.
    Trailing,
}

impl fmt::Display for PriceField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Limit => "limit price",
            Self::Trigger => "stop trigger",
            Self::StopLoss => "stop-loss",
            Self::TakeProfit => "take-profit",
            Self::Trailing => "trailing distance",
        })
    }
}

/// Where an exit level must be against the entry price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Below it (a long's stop-loss, a short's take-profit).
    Below,
    /// Above it.
    Above,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Below => "below",
            Self::Above => "above",
        })
    }
}

/// Why the paper broker refuses an order, as a venue would: the order comes back `Rejected`
/// with this as its reason.
///
/// ```
/// use tradegraph_broker::OrderRefusal;
/// use tradegraph_core::Decimal;
///
/// let r = OrderRefusal::OffLotGrid { quantity: Decimal::new(15, 6), lot: Decimal::new(1, 5) };
/// assert_eq!(r.to_string(), "quantity 0.000015 is not a multiple of the lot size 0.00001");
/// assert_eq!(r.label(), "lot_size");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderRefusal {
    /// A quantity of zero or less.
    QuantityNotPositive(Quantity),
    /// A quantity off the lot grid.
    OffLotGrid {
        /// The quantity asked for.
        quantity: Quantity,
        /// The instrument's lot size.
        lot: Quantity,
    },
    /// A price (limit, trigger, distance, exit level) of zero or less.
    PriceNotPositive {
        /// Which price.
        what: PriceField,
        /// The price.
        price: Price,
    },
    /// A price off the tick grid.
    OffTickGrid {
        /// Which price.
        what: PriceField,
        /// The price.
        price: Price,
        /// The instrument's tick size.
        tick: Price,
    },
    /// No price seen yet for the instrument.
    NoPrice(Symbol),
    /// The market is closed.
    MarketClosed(Timestamp),
    /// Inside the square-off window before the close, an order that does not reduce.
    SquareOff,
    /// A reduce-only order with no position to reduce.
    NothingToReduce,
    /// IOC or FOK on an order that is neither market nor limit.
    TimeInForce,
    /// A stop that the market has already passed.
    StopWouldTrigger {
        /// The trigger.
        trigger: Price,
        /// The market price now.
        price: Price,
    },
    /// Exits attached to a reduce-only order.
    ExitsOnReduceOnly,
    /// An exit level (stop-loss, take-profit, trailing distance) that is not a valid price.
    BadExit(Box<OrderRefusal>),
    /// An exit level on the wrong side of the entry.
    ExitOnWrongSide {
        /// [`PriceField::StopLoss`] or [`PriceField::TakeProfit`].
        what: PriceField,
        /// The level.
        level: Price,
        /// Where it must be.
        side: Placement,
        /// The entry price.
        reference: Price,
    },
    /// The order would take gross exposure past equity × leverage.
    Leverage {
        /// The exposure after the order.
        exposure: Decimal,
        /// The equity now.
        equity: Decimal,
        /// What the equity allows.
        allowed: Decimal,
        /// The broker's leverage.
        leverage: Decimal,
    },
    /// The order's figures overflow the decimal range.
    Overflow,
}

impl OrderRefusal {
    /// The reason's metric label (`tradegraph_broker_refusals_total{reason}`): a fixed word.
    pub fn label(&self) -> &'static str {
        match self {
            Self::QuantityNotPositive(_) => "quantity",
            Self::OffLotGrid { .. } => "lot_size",
            Self::PriceNotPositive { .. } | Self::OffTickGrid { .. } => "price_grid",
            Self::NoPrice(_) => "no_price",
            Self::MarketClosed(_) => "market_closed",
            Self::SquareOff => "square_off",
            Self::NothingToReduce => "reduce_only",
            Self::TimeInForce => "time_in_force",
            Self::StopWouldTrigger { .. } => "stop_would_trigger",
            Self::ExitsOnReduceOnly | Self::BadExit(_) | Self::ExitOnWrongSide { .. } => "exits",
            Self::Leverage { .. } | Self::Overflow => "leverage",
        }
    }
}

impl fmt::Display for OrderRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QuantityNotPositive(q) => write!(f, "quantity {q} is not positive"),
            Self::OffLotGrid { quantity, lot } => {
                write!(
                    f,
                    "quantity {quantity} is not a multiple of the lot size {lot}"
                )
            }
            Self::PriceNotPositive { what, price } => write!(f, "{what} {price} is not positive"),
            Self::OffTickGrid { what, price, tick } => {
                write!(
                    f,
                    "{what} {price} is not a multiple of the tick size {tick}"
                )
            }
            Self::NoPrice(symbol) => write!(
                f,
                "no price yet for {symbol}: feed the broker a tick, trade or candle first"
            ),
            Self::MarketClosed(at) => write!(f, "the market is closed at {at}"),
            Self::SquareOff => {
                f.write_str("inside the square-off window before the close: only reducing orders")
            }
            Self::NothingToReduce => f.write_str("reduce-only, but there is no position to reduce"),
            Self::TimeInForce => f.write_str("IOC and FOK apply to market and limit orders"),
            Self::StopWouldTrigger { trigger, price } => {
                write!(f, "stop {trigger} would trigger immediately at {price}")
            }
            Self::ExitsOnReduceOnly => {
                f.write_str("exits cannot be attached to a reduce-only order")
            }
            Self::BadExit(problem) => problem.fmt(f),
            Self::ExitOnWrongSide {
                what,
                level,
                side,
                reference,
            } => write!(
                f,
                "{what} {level} must be {side} the entry price {reference}"
            ),
            Self::Leverage {
                exposure,
                equity,
                allowed,
                leverage,
            } => write!(
                f,
                "exposure would be {} but equity {} allows {} (leverage {leverage})",
                exposure.round_dp(2),
                equity.round_dp(2),
                allowed.round_dp(2),
            ),
            Self::Overflow => f.write_str("the order's figures overflow"),
        }
    }
}

/// Why a broker refuses to amend a working order (nothing changed).
///
/// ```
/// use tradegraph_broker::AmendRefusal;
/// use tradegraph_core::order::OrderStatus;
///
/// assert_eq!(AmendRefusal::NotWorking(OrderStatus::Filled).to_string(), "it is FILLED");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmendRefusal {
    /// The order is no longer working.
    NotWorking(OrderStatus),
    /// A new price that is not positive or off the tick grid.
    OffTickGrid {
        /// [`PriceField::Limit`] or [`PriceField::Trigger`].
        what: PriceField,
        /// The price.
        price: Price,
        /// The tick size.
        tick: Price,
    },
    /// A new quantity not above what has filled, or off the lot grid.
    Quantity {
        /// The new quantity.
        quantity: Quantity,
        /// What has filled.
        filled: Quantity,
        /// The lot size.
        lot: Quantity,
    },
    /// A price the order's kind does not take (a trigger for a limit order, ...).
    WrongPrice(OrderKind),
    /// The amended order would be refused as a new order.
    Order(OrderRefusal),
    /// An attached exit amended to cover more than the position.
    ExitTooLarge {
        /// The new quantity.
        quantity: Quantity,
        /// The position.
        held: Quantity,
    },
    /// A venue's rule for the instrument.
    Venue(VenueReason),
}

impl fmt::Display for AmendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotWorking(status) => write!(f, "it is {status}"),
            Self::OffTickGrid { what, price, tick } => write!(
                f,
                "the {} {price} must be positive and a multiple of the tick size {tick}",
                // An amendment's trigger is the order's own: "the trigger", not "the stop trigger".
                match what {
                    PriceField::Trigger => "trigger".to_owned(),
                    other => other.to_string(),
                }
            ),
            Self::Quantity {
                quantity,
                filled,
                lot,
            } => write!(
                f,
                "the quantity {quantity} must be above the {filled} already filled and a multiple of the lot size {lot}"
            ),
            Self::WrongPrice(kind) => write!(
                f,
                "a {kind} order takes {}",
                match kind {
                    OrderKind::Limit { .. } => "a new limit price, not a trigger",
                    OrderKind::Stop { .. } => "a new trigger, not a limit price",
                    _ => "no new price (only a new quantity)",
                }
            ),
            Self::Order(refusal) => refusal.fmt(f),
            Self::ExitTooLarge { quantity, held } => write!(
                f,
                "an exit of {quantity} would cover more than the position of {held}"
            ),
            Self::Venue(reason) => reason.fmt(f),
        }
    }
}

/// Why an order's intent could not be recorded before sending it (so it was not sent).
///
/// ```
/// use tradegraph_broker::IntentFailure;
///
/// let stale = IntentFailure::Stale { stored: 3, ours: 2 };
/// assert!(stale.to_string().starts_with("version 3 of this intent is stored, newer than ours (2)"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum IntentFailure {
    /// The intent store failed.
    Store(Box<dyn std::error::Error + Send + Sync>),
    /// A newer version of the intent is stored: another bot sends orders for the instrument.
    Stale {
        /// The stored version.
        stored: u64,
        /// Ours.
        ours: u64,
    },
    /// Another instance of the bot took over its claim on the instrument: it sends the
    /// orders now (the one it names).
    AnotherInstance {
        /// The instance holding the claim, as it describes itself.
        holder: String,
    },
}

impl fmt::Display for IntentFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => e.fmt(f),
            Self::Stale { stored, ours } => write!(
                f,
                "version {stored} of this intent is stored, newer than ours ({ours}): another bot sends orders for this instrument"
            ),
            Self::AnotherInstance { holder } => write!(
                f,
                "another instance of this bot took over its claim on the instrument ({holder}): this one sends nothing more"
            ),
        }
    }
}

impl std::error::Error for IntentFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => e.source(),
            Self::Stale { .. } | Self::AnotherInstance { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_label_and_todays_text() {
        let leverage = OrderRefusal::Leverage {
            exposure: Decimal::new(1_234_567, 3),
            equity: Decimal::from(1_000),
            allowed: Decimal::from(1_000),
            leverage: Decimal::ONE,
        };
        assert_eq!(
            leverage.to_string(),
            "exposure would be 1234.57 but equity 1000 allows 1000 (leverage 1)"
        );
        assert_eq!(leverage.label(), "leverage");
        assert_eq!(OrderRefusal::SquareOff.label(), "square_off");
        assert_eq!(OrderRefusal::NothingToReduce.label(), "reduce_only");
        let closed = OrderRefusal::MarketClosed(Timestamp::EPOCH);
        assert!(closed.to_string().starts_with("the market is closed at "));
        assert_eq!(closed.label(), "market_closed");
    }

    /// A store error caused by a deeper one, as a driver's errors are.
    #[derive(Debug)]
    struct StoreDown(std::io::Error);

    impl fmt::Display for StoreDown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the intent store is down")
        }
    }

    impl std::error::Error for StoreDown {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_journal_failure_keeps_the_store_errors_chain() {
        use std::error::Error as _;
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = crate::BrokerError::Journal {
            client_id: tradegraph_core::order::ClientOrderId::new("tg-1").unwrap(),
            reason: IntentFailure::Store(Box::new(StoreDown(cause))),
        };
        let reason = err.source().expect("the intent failure is the source");
        assert_eq!(reason.to_string(), "the intent store is down");
        let deeper = reason
            .source()
            .expect("and the store error's own cause follows");
        assert_eq!(deeper.to_string(), "refused");
        let stale = IntentFailure::Stale { stored: 3, ours: 2 };
        assert!(std::error::Error::source(&stale).is_none());
    }

    #[test]
    fn prices_and_placements_read_as_before() {
        let r = OrderRefusal::ExitOnWrongSide {
            what: PriceField::StopLoss,
            level: Decimal::from(105),
            side: Placement::Below,
            reference: Decimal::from(100),
        };
        assert_eq!(
            r.to_string(),
            "stop-loss 105 must be below the entry price 100"
        );
        let tick = Decimal::new(5, 2);
        let off = OrderRefusal::OffTickGrid {
            what: PriceField::Trigger,
            price: Decimal::new(1001, 2),
            tick,
        };
        assert_eq!(
            off.to_string(),
            "stop trigger 10.01 is not a multiple of the tick size 0.05"
        );
        let amend = AmendRefusal::OffTickGrid {
            what: PriceField::Trigger,
            price: Decimal::new(1001, 2),
            tick,
        };
        assert_eq!(
            amend.to_string(),
            "the trigger 10.01 must be positive and a multiple of the tick size 0.05"
        );
        let limit = AmendRefusal::OffTickGrid {
            what: PriceField::Limit,
            price: Decimal::new(1001, 2),
            tick,
        };
        assert!(limit.to_string().starts_with("the limit price 10.01 "));
        assert_eq!(PriceField::TakeProfit.to_string(), "take-profit");
        assert_eq!(PriceField::Trailing.to_string(), "trailing distance");
        assert_eq!(Placement::Above.to_string(), "above");
    }

    #[test]
    fn an_amendment_refused_as_an_order_says_why_the_order_would_be() {
        let r = AmendRefusal::Order(OrderRefusal::TimeInForce);
        assert_eq!(
            r.to_string(),
            "IOC and FOK apply to market and limit orders"
        );
        let wrong = AmendRefusal::WrongPrice(OrderKind::Market);
        assert!(wrong
            .to_string()
            .ends_with("no new price (only a new quantity)"));
    }
}
