//! A feed with the aggregator's closed candles in it, as events.

use super::{bucket_start, AggregatorPolicy, CandleAggregator};
use crate::feed::Feed;
use crate::MarketEvent;
use futures::StreamExt;
use std::collections::VecDeque;
use tradegraph_core::{Symbol, Timeframe, TradingSession};

/// Passes every event of `feed` through and, after each one that closes candles, yields those
/// candles as [`MarketEvent::Candle`] with `closed: true` (shortest timeframe first). When the
/// feed ends, the minute still open is closed and yielded too (nothing more will come into it),
/// so a replay ends with its last minute; longer candles still open are partial and stay out.
///
/// A closed 1-minute candle already in the feed (an exchange's kline, a bar file) comes out as
/// the aggregator takes it, and builds the higher timeframes: one the trades already built is
/// not yielded a second time. Other candle events are passed through. A notice of a hole in
/// the data (a disconnection, a gap) is passed through and leaves the minutes it covers
/// unfilled.
///
/// ```
/// use futures::StreamExt;
/// use tradegraph_core::{Instrument, Side, Trade, Timeframe};
/// use tradegraph_market::{aggregate::with_candles, MarketEvent};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let btc = Instrument::btc_usdt();
/// let trade = |ts: &str, id| MarketEvent::Trade {
///     symbol: btc.symbol.clone(),
///     trade: Trade::new(ts.parse().unwrap(), "100".parse().unwrap(), "1".parse().unwrap(),
///                       Side::Buy, id),
/// };
/// let feed = futures::stream::iter([trade("2024-01-01T10:00:01Z", 1), trade("2024-01-01T10:01:01Z", 2)]).boxed();
/// let events: Vec<_> = with_candles(feed, btc.symbol.clone(), btc.session.clone(), Default::default())
///     .collect().await;
/// let minutes = events.iter().filter(|e| matches!(e, MarketEvent::Candle { candle, closed: true, .. }
///     if candle.timeframe == Timeframe::M1)).count();
/// assert_eq!(minutes, 2); // one closed by the second trade, one at the end of the feed
/// # Ok(()) }
/// ```
pub fn with_candles(
    feed: Feed,
    symbol: Symbol,
    session: TradingSession,
    policy: AggregatorPolicy,
) -> Feed {
    struct State {
        feed: Feed,
        aggregator: CandleAggregator,
        pending: VecDeque<MarketEvent>,
        closed: Vec<tradegraph_core::Candle>,
        done: bool,
    }
    let state = State {
        feed,
        aggregator: CandleAggregator::with_policy(symbol, session, policy),
        pending: VecDeque::new(),
        closed: Vec::new(),
        done: false,
    };
    futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                return Some((event, s));
            }
            if s.done {
                return None;
            }
            match s.feed.next().await {
                Some(event) => {
                    s.aggregator.on_event(&event, &mut s.closed);
                    // A closed minute from the feed comes back from the aggregator when it
                    // takes it: the aggregator's word counts, so no minute comes twice.
                    let feed_minute = matches!(
                        &event,
                        MarketEvent::Candle { candle, closed: true, .. }
                            if candle.timeframe == Timeframe::M1
                    );
                    if !feed_minute {
                        s.pending.push_back(event);
                    }
                }
                None => {
                    s.done = true;
                    // Close the minute still open at the end of the data (it is complete:
                    // nothing more will come); longer candles stay open, as they are partial.
                    let open_minute = s.aggregator.current(Timeframe::M1);
                    if let Some((_, end)) = open_minute.and_then(|m| {
                        bucket_start(s.aggregator.session(), Timeframe::M1, m.open_time)
                    }) {
                        s.aggregator.advance(end, &mut s.closed);
                    }
                }
            }
            let symbol = s.aggregator.symbol().clone();
            for candle in s.closed.drain(..) {
                s.pending.push_back(MarketEvent::Candle {
                    symbol: symbol.clone(),
                    candle,
                    closed: true,
                });
            }
        }
    })
    .boxed()
}
