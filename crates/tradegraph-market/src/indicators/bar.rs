//! [`Bar`]: one OHLCV bar in `f64`, the indicators' input.

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Candle, Decimal, Timestamp};

/// One OHLCV bar in `f64`. Indicators are analytics, so prices are converted from exact
/// decimals once per bar (`From<&Candle>`).
///
/// ```
/// use tradegraph_core::{Candle, Decimal, Timeframe, Timestamp};
/// use tradegraph_market::indicators::Bar;
///
/// let candle = Candle::opening(Timestamp::EPOCH, Timeframe::M1, Decimal::new(10025, 2), Decimal::ONE);
/// let bar = Bar::from(&candle);
/// assert_eq!((bar.close, bar.volume), (100.25, 1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bar {
    /// Bar start; [`Vwap`](super::Vwap) uses it to find UTC-day sessions.
    pub ts: Timestamp,
    /// First price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Quantity traded.
    pub volume: f64,
}

impl Bar {
    /// A bar from its parts.
    pub const fn new(
        ts: Timestamp,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Self {
        Self {
            ts,
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// A bar holding one price and no volume (for close-only indicators).
    pub const fn from_close(ts: Timestamp, close: f64) -> Self {
        Self::new(ts, close, close, close, close, 0.0)
    }

    /// The typical price `(high + low + close) / 3`.
    #[inline]
    pub fn typical_price(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

impl From<&Candle> for Bar {
    fn from(candle: &Candle) -> Self {
        Self::new(
            candle.open_time,
            to_f64(candle.open),
            to_f64(candle.high),
            to_f64(candle.low),
            to_f64(candle.close),
            to_f64(candle.volume),
        )
    }
}

impl From<Candle> for Bar {
    fn from(candle: Candle) -> Self {
        Self::from(&candle)
    }
}

/// Exact powers of ten as `f64` (every one up to 1e22 is representable).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A decimal as the nearest `f64`.
///
/// Prices have short mantissas, so the fast path divides two exactly representable numbers
/// (mantissa below 2^53, scale up to 22): one IEEE division, correctly rounded, the same value
/// as parsing the decimal's text as `f64`, and much cheaper than the general conversion.
#[inline]
fn to_f64(value: Decimal) -> f64 {
    let mantissa = value.mantissa();
    let scale = value.scale() as usize;
    if let (Ok(small), Some(&power)) = (i64::try_from(mantissa), POW10.get(scale)) {
        if small.unsigned_abs() < 1 << 53 {
            return small as f64 / power;
        }
    }
    value.to_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decimals_convert_like_parsing_their_text() {
        for text in [
            "0",
            "-0.5",
            "100.25",
            "93512.34000000",
            "0.00000001",
            "1e-20",
            "-123456.789012",
            "79228162514264337593543950335",
            "0.1234567890123456789012345678",
        ] {
            let decimal: Decimal = text
                .parse()
                .unwrap_or_else(|_| Decimal::from_scientific(text).unwrap());
            let expected: f64 = decimal.to_string().parse().unwrap();
            let got = to_f64(decimal);
            assert!(
                (got - expected).abs() <= expected.abs() * 1e-15,
                "{text}: {got} vs {expected}"
            );
        }
        let exact: Decimal = "0.3".parse().unwrap();
        assert_eq!(to_f64(exact), 0.3);
    }
}
