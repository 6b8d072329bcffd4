//! A snapshot of an account: what the risk guard and the agents read.

use super::Position;
use crate::money::{pct, Money};
use crate::{Currency, Decimal, Symbol, Timestamp};
use serde::{Deserialize, Serialize};

/// The state of an account at one moment: cash, equity, P&L, fees, exposure, the trading day's
/// starting equity and the open positions.
///
/// Brokers return it ([`Portfolio::snapshot`](super::Portfolio::snapshot) for the paper broker);
/// tests and embedders can build one by hand ([`Account::flat`]).
///
/// ```
/// use tradegraph_core::position::Account;
/// use tradegraph_core::{Currency, Decimal, Timestamp};
/// let mut account = Account::flat(Currency::Inr, Decimal::from(1_000_000), Timestamp::EPOCH);
/// account.equity = Decimal::from(985_000);
/// assert_eq!(account.daily_pnl(), Decimal::from(-15_000));
/// assert_eq!(account.daily_loss_pct(), Some(Decimal::new(15, 1))); // 1.5%
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// When the snapshot was taken.
    pub as_of: Timestamp,
    /// The currency of every amount.
    pub currency: Currency,
    /// Cash at the start.
    pub initial_cash: Money,
    /// Cash now.
    pub cash: Money,
    /// `cash + Σ quantity × mark`.
    pub equity: Money,
    /// Realized P&L before fees.
    pub realized_pnl: Money,
    /// Unrealized P&L of the open positions.
    pub unrealized_pnl: Money,
    /// Fees paid.
    pub fees_paid: Money,
    /// `Σ |quantity × mark|`.
    pub gross_exposure: Money,
    /// `Σ quantity × mark`.
    pub net_exposure: Money,
    /// Equity when the current trading day started (the base of the daily loss limit).
    pub day_start_equity: Money,
    /// When the current trading day started (`None` before the first price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_started_at: Option<Timestamp>,
    /// Open positions.
    pub positions: Vec<Position>,
}

impl Account {
    /// An account with only cash.
    pub fn flat(currency: Currency, cash: Money, as_of: Timestamp) -> Self {
        Self {
            as_of,
            currency,
            initial_cash: cash,
            cash,
            equity: cash,
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees_paid: Money::ZERO,
            gross_exposure: Money::ZERO,
            net_exposure: Money::ZERO,
            day_start_equity: cash,
            day_started_at: None,
            positions: Vec::new(),
        }
    }

    /// The open position in `symbol`.
    pub fn position(&self, symbol: &Symbol) -> Option<&Position> {
        self.positions
            .iter()
            .find(|p| &p.symbol == symbol && !p.is_flat())
    }

    /// How many positions are open.
    pub fn open_positions(&self) -> usize {
        self.positions.iter().filter(|p| !p.is_flat()).count()
    }

    /// Equity now minus equity at the start of the day.
    pub fn daily_pnl(&self) -> Money {
        self.equity.saturating_sub(self.day_start_equity)
    }

    /// Today's loss as a percent of the day's starting equity (positive for a loss, negative
    /// for a gain); `None` when the starting equity is not positive.
    pub fn daily_loss_pct(&self) -> Option<Decimal> {
        if self.day_start_equity <= Money::ZERO {
            return None;
        }
        pct(
            self.day_start_equity.saturating_sub(self.equity),
            self.day_start_equity,
        )
    }

    /// Gross exposure as a percent of equity; `None` when equity is not positive.
    pub fn exposure_pct(&self) -> Option<Decimal> {
        if self.equity <= Money::ZERO {
            return None;
        }
        pct(self.gross_exposure, self.equity)
    }

    /// `equity − (initial cash + realized + unrealized − fees)`: zero when the books reconcile.
    pub fn reconciliation_gap(&self) -> Money {
        let expected = self
            .initial_cash
            .saturating_add(self.realized_pnl)
            .saturating_add(self.unrealized_pnl)
            .saturating_sub(self.fees_paid);
        self.equity.saturating_sub(expected)
    }
}
