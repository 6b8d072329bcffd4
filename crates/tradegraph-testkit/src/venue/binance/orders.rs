//! The venue's orders and their matching against the last price.

use rust_decimal::Decimal;

/// A side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// An order at the venue.
#[derive(Debug, Clone)]
pub(crate) struct VenueOrder {
    pub(crate) id: u64,
    pub(crate) client_id: String,
    pub(crate) side: Side,
    /// `MARKET`, `LIMIT`, `LIMIT_MAKER`, `STOP_LOSS`, `STOP_LOSS_LIMIT`, `TAKE_PROFIT`,
    /// `TAKE_PROFIT_LIMIT`.
    pub(crate) kind: String,
    pub(crate) time_in_force: String,
    pub(crate) quantity: Decimal,
    pub(crate) price: Decimal,
    pub(crate) stop_price: Decimal,
    /// In BIPS; 0 when not trailing.
    pub(crate) trailing_delta: u32,
    /// The best price seen while trailing (the high for a sell, the low for a buy).
    pub(crate) trail_best: Decimal,
    /// Whether a stop has triggered (a stop-limit then rests as a limit).
    pub(crate) triggered: bool,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`.
    pub(crate) status: &'static str,
    pub(crate) executed: Decimal,
    pub(crate) cum_quote: Decimal,
    pub(crate) order_list_id: i64,
    pub(crate) time: i64,
    pub(crate) update_time: i64,
}

impl VenueOrder {
    pub(crate) fn is_working(&self) -> bool {
        matches!(self.status, "NEW" | "PARTIALLY_FILLED")
    }

    pub(crate) fn remaining(&self) -> Decimal {
        self.quantity - self.executed
    }

    fn is_stop(&self) -> bool {
        self.kind.starts_with("STOP_LOSS") || self.kind.starts_with("TAKE_PROFIT")
    }

    /// Whether a stop (or take-profit) would trigger at `last`.
    pub(crate) fn stop_reached(&self, last: Decimal) -> bool {
        if self.trailing_delta > 0 && self.stop_price.is_zero() {
            let bips = Decimal::from(self.trailing_delta) / Decimal::from(10_000);
            return match self.side {
                Side::Sell => last <= self.trail_best * (Decimal::ONE - bips),
                Side::Buy => last >= self.trail_best * (Decimal::ONE + bips),
            };
        }
        let loss = self.kind.starts_with("STOP_LOSS");
        match (self.side, loss) {
            (Side::Sell, true) | (Side::Buy, false) => last <= self.stop_price,
            (Side::Buy, true) | (Side::Sell, false) => last >= self.stop_price,
        }
    }

    /// The price this order fills at when the last price is `last`, if it fills.
    pub(crate) fn fill_price(&mut self, last: Decimal) -> Option<(Decimal, bool)> {
        if !self.is_working() {
            return None;
        }
        if self.is_stop() && !self.triggered {
            if self.trailing_delta > 0 && self.stop_price.is_zero() {
                self.trail_best = match self.side {
                    Side::Sell => self.trail_best.max(last),
                    Side::Buy if self.trail_best.is_zero() => last,
                    Side::Buy => self.trail_best.min(last),
                };
            }
            if !self.stop_reached(last) {
                return None;
            }
            self.triggered = true;
        }
        let limit = self.kind.ends_with("LIMIT") || self.kind == "LIMIT_MAKER";
        if !limit {
            return Some((last, false));
        }
        let crosses = match self.side {
            Side::Buy => last <= self.price,
            Side::Sell => last >= self.price,
        };
        // A resting limit fills at its own price, as the maker.
        crosses.then_some((self.price, true))
    }
}

/// One execution.
#[derive(Debug, Clone)]
pub(crate) struct VenueTrade {
    pub(crate) id: u64,
    pub(crate) order_id: u64,
    pub(crate) order_list_id: i64,
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) time: i64,
    pub(crate) is_buyer: bool,
    pub(crate) is_maker: bool,
}
