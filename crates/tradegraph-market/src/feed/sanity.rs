//! The one price sanity check every feed applies before an event leaves it.

use crate::MarketEvent;
use rust_decimal::Decimal;
use tradegraph_core::{Book, Candle, DayStats, Tick, Trade, MAX_PRICE};

/// Whether the prices of `event` can be real: every price (trade, tick, bid, ask, the tick's
/// day figures, book level, candle open, high, low and close) above zero and at most
/// [`MAX_PRICE`](tradegraph_core::MAX_PRICE), every quantity and
/// volume (also a candle's quote and taker volumes, a tick's day volume, total buy and sell
/// quantities, open interest, last quantity and open-interest range) not negative, an aggregate trade's first id not after its last, and a candle's
/// `low <= open, close <= high`. Notices always pass.
///
/// Feeds replace an event that fails with a [`FeedNotice::Malformed`](crate::FeedNotice::Malformed)
/// carrying the returned reason, so a zero, negative or absurdly large price never reaches the aggregator, the
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
/// assert_eq!(
///     check_prices(&tick(2_000_000_000_000)).unwrap_err(),
///     "tick price 2000000000000 is above the largest plausible price 1000000000000"
/// );
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

/// A price that can be real: above zero and at most [`MAX_PRICE`].
fn plausible(what: &str, value: Decimal) -> Result<(), String> {
    if value <= Decimal::ZERO {
        Err(format!("{what} {value} is not positive"))
    } else if value > MAX_PRICE {
        Err(format!(
            "{what} {value} is above the largest plausible price {MAX_PRICE}"
        ))
    } else {
        Ok(())
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
    plausible("trade price", trade.price)?;
    not_negative("trade quantity", trade.quantity)?;
    match (trade.first_trade_id, trade.last_trade_id) {
        (Some(first), Some(last)) if first > last => Err(format!(
            "trade first trade id {first} is after its last trade id {last}"
        )),
        _ => Ok(()),
    }
}

/// [`check_prices`] of a tick.
pub(crate) fn check_tick(tick: &Tick) -> Result<(), String> {
    plausible("tick price", tick.price)?;
    not_negative("tick volume", tick.volume)?;
    if let Some(bid) = tick.bid {
        plausible("tick bid", bid)?;
    }
    if let Some(ask) = tick.ask {
        plausible("tick ask", ask)?;
    }
    for (what, value) in [
        ("tick day volume", tick.day_volume),
        ("tick total buy quantity", tick.total_buy_quantity),
        ("tick total sell quantity", tick.total_sell_quantity),
        ("tick open interest", tick.open_interest),
    ] {
        if let Some(value) = value {
            not_negative(what, value)?;
        }
    }
    match &tick.day {
        Some(day) => check_day(day),
        None => Ok(()),
    }
}

fn check_day(day: &DayStats) -> Result<(), String> {
    for (what, value) in [
        ("tick day open", day.open),
        ("tick day high", day.high),
        ("tick day low", day.low),
        ("tick previous close", day.previous_close),
        ("tick average price", day.average_price),
    ] {
        if let Some(value) = value {
            plausible(what, value)?;
        }
    }
    for (what, value) in [
        ("tick last quantity", day.last_quantity),
        ("tick open interest day high", day.oi_day_high),
        ("tick open interest day low", day.oi_day_low),
    ] {
        if let Some(value) = value {
            not_negative(what, value)?;
        }
    }
    Ok(())
}

fn check_book(book: &Book) -> Result<(), String> {
    for (side, levels) in [("bid", &book.bids), ("ask", &book.asks)] {
        for level in levels {
            plausible(&format!("book {side} price"), level.price)?;
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
        plausible(what, value)?;
    }
    not_negative("candle volume", c.volume)?;
    for (what, value) in [
        ("candle quote volume", c.quote_volume),
        ("candle taker buy volume", c.taker_buy_volume),
        ("candle taker buy quote volume", c.taker_buy_quote_volume),
    ] {
        if let Some(value) = value {
            not_negative(what, value)?;
        }
    }
    if c.is_consistent() {
        Ok(())
    } else {
        Err(format!(
            "candle open {} and close {} must lie within low {} and high {}",
            c.open, c.close, c.low, c.high
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::{DayStats, Side, Timeframe, Timestamp};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn tick(day: DayStats) -> MarketEvent {
        MarketEvent::Tick {
            symbol: "X".into(),
            tick: Tick {
                day: Some(Box::new(day)),
                ..Tick::new(Timestamp::EPOCH, d("100"), Decimal::ZERO)
            },
        }
    }

    #[test]
    fn the_days_prices_are_positive_and_its_quantities_not_negative() {
        assert!(check_prices(&tick(DayStats {
            change_pct: Some(d("-3.5")),
            last_quantity: Some(Decimal::ZERO),
            ..DayStats::default()
        }))
        .is_ok());
        let bad_high = DayStats {
            high: Some(d("-1")),
            ..DayStats::default()
        };
        assert_eq!(
            check_prices(&tick(bad_high)).unwrap_err(),
            "tick day high -1 is not positive"
        );
        let bad_oi = DayStats {
            oi_day_low: Some(d("-5")),
            ..DayStats::default()
        };
        assert_eq!(
            check_prices(&tick(bad_oi)).unwrap_err(),
            "tick open interest day low -5 is negative"
        );
    }

    #[test]
    fn a_price_above_the_largest_plausible_one_is_malformed() {
        let trade = |price: Decimal| MarketEvent::Trade {
            symbol: "X".into(),
            trade: Trade::new(Timestamp::EPOCH, price, d("1"), Side::Buy, 1),
        };
        assert!(check_prices(&trade(MAX_PRICE)).is_ok());
        assert_eq!(
            check_prices(&trade(MAX_PRICE + d("0.01"))).unwrap_err(),
            "trade price 1000000000000.01 is above the largest plausible price 1000000000000"
        );
        let mut candle = Candle::opening(Timestamp::EPOCH, Timeframe::M1, d("1"), d("1"));
        candle.high = Decimal::MAX;
        let event = MarketEvent::Candle {
            symbol: "X".into(),
            candle,
            closed: true,
        };
        assert!(check_prices(&event)
            .unwrap_err()
            .starts_with("candle high 79228162514264337593543950335 is above"));
    }

    #[test]
    fn candle_volumes_and_trade_id_ranges_are_checked() {
        let candle = Candle {
            taker_buy_quote_volume: Some(d("-0.5")),
            ..Candle::opening(Timestamp::EPOCH, Timeframe::M1, d("1"), d("1"))
        };
        let event = MarketEvent::Candle {
            symbol: "X".into(),
            candle,
            closed: true,
        };
        assert_eq!(
            check_prices(&event).unwrap_err(),
            "candle taker buy quote volume -0.5 is negative"
        );
        let trade = Trade {
            first_trade_id: Some(9),
            last_trade_id: Some(8),
            ..Trade::new(Timestamp::EPOCH, d("1"), d("1"), Side::Buy, 1)
        };
        let event = MarketEvent::Trade {
            symbol: "X".into(),
            trade,
        };
        assert_eq!(
            check_prices(&event).unwrap_err(),
            "trade first trade id 9 is after its last trade id 8"
        );
    }
}
