//! Positions and the account: what is held, what it cost, what it is worth.
//!
//! - [`Position`]: one instrument, signed quantity, average-cost basis, realized and unrealized
//!   P&L.
//! - [`Portfolio`]: the ledger that books [`Fill`](crate::order::Fill)s and marks into cash and
//!   positions, and keeps the trading day's starting equity for the daily loss limit.
//! - [`Account`]: a snapshot of it (cash, equity, P&L, fees, exposure, positions), which brokers
//!   return and the [risk guard](crate::risk) reads.
//!
//! Everything is an exact decimal, and the books reconcile exactly:
//! `equity == initial cash + realized + unrealized − fees`.

mod account;
mod holding;
mod portfolio;

pub use account::Account;
pub use holding::Position;
pub use portfolio::Portfolio;

#[cfg(test)]
mod tests;
