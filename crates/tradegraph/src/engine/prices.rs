//! How a replay's market events reach the paper broker, shared by the engine's event loop and
//! the buy-and-hold baseline ([`crate::backtest::metrics::buy_and_hold`]), so the baseline
//! trades on exactly the prices the run traded on.

use rust_decimal::Decimal;
use tradegraph_broker::PriceEvent;
use tradegraph_core::{Candle, Timeframe, Timestamp};
use tradegraph_market::aggregate::{bucket_start, CandleAggregator};
use tradegraph_market::MarketEvent;

/// The price event the broker works its orders on for `event`, with its price: every trade and
/// tick, and a feed's closed one-minute candle until the feed has sent a trade or a tick
/// (`ticks`, set here on the first one: from then on the minutes are built from them, and a
/// candle would be the same prices twice). Nothing for other events.
pub(crate) fn broker_price<'a>(
    event: &'a MarketEvent,
    ticks: &mut bool,
) -> Option<(PriceEvent<'a>, Decimal)> {
    match event {
        MarketEvent::Trade { trade, .. } => {
            *ticks = true;
            Some((PriceEvent::Trade(trade), trade.price))
        }
        MarketEvent::Tick { tick, .. } => {
            *ticks = true;
            Some((PriceEvent::Tick(tick), tick.price))
        }
        MarketEvent::Candle {
            candle,
            closed: true,
            ..
        } if !*ticks && candle.timeframe == Timeframe::M1 => {
            Some((PriceEvent::Candle(candle), candle.close))
        }
        _ => None,
    }
}

/// The tick the hot cache keeps for `event`: a trade as a tick, a tick as it is.
pub(crate) fn tick_of(event: &MarketEvent) -> Option<tradegraph_core::Tick> {
    match event {
        MarketEvent::Trade { trade, .. } => Some(tradegraph_core::Tick::new(
            trade.ts,
            trade.price,
            trade.quantity,
        )),
        MarketEvent::Tick { tick, .. } => Some(tick.clone()),
        _ => None,
    }
}

/// A closed candle of the feed's own that is longer than a minute: not the aggregator's (it
/// builds from minutes), so it is handled as closed as it comes.
pub(crate) fn feed_long_candle(event: &MarketEvent) -> Option<&Candle> {
    match event {
        MarketEvent::Candle {
            candle,
            closed: true,
            ..
        } if candle.timeframe != Timeframe::M1 => Some(candle),
        _ => None,
    }
}

/// The end of the minute still open in `aggregator`: at the feed's end it is complete, and
/// advancing the aggregator there closes it (and any longer candle ending with it).
pub(crate) fn open_minute_end(aggregator: &CandleAggregator) -> Option<Timestamp> {
    let open = aggregator.current(Timeframe::M1)?;
    bucket_start(aggregator.session(), Timeframe::M1, open.open_time).map(|(_, end)| end)
}
