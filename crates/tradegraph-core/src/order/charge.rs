//! The parts of a fill's fee: brokerage, taxes and exchange charges, each of a known kind.

use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What one part of a fee pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChargeKind {
    /// A venue's trading fee on the notional (Binance's maker or taker commission).
    Commission,
    /// The broker's fee per executed order (Zerodha: 0.03% or ₹20, whichever is lower).
    Brokerage,
    /// Securities transaction tax (India, on the sell side of futures).
    Stt,
    /// The exchange's transaction charges on the turnover.
    ExchangeTransaction,
    /// The market regulator's turnover fee (SEBI, per crore).
    SebiFee,
    /// Stamp duty (India, on the buy side).
    StampDuty,
    /// Goods and services tax on the broker's and exchange's charges.
    Gst,
}

impl ChargeKind {
    /// Every kind, in the order a charge sheet lists them.
    pub const ALL: [ChargeKind; 7] = [
        Self::Commission,
        Self::Brokerage,
        Self::Stt,
        Self::ExchangeTransaction,
        Self::SebiFee,
        Self::StampDuty,
        Self::Gst,
    ];

    /// The kind's name in files and reports: `commission`, `brokerage`, `stt`,
    /// `exchange_transaction`, `sebi_fee`, `stamp_duty`, `gst`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commission => "commission",
            Self::Brokerage => "brokerage",
            Self::Stt => "stt",
            Self::ExchangeTransaction => "exchange_transaction",
            Self::SebiFee => "sebi_fee",
            Self::StampDuty => "stamp_duty",
            Self::Gst => "gst",
        }
    }
}

impl fmt::Display for ChargeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One part of a fill's fee.
///
/// ```
/// use tradegraph_core::order::{Charge, ChargeKind};
/// use tradegraph_core::Decimal;
/// let stt = Charge::new(ChargeKind::Stt, Decimal::from(12));
/// assert_eq!(stt.to_string(), "stt 12");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// What it pays for.
    pub kind: ChargeKind,
    /// How much, in the quote currency, not negative.
    pub amount: Money,
}

impl Charge {
    /// A charge of `amount` for `kind`.
    pub fn new(kind: ChargeKind, amount: Money) -> Self {
        Self { kind, amount }
    }
}

impl fmt::Display for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.amount)
    }
}
