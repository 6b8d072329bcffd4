//! Why the guard clamped or rejected something: one typed reason per rule, each with a message.

use super::number::num;
use crate::money::Money;
use crate::order::ClientOrderId;
use crate::{Currency, Decimal, Price, Quantity, Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which volatility figure tripped the circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolatilityTrigger {
    /// Realized volatility of recent bars.
    RealizedVolatility,
    /// The last bar's range.
    BarRange,
}

/// An input the guard cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadInput {
    /// The current price (not positive, or above [`MAX_PRICE`](crate::MAX_PRICE)).
    Price,
    /// A volatility figure (NaN, infinite or negative).
    Volatility,
    /// The instrument's lot or tick size (not positive).
    Instrument,
    /// The account's equity or the day's starting equity (not positive).
    Equity,
}

/// Where a derived stop-loss distance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopBasis {
    /// A multiple of the average true range.
    Atr,
    /// A percent of the price.
    Percent,
}

/// Why the order journal does not send an order again under a client order id it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotRepeated {
    /// Its intent was abandoned when the bot restarted: the broker never received it, and a
    /// decision is not repeated later.
    Abandoned,
    /// Another request was recorded under the same client order id.
    OtherRequest,
    /// Its intent says it was sent, but the broker does not know the order.
    UnknownToBroker,
}

impl fmt::Display for NotRepeated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Abandoned => {
                "it was abandoned when the bot restarted (the broker never received it); a decision is not repeated"
            }
            Self::OtherRequest => "an intent with this client order id and another request exists",
            Self::UnknownToBroker => {
                "its intent says it was sent but the broker does not know the order; it is not sent again"
            }
        })
    }
}

