//! Buy-and-hold on a run's data: all the cash into the instrument at the first decision,
//! through the run's own paper broker (its fees, slippage and fill rules), held to the end.

use super::baseline::Halt;
use super::{compute, Annualization, Metrics, Period};
use crate::engine::prices;
use crate::engine::{paper_broker, BotConfig, EngineError, EquityPoint, Mode};
use futures::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tradegraph_broker::{Broker, PaperBroker};
use tradegraph_core::order::{ClientOrderId, Fill, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Candle, Timeframe, Timestamp};
use tradegraph_market::aggregate::{AggregatorPolicy, CandleAggregator};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::SimulatedClock;

/// Shares of the cash kept back for the fee and the slippage of the one buy, tried in order
/// until the broker fills the order (it refuses one that the cash or the leverage limit cannot
/// carry, or cancels it at the fill when the next open gapped past the reserve).
const RESERVES: [Decimal; 3] = [
    Decimal::from_parts(5, 0, 0, false, 3),
    Decimal::from_parts(2, 0, 0, false, 2),
    Decimal::from_parts(5, 0, 0, false, 2),
];

/// The buy of a buy-and-hold baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldEntry {
    /// When it filled.
    pub at: Timestamp,
    /// At what price.
    pub price: Decimal,
    /// How much was bought (a whole number of lots).
    pub quantity: Decimal,
    /// Its fee.
    pub fee: Decimal,
}

/// Buy-and-hold over a run's data: its metrics and its buy (`None` when the cash could not buy
/// one lot, or the data ended before the first decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyAndHold {
    /// Its metrics (the same annualization as the run's).
    pub metrics: Metrics,
    /// The buy.
    pub entry: Option<HoldEntry>,
}

/// Buy-and-hold on `data` within `period`, as `config`'s run would trade it: the paper broker
/// of [`paper_broker`] (the same fees, slippage and fill rules; no intraday square-off, the
/// position is held), a market buy of as many lots as the cash pays for (less a reserve of
/// 0.5% for the fee and slippage) placed where the run's first decision cycle runs (the first
/// close of a `decision_every` candle) and filled as a backtest's broker fills market orders
/// (at the next bar's open unless configured otherwise), then held to the last bar. When the
/// broker refuses the buy, or cancels it at the fill (a next open gapping up past the reserve
/// breaks the leverage limit), it is placed again at the next price with a 2% reserve, then
/// 5%. The market events reach the broker as they reach the run's (the engine's own rules:
/// [`engine::prices`](crate::engine)), and the minute still open at the end is closed as the
/// engine closes it. Its equity curve has a point at each one-minute bar's close, like the
/// run's.
///
/// # Errors
/// [`EngineError`] when the data cannot be read or the broker cannot be set up.
pub async fn buy_and_hold(
    config: &BotConfig,
    data: &Path,
    period: Period,
) -> Result<BuyAndHold, EngineError> {
    buy_and_hold_until(config, data, period, &Halt::never()).await
}

/// [`buy_and_hold`] that stops reading the data once `halt` is set (its figures partial).
pub(crate) async fn buy_and_hold_until(
    config: &BotConfig,
    data: &Path,
    period: Period,
    halt: &Halt,
) -> Result<BuyAndHold, EngineError> {
    // a backtest's broker (its fill timing), whatever mode `config` was made for
    let config = &BotConfig {
        mode: Mode::Backtest,
        ..config.clone()
    };
    let symbol = config.instrument.symbol.clone();
    let session = config.instrument.session.clone();
    let paper = paper_broker(config)?.read(|e| e.config().clone())?;
    let broker = PaperBroker::new(paper.square_off_minutes(None))?;
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), symbol.clone())
    })?;
    let mut feed = replay.stream();
    let mut aggregator =
        CandleAggregator::with_policy(symbol.clone(), session.clone(), AggregatorPolicy::default());
    let mut hold = Holder {
        broker,
        config,
        points: Vec::new(),
        submitted: false,
        pending: None,
        last_price: None,
    };
    let mut ticks = false;
    let mut closed = Vec::new();
    while let Some(event) = feed.next().await {
        if halt.is_set() {
            break;
        }
        // the replay is in time order: nothing after the period's end is read
        if period.to.is_some_and(|to| event.ts() >= to) && event.symbol().is_some() {
            break;
        }
        if event.symbol() != Some(&symbol) || !period.contains(event.ts()) {
            continue;
        }
        if let Some((price_event, price)) = prices::broker_price(&event, &mut ticks) {
            hold.last_price = Some(price);
            // A refused event (a stale one) changes nothing, as in the engine's loop.
            if let Err(e) = hold.broker.on_market(&symbol, price_event) {
                tracing::warn!(%symbol, error = %e, "buy-and-hold: market event refused");
            }
            hold.retry().await?;
        }
        aggregator.on_event(&event, &mut closed);
        if let Some(candle) = prices::feed_long_candle(&event) {
            closed.push(candle.clone());
        }
        for candle in closed.drain(..) {
            hold.on_closed(&candle).await?;
        }
    }
    // The minute still open at the end is complete (as the engine closes it).
    if let Some(end) = prices::open_minute_end(&aggregator) {
        aggregator.advance(end, &mut closed);
        for candle in closed.drain(..) {
            hold.on_closed(&candle).await?;
        }
    }
    let fills = hold.broker.fills_since(0).await?;
    let entry = fills.first().map(|f: &Fill| HoldEntry {
        at: f.ts,
        price: f.price,
        quantity: f.quantity,
        fee: f.fee,
    });
    let year = Annualization::of_curve(&session, &hold.points);
    Ok(BuyAndHold {
        metrics: compute(&hold.points, &[], &fills, year),
        entry,
    })
}

