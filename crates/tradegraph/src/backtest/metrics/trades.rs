//! The trade-based metrics: from the closed trades (the trade ledger) and the fills.

use crate::engine::EquityPoint;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tradegraph_agents::learning::TradeOutcome;
use tradegraph_core::order::Fill;

/// What the closed trades and the fills come to.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct TradeFigures {
    pub trades: u64,
    pub wins: u64,
    pub losses: u64,
    pub win_rate: Option<f64>,
    pub profit_factor: Option<f64>,
    pub expectancy: Option<Decimal>,
    pub average_win: Option<Decimal>,
    pub average_loss: Option<Decimal>,
    pub gross_profit: Decimal,
    pub gross_loss: Decimal,
    pub exposure: Option<f64>,
    pub traded_notional: Decimal,
    pub turnover: Option<f64>,
    pub fees_paid: Decimal,
}

/// The mean of `sum` over `n` items, `None` for none.
fn average(sum: Decimal, n: u64) -> Option<Decimal> {
    (n > 0).then(|| sum.checked_div(Decimal::from(n))).flatten()
}

pub(super) fn figures(
    equity: &[EquityPoint],
    trades: &[TradeOutcome],
    fills: &[Fill],
) -> TradeFigures {
    let mut f = TradeFigures {
        trades: trades.len() as u64,
        ..TradeFigures::default()
    };
    let mut net = Decimal::ZERO;
    for t in trades {
        net = net.saturating_add(t.pnl);
        if t.pnl > Decimal::ZERO {
            f.wins += 1;
            f.gross_profit = f.gross_profit.saturating_add(t.pnl);
        } else if t.pnl < Decimal::ZERO {
            f.losses += 1;
            f.gross_loss = f.gross_loss.saturating_add(t.pnl);
        }
    }
    f.win_rate = (f.trades > 0).then(|| f.wins as f64 / f.trades as f64);
    f.expectancy = average(net, f.trades);
    f.average_win = average(f.gross_profit, f.wins);
    f.average_loss = average(f.gross_loss, f.losses);
    f.profit_factor = (f.losses > 0)
        .then(|| f.gross_profit.checked_div(-f.gross_loss))
        .flatten()
        .and_then(|x| x.to_f64());
    for fill in fills {
        let notional = fill.notional().unwrap_or(Decimal::MAX).abs();
        f.traded_notional = f.traded_notional.saturating_add(notional);
        f.fees_paid = f.fees_paid.saturating_add(fill.fee);
    }
    f.exposure = exposure(equity, fills);
    let mean_equity = mean_equity(equity);
    f.turnover = mean_equity
        .filter(|m| *m > 0.0)
        .and_then(|m| Some(f.traded_notional.to_f64()? / m))
        .filter(|x| x.is_finite());
    f
}

/// The share of `equity`'s points at which a position was open: the fills' signed quantities
/// summed up to each point's time (the run starts flat). A point is a bar's close, taken
/// before the fills stamped at that time (at the next bar's open): only earlier fills count.
fn exposure(equity: &[EquityPoint], fills: &[Fill]) -> Option<f64> {
    if equity.is_empty() {
        return None;
    }
    let mut fills: Vec<&Fill> = fills.iter().collect();
    fills.sort_by_key(|f| (f.ts, f.seq));
    let (mut next, mut position, mut held) = (0usize, Decimal::ZERO, 0u64);
    for p in equity {
        while let Some(f) = fills.get(next).filter(|f| f.ts < p.ts) {
            position = position.saturating_add(f.signed_quantity());
            next += 1;
        }
        if !position.is_zero() {
            held += 1;
        }
    }
    Some(held as f64 / equity.len() as f64)
}

fn mean_equity(equity: &[EquityPoint]) -> Option<f64> {
    if equity.is_empty() {
        return None;
    }
    let sum: f64 = equity.iter().filter_map(|p| p.equity.to_f64()).sum();
    Some(sum / equity.len() as f64)
}