/// The reason behind one clamp, rejection or forced close. The [`Display`](fmt::Display) text is
/// the message for logs and dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RiskReason {
    /// The manual kill switch is engaged.
    KillSwitch,
    /// The day's loss reached the limit.
    DailyLossLimit {
        /// Loss so far, percent of the day's starting equity.
        loss_pct: Decimal,
        /// The limit.
        limit_pct: Decimal,
    },
    /// The exchange session is closed.
    MarketClosed {
        /// The decision's time.
        at: Timestamp,
    },
    /// Too close to the session's close to open anything.
    EntryCutoff {
        /// The close.
        close: Timestamp,
        /// The cutoff, in minutes before the close.
        minutes: u32,
    },
    /// Inside the square-off window before the close.
    SquareOff {
        /// The close.
        close: Timestamp,
        /// The window, in minutes before the close.
        minutes: u32,
    },
    /// Volatility tripped the circuit breaker.
    CircuitBreaker {
        /// Which figure.
        trigger: VolatilityTrigger,
        /// Its value, in percent.
        #[serde(with = "num")]
        value: f64,
        /// The threshold, in percent.
        #[serde(with = "num")]
        limit: f64,
        /// Entries are blocked until then.
        until: Timestamp,
    },
    /// The circuit breaker tripped earlier and is cooling down.
    CircuitBreakerCooldown {
        /// Entries are blocked until then.
        until: Timestamp,
    },
    /// As many positions are open as allowed.
    MaxOpenPositions {
        /// Open now.
        open: usize,
        /// The limit.
        max: usize,
    },
    /// Opening a short is not allowed (never on a spot instrument).
    ShortNotAllowed {
        /// Whether it is because the instrument is spot.
        spot: bool,
    },
    /// An input the guard cannot use.
    BadInput {
        /// Which.
        input: BadInput,
        /// Its value, as text.
        value: String,
    },
    /// The account is in another currency than the instrument.
    CurrencyMismatch {
        /// The account's.
        account: Currency,
        /// The instrument's.
        instrument: Currency,
    },
    /// The confidence is not a number in [0, 1].
    InvalidConfidence {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
    },
    /// The confidence is below the minimum.
    LowConfidence {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The minimum.
        #[serde(with = "num")]
        min: f64,
    },
    /// The size is not a positive number.
    InvalidSize {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
    },
    /// The size was cut to the maximum.
    SizeClamped {
        /// What was asked, percent of equity.
        #[serde(with = "num")]
        requested_pct: f64,
        /// The maximum.
        max_pct: Decimal,
    },
    /// The position in this instrument is already at the maximum.
    PositionLimitReached {
        /// Its exposure, percent of equity.
        exposure_pct: Decimal,
        /// The maximum.
        max_pct: Decimal,
    },
    /// The addition was cut so that the whole position stays within the maximum.
    PositionCapped {
        /// Notional allowed for this order.
        allowed: Money,
        /// The maximum, percent of equity.
        max_pct: Decimal,
    },
    /// The order was cut to the cash available (or rejected without cash).
    InsufficientCash {
        /// Notional wanted.
        wanted: Money,
        /// Cash available.
        cash: Money,
    },
    /// The allowed notional does not buy one lot.
    BelowOneLot {
        /// Notional allowed.
        allowed: Money,
        /// What one lot costs at the price.
        lot_notional: Money,
    },
    /// A BUY while short (or SELL while long) closes the position instead of reversing it.
    OppositePosition {
        /// The position held (signed).
        held: Quantity,
    },
    /// No stop-loss was given; one was derived.
    StopLossDerived {
        /// The stop set.
        stop: Price,
        /// From ATR or a percent.
        basis: StopBasis,
    },
    /// The stop-loss given was not a usable price (NaN, infinite, not positive); one was derived.
    StopLossInvalid {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The stop set.
        stop: Price,
    },
    /// The stop-loss given was on the wrong side of the price; one was derived.
    StopLossWrongSide {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The stop set.
        stop: Price,
    },
    /// The stop-loss given was too far from the price; it was moved in to the maximum.
    StopLossTooWide {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The stop set.
        stop: Price,
        /// The widest allowed, percent of the price.
        max_pct: Decimal,
    },
    /// No stop-loss fits between one tick and the widest allowed.
    NoValidStop {
        /// The widest allowed distance.
        max_distance: Price,
        /// The tick size.
        tick: Price,
    },
    /// The take-profit given was dropped: not a usable price, or on the wrong side.
    TakeProfitDropped {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
    },
    /// The take-profit given was too far; it was moved in to the maximum.
    TakeProfitTooFar {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The take-profit set.
        take_profit: Price,
        /// The farthest allowed, percent of the price.
        max_pct: Decimal,
    },
    /// The trailing distance given was dropped (not a positive number).
    TrailingDropped {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
    },
    /// The trailing distance given was too wide; it was cut to the widest stop.
    TrailingTooWide {
        /// What was given.
        #[serde(with = "num")]
        given: f64,
        /// The distance set.
        distance: Price,
    },
    /// At execution: the verdict is older than allowed (or dated after the current time by
    /// more than that).
    VerdictStale {
        /// The current time less the verdict's time, in milliseconds (negative: dated after now).
        age_ms: i64,
        /// The oldest allowed, in milliseconds.
        max_ms: i64,
    },
    /// At execution: the verdict is for another instrument than the market it is checked
    /// against.
    WrongInstrument {
        /// The instrument of the verdict (or of its order).
        verdict: Symbol,
        /// The instrument of the current market.
        market: Symbol,
    },
    /// At execution: the entry carries no stop-loss, so it is not sent.
    MissingStopLoss,
    /// At execution: the price is already at or beyond the entry's stop-loss.
    PriceThroughStop {
        /// The current price.
        price: Price,
        /// The stop-loss.
        stop: Price,
    },
    /// At execution: the price moved from the one the entry was sized at by more than the stop
    /// distance.
    PriceMoved {
        /// The price the verdict was sized at.
        reference: Price,
        /// The current price.
        price: Price,
        /// The largest move allowed: the distance from the reference to the stop.
        max_move: Price,
    },
    /// A CLOSE with no position open, or, at execution, the position the close was for is gone
    /// (flat, or now on the other side).
    NothingToClose,
    /// At execution: the order journal knows this order's client order id and does not send it
    /// again (a cycle run again after a restart).
    OrderNotRepeated {
        /// The order.
        client_id: ClientOrderId,
        /// Why it is not sent.
        why: NotRepeated,
    },
}

