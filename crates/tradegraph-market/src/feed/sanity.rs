//! The one price sanity check every feed applies before an event leaves it.

use crate::MarketEvent;
use rust_decimal::Decimal;
use tradegraph_core::{Book, Candle, Tick, Trade};

/// Whether the prices of `event` can be real: every price (trade, tick, bid, ask, book level,
/// candle open, high, low and close) above zero, every quantity and volume not negative, and a
/// candle's `low <= open, close <= high`. Notices always pass.
///
/// Feeds replace an event that fails with a [`FeedNotice::Malformed`](crate::FeedNotice::Malformed)
/// carrying the returned reason, so a zero or negative price never reaches the aggregator, the
/// stops or the equity mark.
///
/// # Errors
///
/// What is wrong, naming the field and its value (`tick price 0 is not positive`).
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph_core::{Tick, Timestamp};
/// use tradegraph_market::{feed::check_prices, MarketEvent};
///
/// let tick = |price: i64| MarketEvent::Tick {
///     symbol: "X".into(),
///     tick: Tick::new(Timestamp::EPOCH, Decimal::from(price), Decimal::ONE),
/// };
/// assert!(check_prices(&tick(100)).is_ok());
/// assert_eq!(check_prices(&tick(0)).unwrap_err(), "tick price 0 is not positive");
/// ```
pub fn check_prices(event: &MarketEvent) -> Result<(), String> {
    match event {
        MarketEvent::Trade { trade, .. } => check_trade(trade),
        MarketEvent::Tick { tick, .. } => check_tick(tick),
        MarketEvent::Book { book, .. } => check_book(book),
        MarketEvent::Candle { candle, .. } => check_candle(candle),
        MarketEvent::Notice { .. } => Ok(()),
    }
}

fn positive(what: &str, value: Decimal) -> Result<(), String> {
    if value > Decimal::ZERO {
        Ok(())
    } else {
        Err(format!("{what} {value} is not positive"))
    }
}

fn not_negative(what: &str, value: Decimal) -> Result<(), String> {
    if value.is_sign_negative() && !value.is_zero() {
        Err(format!("{what} {value} is negative"))
    } else {
        Ok(())
    }
}

fn check_trade(trade: &Trade) -> Result<(), String> {
    positive("trade price", trade.price)?;
    not_negative("trade quantity", trade.quantity)
}

fn check_tick(tick: &Tick) -> Result<(), String> {
    positive("tick price", tick.price)?;
    not_negative("tick volume", tick.volume)?;
    if let Some(bid) = tick.bid {
        positive("tick bid", bid)?;
    }
    if let Some(ask) = tick.ask {
        positive("tick ask", ask)?;
    }
    Ok(())
}

fn check_book(book: &Book) -> Result<(), String> {
    for (side, levels) in [("bid", &book.bids), ("ask", &book.asks)] {
        for level in levels {
            positive(&format!("book {side} price"), level.price)?;
            not_negative(&format!("book {side} quantity"), level.quantity)?;
        }
    }
    Ok(())
}

fn check_candle(c: &Candle) -> Result<(), String> {
    for (what, value) in [
        ("candle open", c.open),
        ("candle high", c.high),
        ("candle low", c.low),
        ("candle close", c.close),
    ] {
        positive(what, value)?;
    }
    not_negative("candle volume", c.volume)?;
    if c.is_consistent() {
        Ok(())
    } else {
        Err(format!(
            "candle open {} and close {} must lie within low {} and high {}",
            c.open, c.close, c.low, c.high
        ))
    }
}
