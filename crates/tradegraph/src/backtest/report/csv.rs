//! `equity.csv` (timestamp, equity, drawdown) and `trades.csv` (one row per round trip).

use super::ReportError;
use crate::engine::EquityPoint;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tradegraph_core::Timestamp;

/// One row of `equity.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityRow {
    /// When (every one-minute bar).
    pub timestamp: Timestamp,
    /// Equity then: cash plus open positions at the mark.
    pub equity: Decimal,
    /// How far equity then was below the highest equity of the run so far, in percent (0 at a
    /// peak).
    pub drawdown_pct: f64,
}

/// The rows of the engine's equity curve `points`, with the drawdown the engine recorded at
/// each (percent below the running peak).
///
/// ```
/// use tradegraph::backtest::report::equity_rows;
/// use tradegraph::core::{Decimal, Timestamp};
/// use tradegraph::engine::EquityPoint;
/// let points = [EquityPoint { ts: Timestamp::from_millis(0), equity: Decimal::from(90), drawdown_pct: 25.0 }];
/// assert_eq!(equity_rows(&points)[0].drawdown_pct, 25.0);
/// ```
pub fn equity_rows(points: &[EquityPoint]) -> Vec<EquityRow> {
    points
        .iter()
        .map(|p| EquityRow {
            timestamp: p.ts,
            equity: p.equity,
            drawdown_pct: p.drawdown_pct,
        })
        .collect()
}

/// Writes `rows` as CSV to `path`, a header line first: `header` (the rows' fields), also
/// when there is no row (a run without a closed trade still writes a `trades.csv` that says
/// its columns).
pub(super) fn write<T: Serialize>(
    path: &Path,
    header: &str,
    rows: &[T],
) -> Result<(), ReportError> {
    let csv_error = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    if rows.is_empty() {
        writer.write_record(header.split(',')).map_err(csv_error)?;
    }
    for row in rows {
        writer.serialize(row).map_err(csv_error)?;
    }
    writer
        .flush()
        .map_err(|e| ReportError::io(path, "writing the file failed", e))
}

/// The header of `trades.csv`, for docs and tests.
pub const TRADES_HEADER: &str =
    "trade_id,side,entry_time,entry_price,exit_time,exit_price,quantity,pnl,fees";

/// The header of `equity.csv`, for docs and tests.
pub const EQUITY_HEADER: &str = "timestamp,equity,drawdown_pct";

#[cfg(test)]
mod tests {
    use super::super::trades::TradeRow;
    use super::*;

    #[test]
    fn the_trades_header_is_the_rows_fields() {
        let dir = std::env::temp_dir().join(format!("tg-report-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("trades.csv");
        let row = TradeRow {
            trade_id: "t1".into(),
            side: tradegraph_core::Side::Buy,
            entry_time: Timestamp::from_millis(0),
            entry_price: Decimal::from(100),
            exit_time: Timestamp::from_millis(60_000),
            exit_price: Decimal::from(101),
            quantity: Decimal::ONE,
            pnl: Decimal::new(9, 1),
            fees: Decimal::new(1, 1),
        };
        write(&path, TRADES_HEADER, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("{TRADES_HEADER}\nt1,BUY,1970-01-01T00:00:00Z,100,1970-01-01T00:01:00Z,101,1,0.9,0.1\n")
        );
        let equity = dir.join("equity.csv");
        let point = EquityRow {
            timestamp: Timestamp::from_millis(0),
            equity: Decimal::from(100),
            drawdown_pct: 0.5,
        };
        write(&equity, EQUITY_HEADER, &[point]).unwrap();
        let text = std::fs::read_to_string(&equity).unwrap();
        assert_eq!(
            text,
            format!("{EQUITY_HEADER}\n1970-01-01T00:00:00Z,100,0.5\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A run without a closed trade (or a period without bars) still writes the columns.
    #[test]
    fn files_without_rows_still_say_their_columns() {
        let dir = std::env::temp_dir().join(format!("tg-report-csv-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let trades = dir.join("trades.csv");
        write::<TradeRow>(&trades, TRADES_HEADER, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&trades).unwrap(),
            format!("{TRADES_HEADER}\n")
        );
        let equity = dir.join("equity.csv");
        write::<EquityRow>(&equity, EQUITY_HEADER, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&equity).unwrap(),
            format!("{EQUITY_HEADER}\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
