//! TA-Lib's numeric conventions, shared by the indicators.

use crate::MarketError;

/// TA-Lib's band for "zero" (`TA_IS_ZERO`): `TA_EPSILON`.
///
/// TA-Lib 0.4 used `1e-8`, which flattened series of small prices (an RSI of 0 for a coin
/// quoted at 1e-5); TA-Lib 0.6 and later use `1e-14`, as here.
pub(crate) const EPSILON: f64 = 1e-14;

/// `TA_IS_ZERO(v)`.
#[inline]
pub(crate) fn is_zero(v: f64) -> bool {
    -EPSILON < v && v < EPSILON
}

/// `PER_TO_K(period)`: the EMA smoothing factor `2 / (period + 1)`.
#[inline]
pub(crate) fn per_to_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// Checks a period against TA-Lib's lower bound for the function.
pub(crate) fn check_period(what: &str, period: usize, min: usize) -> Result<usize, MarketError> {
    if period < min {
        return Err(MarketError::Config(format!(
            "{what} period must be at least {min} (as in TA-Lib), got {period}"
        )));
    }
    Ok(period)
}

/// The true range of a bar given the previous close (TA-Lib's `TRUE_RANGE` macro).
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut range = high - low;
    let up = (high - prev_close).abs();
    if up > range {
        range = up;
    }
    let down = (low - prev_close).abs();
    if down > range {
        range = down;
    }
    range
}