struct Holder<'a> {
    broker: PaperBroker,
    config: &'a BotConfig,
    points: Vec<EquityPoint>,
    submitted: bool,
    /// The buy placed and not yet filled: which reserve it used, and its client id.
    pending: Option<(usize, ClientOrderId)>,
    /// The last price the broker was given.
    last_price: Option<Decimal>,
}

impl Holder<'_> {
    async fn on_closed(&mut self, candle: &Candle) -> Result<(), EngineError> {
        let end = candle.open_time.add_millis(candle.timeframe.millis());
        if candle.timeframe == Timeframe::M1 {
            let account = self.broker.account().await?;
            self.points.push(EquityPoint {
                ts: end,
                equity: account.equity,
                drawdown_pct: 0.0,
            });
        }
        if candle.timeframe == self.config.decision_every && !self.submitted {
            self.submitted = true;
            self.buy(candle.close).await?;
        }
        Ok(())
    }

    /// A market buy of all the cash at about `price`, with the first reserve the broker takes.
    async fn buy(&mut self, price: Decimal) -> Result<(), EngineError> {
        self.buy_from(0, price).await
    }

    /// The buy with the reserves from `first` on, until the broker does not refuse one; a buy
    /// left working (a next-open fill) is kept in `pending` for [`retry`](Self::retry).
    async fn buy_from(&mut self, first: usize, price: Decimal) -> Result<(), EngineError> {
        let cash = self.broker.account().await?.cash;
        let lot = self.config.instrument.lot_size;
        for (n, reserve) in RESERVES.iter().enumerate().skip(first) {
            let Some(quantity) = lots(cash, price, lot, *reserve) else {
                return Ok(());
            };
            let id = ClientOrderId::new(format!("buy-and-hold-{n}"))?;
            let request = OrderRequest::market(
                id.clone(),
                self.config.instrument.symbol.clone(),
                OrderSide::Buy,
                quantity,
            );
            let status = self.broker.submit(request).await?.status;
            if status == OrderStatus::Rejected {
                continue;
            }
            if status.is_working() {
                self.pending = Some((n, id));
            }
            return Ok(());
        }
        Ok(())
    }

    /// After a price event: a pending buy the broker cancelled or rejected at its fill is
    /// placed again with the next reserve (filled at the following price).
    async fn retry(&mut self) -> Result<(), EngineError> {
        let Some((n, id)) = self.pending.clone() else {
            return Ok(());
        };
        let status = self.broker.order(&id).await?.map(|o| o.status);
        if status.is_some_and(|s| s.is_working()) {
            return Ok(());
        }
        self.pending = None;
        let failed = matches!(status, Some(OrderStatus::Cancelled | OrderStatus::Rejected));
        if let (true, Some(price)) = (failed, self.last_price) {
            self.buy_from(n + 1, price).await?;
        }
        Ok(())
    }
}

/// The whole lots of `lot` that `cash` less `reserve` (a share) pays for at `price`.
fn lots(cash: Decimal, price: Decimal, lot: Decimal, reserve: Decimal) -> Option<Decimal> {
    let budget = cash.checked_mul(Decimal::ONE - reserve)?;
    let count = budget.checked_div(price.checked_mul(lot)?)?.floor();
    let quantity = count.checked_mul(lot)?;
    (quantity > Decimal::ZERO).then_some(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_the_cash_less_the_reserve_in_whole_lots() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // 100 000 less 0.5% at 40 000 a coin, in steps of 0.00001
        assert_eq!(
            lots(d("100000"), d("40000"), d("0.00001"), RESERVES[0]),
            Some(d("2.48750"))
        );
        // 10 000 000 less 2% at 50 000 in lots of 15: 9 800 000 / 750 000 = 13.07 → 13 lots
        assert_eq!(
            lots(d("10000000"), d("50000"), d("15"), RESERVES[1]),
            Some(d("195"))
        );
        assert_eq!(lots(d("100"), d("50000"), d("15"), RESERVES[0]), None);
        assert_eq!(lots(d("100"), Decimal::ZERO, d("15"), RESERVES[0]), None);
    }
}
