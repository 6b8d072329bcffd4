//! [`PriceEvent`]: one piece of market data, as an engine hands it to a broker.

use tradegraph_core::{Candle, Tick, Timestamp, Trade};

/// One market event for an instrument: what [`Broker::on_market`](crate::Broker::on_market)
/// takes. The paper broker matches its working orders against it; a venue's broker ignores it.
///
/// ```
/// use tradegraph_broker::PriceEvent;
/// use tradegraph_core::{Decimal, Tick, Timestamp};
/// let tick = Tick::new(Timestamp::from_millis(1_000), Decimal::from(40_000), Decimal::ONE);
/// let event = PriceEvent::from(&tick);
/// assert_eq!(event.ts(), Timestamp::from_millis(1_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceEvent<'a> {
    /// A tick (last price, with bid and ask when known).
    Tick(&'a Tick),
    /// A trade.
    Trade(&'a Trade),
    /// A closed candle.
    Candle(&'a Candle),
}

impl PriceEvent<'_> {
    /// When it happened: the tick's or trade's time, the candle's open time.
    pub fn ts(&self) -> Timestamp {
        match self {
            Self::Tick(t) => t.ts,
            Self::Trade(t) => t.ts,
            Self::Candle(c) => c.open_time,
        }
    }
}

impl<'a> From<&'a Tick> for PriceEvent<'a> {
    fn from(tick: &'a Tick) -> Self {
        Self::Tick(tick)
    }
}

impl<'a> From<&'a Trade> for PriceEvent<'a> {
    fn from(trade: &'a Trade) -> Self {
        Self::Trade(trade)
    }
}

impl<'a> From<&'a Candle> for PriceEvent<'a> {
    fn from(candle: &'a Candle) -> Self {
        Self::Candle(candle)
    }
}
