//! Round trips: `trades.csv`'s rows, each closed trade of the ledger.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradegraph_agents::learning::TradeOutcome;
use tradegraph_core::market::Side;
use tradegraph_core::Timestamp;

/// One row of `trades.csv`: a round trip from flat to flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRow {
    /// The trade's id (its entry order's client id).
    pub trade_id: String,
    /// `BUY` (long) or `SELL` (short).
    pub side: Side,
    /// When the first entry fill happened.
    pub entry_time: Timestamp,
    /// Average entry price.
    pub entry_price: Decimal,
    /// When the last exit fill happened.
    pub exit_time: Timestamp,
    /// Average exit price.
    pub exit_price: Decimal,
    /// Quantity entered.
    pub quantity: Decimal,
    /// Net P&L, fees of both sides included.
    pub pnl: Decimal,
    /// Fees of the trade's fills.
    pub fees: Decimal,
}

/// The rows of `closed`, the ledger's trades in order, as the ledger measured them (quantity
/// entered, fees of their fills).
pub fn round_trips(closed: &[TradeOutcome]) -> Vec<TradeRow> {
    closed
        .iter()
        .map(|t| TradeRow {
            trade_id: t.trade_id.clone(),
            side: t.side,
            entry_time: t.opened_at,
            entry_price: t.entry_price,
            exit_time: t.closed_at,
            exit_price: t.exit_price,
            quantity: t.quantity,
            pnl: t.pnl,
            fees: t.fees,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_the_ledgers_trade() {
        let trade = TradeOutcome {
            trade_id: "t1".into(),
            instrument: "BTCUSDT".into(),
            side: Side::Sell,
            opened_at: Timestamp::from_millis(0),
            closed_at: Timestamp::from_millis(60_000),
            entry_price: Decimal::from(100),
            exit_price: Decimal::from(90),
            pnl: Decimal::new(195, 1),
            quantity: Decimal::TWO,
            fees: Decimal::new(5, 1),
            return_pct: 0.2,
            signals: Default::default(),
            situation: Default::default(),
            prompts: Default::default(),
        };
        let rows = round_trips(&[trade]);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].quantity, rows[0].fees),
            (Decimal::TWO, Decimal::new(5, 1))
        );
        assert_eq!(rows[0].side, Side::Sell);
        assert_eq!(rows[0].pnl, Decimal::new(195, 1));
    }
}
