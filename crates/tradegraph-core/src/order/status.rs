//! The order lifecycle.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an order is in its life.
///
/// ```text
/// Pending ──> Open ──> PartiallyFilled ──> Filled
///    │          │            │
///    │          └────────────┴──> Cancelled | Expired
///    └──> Rejected | Filled | PartiallyFilled | Cancelled | Expired
/// ```
///
/// `Filled`, `Cancelled`, `Rejected` and `Expired` are terminal.
///
/// ```
/// use tradegraph_core::order::OrderStatus;
/// assert!(OrderStatus::Open.can_become(OrderStatus::Filled));
/// assert!(!OrderStatus::Filled.can_become(OrderStatus::Cancelled));
/// assert!(OrderStatus::Rejected.is_terminal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OrderStatus {
    /// Sent, not yet acknowledged by the broker.
    Pending,
    /// Accepted and working (a resting limit, a stop waiting for its trigger).
    Open,
    /// Some of it has filled; the rest is working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled before filling completely (by us, by the broker, or as the other side of an
    /// attached exit that filled).
    Cancelled,
    /// Refused; the reason is on the order.
    Rejected,
    /// Its time in force ran out.
    Expired,
}

impl OrderStatus {
    /// Whether nothing more can happen to it.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Cancelled | Self::Rejected | Self::Expired
        )
    }

    /// Whether it is still working at the broker.
    pub const fn is_working(self) -> bool {
        matches!(self, Self::Pending | Self::Open | Self::PartiallyFilled)
    }

    /// Whether the lifecycle allows going from `self` to `next`.
    pub const fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Open | Rejected)
                | (
                    Pending | Open | PartiallyFilled,
                    PartiallyFilled | Filled | Cancelled | Expired
                )
        )
    }

    /// The upper-case name (`PARTIALLY_FILLED`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Open => "OPEN",
            Self::PartiallyFilled => "PARTIALLY_FILLED",
            Self::Filled => "FILLED",
            Self::Cancelled => "CANCELLED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    #[test]
    fn terminal_states_go_nowhere() {
        let all = [
            Pending,
            Open,
            PartiallyFilled,
            Filled,
            Cancelled,
            Rejected,
            Expired,
        ];
        for from in all {
            for to in all {
                if from.is_terminal() {
                    assert!(!from.can_become(to), "{from} -> {to}");
                }
            }
            assert_eq!(from.is_terminal(), !from.is_working());
        }
        assert!(
            !Open.can_become(Rejected),
            "a working order is cancelled, not rejected"
        );
        assert!(!Open.can_become(Pending));
        assert!(PartiallyFilled.can_become(PartiallyFilled));
        let _: OrderStatus = Pending;
    }
}
