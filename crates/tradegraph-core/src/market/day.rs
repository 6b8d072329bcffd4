//! What an exchange says about an instrument's day besides the last price: Kite's quote and
//! full packets, field for field.

use crate::{Price, Quantity, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The day's figures of an instrument as the exchange reports them with a price update: the
/// session's open, high and low, the previous session's close, the move from it, the average
/// traded price, the last trade and the open-interest range.
///
/// Every field is optional: a feed fills what its packet carries (Zerodha Kite: quote and full
/// packets of tradable instruments, quote and full packets of indices; the names below are
/// those of Zerodha's own client, `kiteconnect`'s `KiteTicker`). Kite sends a price it does
/// not know yet (before the first trade of the day) as 0; such prices are `None` here, never
/// a zero price. Absent fields are left out of the JSON, so recordings made before these
/// fields existed read the same.
///
/// ```
/// use tradegraph_core::market::DayStats;
/// use tradegraph_core::Decimal;
///
/// let close = Decimal::new(2_000_00, 2); // 2000.00
/// let day = DayStats {
///     previous_close: Some(close),
///     change_pct: DayStats::change_from(Decimal::new(2_010_00, 2), close),
///     ..DayStats::default()
/// };
/// assert_eq!(day.change_pct, Some(Decimal::new(5, 1))); // +0.5 %
/// assert_eq!(serde_json::to_string(&day)?, r#"{"previous_close":"2000.00","change_pct":"0.5"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayStats {
    /// Price of the session's first trade, in the quote currency (Kite `ohlc.open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Price>,
    /// Highest traded price of the session so far, in the quote currency (Kite `ohlc.high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Price>,
    /// Lowest traded price of the session so far, in the quote currency (Kite `ohlc.low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Price>,
    /// Close of the previous session, in the quote currency (Kite `ohlc.close`: during the day
    /// Kite's "close" is yesterday's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_close: Option<Price>,
    /// Move of the last price from [`previous_close`](Self::previous_close), in percent:
    /// `(price - previous_close) * 100 / previous_close` (Kite `change`, which its client
    /// computes from the last price and the close, as [`change_from`](Self::change_from)
    /// does here, exactly). `None` when the previous close is not known (where `kiteconnect`
    /// says 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<Decimal>,
    /// Volume-weighted average traded price of the session, in the quote currency (Kite
    /// `average_traded_price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_price: Option<Price>,
    /// Quantity of the last trade, in the instrument's unit (shares, or contracts' units for
    /// derivatives) (Kite `last_traded_quantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_quantity: Option<Quantity>,
    /// Exchange time of the last trade (Kite `last_trade_time`, full mode; a wire 0 is `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trade_time: Option<Timestamp>,
    /// Highest open interest of the session, in the instrument's unit (Kite `oi_day_high`,
    /// full mode, derivatives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oi_day_high: Option<Quantity>,
    /// Lowest open interest of the session, in the instrument's unit (Kite `oi_day_low`, full
    /// mode, derivatives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oi_day_low: Option<Quantity>,
    /// The exchange's time of the update (Kite `exchange_timestamp`, full mode; a wire 0 is
    /// `None`). When present the tick's `ts` is this time; when absent the tick is stamped
    /// with the time it was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_time: Option<Timestamp>,
}

impl DayStats {
    /// The move from `previous_close` to `price` in percent, exact to 28 decimal places and
    /// without trailing zeros: `(price - previous_close) * 100 / previous_close`; `None` when
    /// `previous_close` is zero (not known) or the arithmetic would overflow.
    ///
    /// ```
    /// use tradegraph_core::market::DayStats;
    /// use tradegraph_core::Decimal;
    /// let change = DayStats::change_from(Decimal::from(99), Decimal::from(100));
    /// assert_eq!(change, Some(Decimal::from(-1)));
    /// assert_eq!(DayStats::change_from(Decimal::ONE, Decimal::ZERO), None);
    /// ```
    pub fn change_from(price: Price, previous_close: Price) -> Option<Decimal> {
        if previous_close.is_zero() {
            return None;
        }
        price
            .checked_sub(previous_close)?
            .checked_mul(Decimal::ONE_HUNDRED)?
            .checked_div(previous_close)
            .map(|change| change.normalize())
    }

    /// Whether no field is known.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}