impl fmt::Display for RiskReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KillSwitch => f.write_str("the kill switch is engaged"),
            Self::DailyLossLimit { loss_pct, limit_pct } => write!(
                f,
                "daily loss of {}% reached the {limit_pct}% limit: no new entries today",
                loss_pct.round_dp(2).normalize()
            ),
            Self::MarketClosed { at } => write!(f, "the market is closed at {at}"),
            Self::EntryCutoff { close, minutes } => write!(
                f,
                "no entries in the last {minutes} minutes before the close at {close}"
            ),
            Self::SquareOff { close, minutes } => write!(
                f,
                "square-off: positions are closed in the last {minutes} minutes before the close at {close}"
            ),
            Self::CircuitBreaker { trigger, value, limit, until } => {
                let what = match trigger {
                    VolatilityTrigger::RealizedVolatility => "realized volatility",
                    VolatilityTrigger::BarRange => "the last bar's range",
                };
                write!(
                    f,
                    "circuit breaker: {what} of {value:.2}% is above {limit}%; no entries until {until}"
                )
            }
            Self::CircuitBreakerCooldown { until } => {
                write!(f, "circuit breaker cooling down: no entries until {until}")
            }
            Self::MaxOpenPositions { open, max } => {
                write!(f, "{open} positions are open, the most allowed is {max}")
            }
            Self::ShortNotAllowed { spot: true } => {
                f.write_str("a spot instrument cannot be sold short")
            }
            Self::ShortNotAllowed { spot: false } => f.write_str("short positions are not allowed"),
            Self::BadInput { input, value } => {
                let what = match input {
                    BadInput::Price => "the price",
                    BadInput::Volatility => "a volatility figure",
                    BadInput::Instrument => "the instrument's lot or tick size",
                    BadInput::Equity => "the account's equity",
                };
                write!(f, "{what} ({value}) is not usable: no entries")
            }
            Self::CurrencyMismatch { account, instrument } => write!(
                f,
                "the account is in {account:?} but the instrument in {instrument:?}"
            ),
            Self::InvalidConfidence { given } => {
                write!(f, "confidence {given} is not a number in [0, 1]")
            }
            Self::LowConfidence { given, min } => {
                write!(f, "confidence {given} is below the minimum {min}")
            }
            Self::InvalidSize { given } => {
                write!(f, "size {given}% of equity is not a positive number")
            }
            Self::SizeClamped { requested_pct, max_pct } => {
                write!(f, "size {requested_pct}% of equity cut to the {max_pct}% maximum")
            }
            Self::PositionLimitReached { exposure_pct, max_pct } => write!(
                f,
                "the position is already {}% of equity, at the {max_pct}% maximum",
                exposure_pct.round_dp(2).normalize()
            ),
            Self::PositionCapped { allowed, max_pct } => write!(
                f,
                "addition cut to {} so the position stays within {max_pct}% of equity",
                allowed.round_dp(2).normalize()
            ),
            Self::InsufficientCash { wanted, cash } => write!(
                f,
                "{} wanted but only {} cash available",
                wanted.round_dp(2).normalize(),
                cash.round_dp(2).normalize()
            ),
            Self::BelowOneLot { allowed, lot_notional } => write!(
                f,
                "{} allowed does not buy one lot ({} at this price): raise equity or the size limit",
                allowed.round_dp(2).normalize(),
                lot_notional.round_dp(2).normalize()
            ),
            Self::OppositePosition { held } => write!(
                f,
                "holding {held}: the opposite signal closes the position instead of reversing it"
            ),
            Self::StopLossDerived { stop, basis } => {
                let from = match basis {
                    StopBasis::Atr => "ATR",
                    StopBasis::Percent => "percent",
                };
                write!(f, "no stop-loss given: set to {stop} ({from})")
            }
            Self::StopLossInvalid { given, stop } => {
                write!(f, "stop-loss {given} is not a price: set to {stop}")
            }
            Self::StopLossWrongSide { given, stop } => {
                write!(f, "stop-loss {given} is on the wrong side of the price: set to {stop}")
            }
            Self::StopLossTooWide { given, stop, max_pct } => write!(
                f,
                "stop-loss {given} is more than {max_pct}% away: moved to {stop}"
            ),
            Self::NoValidStop { max_distance, tick } => write!(
                f,
                "no stop-loss fits: the widest allowed distance {max_distance} is under one tick ({tick})"
            ),
            Self::TakeProfitDropped { given } => write!(
                f,
                "take-profit {given} is not a price on the profit side: dropped"
            ),
            Self::TakeProfitTooFar { given, take_profit, max_pct } => write!(
                f,
                "take-profit {given} is more than {max_pct}% away: moved to {take_profit}"
            ),
            Self::TrailingDropped { given } => {
                write!(f, "trailing distance {given} is not a positive number: dropped")
            }
            Self::TrailingTooWide { given, distance } => write!(
                f,
                "trailing distance {given} is wider than the widest stop: cut to {distance}"
            ),
            Self::VerdictStale { age_ms, max_ms } if *age_ms < 0 => write!(
                f,
                "the verdict is dated {} ms after the current time, more than the {max_ms} ms allowed: check the clock, then decide again",
                age_ms.unsigned_abs()
            ),
            Self::VerdictStale { age_ms, max_ms } => write!(
                f,
                "the verdict is {age_ms} ms old, more than the {max_ms} ms allowed: decide again on the current market"
            ),
            Self::WrongInstrument { verdict, market } => write!(
                f,
                "the verdict is for {verdict} but the current market is {market}: check it against its own instrument"
            ),
            Self::MissingStopLoss => f.write_str("the entry carries no stop-loss: it is not sent"),
            Self::PriceThroughStop { price, stop } => write!(
                f,
                "the price {price} is already at or beyond the stop-loss {stop}: the entry is not sent"
            ),
            Self::PriceMoved { reference, price, max_move } => write!(
                f,
                "the price moved from {reference} to {price}, more than the stop distance {max_move}: decide again"
            ),
            Self::NothingToClose => {
                f.write_str("there is no open position (on that side) to close: the close is not sent")
            }
            Self::OrderNotRepeated { client_id, why } => {
                write!(f, "order {client_id} is not sent again: {why}")
            }
        }
    }
}
