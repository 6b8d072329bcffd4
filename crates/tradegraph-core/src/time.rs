//! Time: [`Timestamp`] in UTC milliseconds and the candle [`Timeframe`]s.

use crate::CoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// India Standard Time's offset from UTC (+05:30, the same all year), in minutes: NSE's
/// sessions, Zerodha Kite's trading days and candle times and India's tax dates are in it.
pub const IST_OFFSET_MINUTES: i32 = 5 * 60 + 30;

/// [`IST_OFFSET_MINUTES`] in milliseconds.
///
/// ```
/// assert_eq!(tradegraph_core::time::IST_OFFSET_MS, 19_800_000);
/// ```
pub const IST_OFFSET_MS: i64 = IST_OFFSET_MINUTES as i64 * 60_000;

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// An instant in UTC, in milliseconds since the Unix epoch.
///
/// Integer milliseconds keep the aggregator's arithmetic exact and fast. Serializes as RFC 3339
/// (`2024-01-01T10:00:00Z`, with milliseconds only when there are some); deserializes from RFC 3339
/// or from integer milliseconds.
///
/// RFC 3339 text carries four-digit years only, so what comes from outside (parsed text,
/// deserialized values, [`try_from_millis`](Self::try_from_millis)) must lie within
/// [`Timestamp::MIN`]`..=`[`Timestamp::MAX`] (years 0000 to 9999); anything else is refused with
/// [`CoreError::TimestampRange`], so every accepted value round-trips.
///
/// ```
/// use tradegraph_core::Timestamp;
/// let t: Timestamp = "2024-01-01T10:00:00Z".parse()?;
/// assert_eq!(t.millis(), 1_704_103_200_000);
/// assert_eq!(t.to_string(), "2024-01-01T10:00:00Z");
/// assert_eq!(t.compact(), "20240101T100000Z");
/// assert_eq!(t.add_millis(250).compact_millis(), "20240101T100000.250Z");
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// 0000-01-01T00:00:00Z, the earliest instant RFC 3339 text can carry.
    pub const MIN: Self = Self(-62_167_219_200_000);

    /// 9999-12-31T23:59:59.999Z, the latest instant RFC 3339 text can carry.
    pub const MAX: Self = Self(253_402_300_799_999);

    /// From milliseconds since the epoch, unchecked: for trusted arithmetic and sentinels. Values
    /// outside [`MIN`](Self::MIN)`..=`[`MAX`](Self::MAX) work in comparisons and arithmetic but do
    /// not survive serialization; for input from feeds and files use
    /// [`try_from_millis`](Self::try_from_millis).
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// From milliseconds since the epoch given by a feed or a file: refuses instants outside
    /// [`MIN`](Self::MIN)`..=`[`MAX`](Self::MAX) (years 0000 to 9999), which RFC 3339 cannot carry.
    ///
    /// ```
    /// use tradegraph_core::{CoreError, Timestamp};
    /// assert_eq!(Timestamp::try_from_millis(1_704_103_200_000)?.to_string(), "2024-01-01T10:00:00Z");
    /// assert_eq!(Timestamp::try_from_millis(Timestamp::MAX.millis())?, Timestamp::MAX);
    /// assert!(matches!(
    ///     Timestamp::try_from_millis(i64::MIN),
    ///     Err(CoreError::TimestampRange { .. })
    /// ));
    /// # Ok::<(), CoreError>(())
    /// ```
    pub fn try_from_millis(millis: i64) -> Result<Self, CoreError> {
        let t = Self(millis);
        if t.is_representable() {
            Ok(t)
        } else {
            Err(CoreError::TimestampRange {
                input: millis.to_string(),
            })
        }
    }

    /// Whether this instant lies within [`MIN`](Self::MIN)`..=`[`MAX`](Self::MAX), so that its
    /// RFC 3339 text parses back to it.
    pub const fn is_representable(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant plus `millis` (saturating).
    pub const fn add_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// The wall-clock time in India at this instant.
    ///
    /// ```
    /// use tradegraph_core::Timestamp;
    /// let t: Timestamp = "2024-03-28T18:45:00Z".parse()?;
    /// assert_eq!(t.in_india().to_string(), "2024-03-29 00:15:00");
    /// # Ok::<(), tradegraph_core::CoreError>(())
    /// ```
    pub fn in_india(self) -> chrono::NaiveDateTime {
        self.add_millis(IST_OFFSET_MS).to_datetime().naive_utc()
    }

    /// The Indian calendar day of this instant, as days since 1970-01-01.
    pub const fn india_day(self) -> i64 {
        self.0.saturating_add(IST_OFFSET_MS).div_euclid(DAY_MS)
    }

    /// The start (00:00 IST) of the Indian calendar day of this instant.
    ///
    /// ```
    /// use tradegraph_core::Timestamp;
    /// let t: Timestamp = "2024-03-28T18:45:00Z".parse()?;
    /// assert_eq!(t.india_day_start().to_string(), "2024-03-28T18:30:00Z");
    /// # Ok::<(), tradegraph_core::CoreError>(())
    /// ```
    pub const fn india_day_start(self) -> Self {
        Self(
            self.india_day()
                .saturating_mul(DAY_MS)
                .saturating_sub(IST_OFFSET_MS),
        )
    }

    /// As a chrono date-time, clamped to chrono's range (about ±262 000 years).
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or(if self.0 < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }

    /// From a chrono date-time.
    pub fn from_datetime<Tz: chrono::TimeZone>(t: DateTime<Tz>) -> Self {
        Self(t.timestamp_millis())
    }

    /// The compact form used in store keys: `20240101T100000Z` (seconds precision).
    pub fn compact(self) -> String {
        self.to_datetime().format("%Y%m%dT%H%M%SZ").to_string()
    }

    /// The compact form with milliseconds, used in decision ids: `20240101T100000.250Z`
    /// (always three digits, `.000` on a whole second).
    ///
    /// ```
    /// use tradegraph_core::Timestamp;
    /// let t: Timestamp = "2024-01-01T10:15:00Z".parse()?;
    /// assert_eq!(t.compact_millis(), "20240101T101500.000Z");
    /// assert_eq!(t.add_millis(7).compact_millis(), "20240101T101500.007Z");
    /// # Ok::<(), tradegraph_core::CoreError>(())
    /// ```
    pub fn compact_millis(self) -> String {
        self.to_datetime().format("%Y%m%dT%H%M%S%.3fZ").to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = if self.0.rem_euclid(1000) == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Millis
        };
        f.write_str(&self.to_datetime().to_rfc3339_opts(format, true))
    }
}

impl FromStr for Timestamp {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = DateTime::parse_from_rfc3339(s.trim())
            .map(Self::from_datetime)
            .map_err(|e| CoreError::Timestamp {
                input: s.chars().take(64).collect(),
                reason: e.to_string(),
            })?;
        if t.is_representable() {
            Ok(t)
        } else {
            // A four-digit year whose UTC offset moves the instant past year 0000 or 9999.
            Err(CoreError::TimestampRange {
                input: s.chars().take(64).collect(),
            })
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or integer milliseconds since the epoch")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Timestamp::try_from_millis(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map_err(|_| CoreError::TimestampRange {
                        input: v.to_string(),
                    })
                    .and_then(Timestamp::try_from_millis)
                    .map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A candle length. The aggregator builds all five at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timeframe {
    /// One minute.
    #[serde(rename = "1min", alias = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5min", alias = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15min", alias = "15m")]
    M15,
    /// One hour (for a session-bound market, hours count from the session open).
    #[serde(rename = "1h")]
    H1,
    /// One day (for a session-bound market, the trading session).
    #[serde(rename = "1d", alias = "daily")]
    D1,
}

impl Timeframe {
    /// All five, shortest first.
    pub const ALL: [Timeframe; 5] = [Self::M1, Self::M5, Self::M15, Self::H1, Self::D1];

    /// Nominal length in milliseconds (a session's daily candle is shorter).
    pub const fn millis(self) -> i64 {
        match self {
            Self::M1 => 60_000,
            Self::M5 => 300_000,
            Self::M15 => 900_000,
            Self::H1 => 3_600_000,
            Self::D1 => 86_400_000,
        }
    }

    /// The name used in store keys and files: `1min`, `5min`, `15min`, `1h`, `1d`.
    pub const fn key(self) -> &'static str {
        match self {
            Self::M1 => "1min",
            Self::M5 => "5min",
            Self::M15 => "15min",
            Self::H1 => "1h",
            Self::D1 => "1d",
        }
    }

    /// Position in [`Timeframe::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Timeframe {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1m" | "1min" => Ok(Self::M1),
            "5m" | "5min" => Ok(Self::M5),
            "15m" | "15min" => Ok(Self::M15),
            "1h" | "60m" | "60min" => Ok(Self::H1),
            "1d" | "d" | "daily" | "day" => Ok(Self::D1),
            _ => Err(CoreError::Timeframe(s.chars().take(32).collect())),
        }
    }
}

/// `from + after`, never overflowing: a year after `from` when the sum is past what the clock
/// holds (a configured or venue-given duration may be huge: it means "practically never").
///
/// ```
/// use std::time::{Duration, Instant};
/// let now = Instant::now();
/// assert!(tradegraph_core::time::later(now, Duration::MAX) > now);
/// assert_eq!(tradegraph_core::time::later(now, Duration::from_secs(1)), now + Duration::from_secs(1));
/// ```
pub fn later(from: std::time::Instant, after: std::time::Duration) -> std::time::Instant {
    const YEAR: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);
    from.checked_add(after)
        .or_else(|| from.checked_add(YEAR))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_indian_day_starts_at_midnight_ist() {
        // 2026-12-04T18:29:59.999Z is 23:59:59.999 IST on the 4th; a millisecond later the 5th.
        let before = Timestamp::from_millis(1_796_408_999_999);
        let after = Timestamp::from_millis(1_796_409_000_000);
        assert_eq!(after.india_day_start(), after);
        assert_eq!(before.india_day_start().millis(), after.millis() - DAY_MS);
        assert_eq!(after.india_day(), before.india_day() + 1);
        // Any moment of the 5th (IST) maps to the same start.
        let noon_ist = after.add_millis(12 * 3_600_000);
        assert_eq!(noon_ist.india_day_start(), after);
        assert_eq!(before.in_india().to_string(), "2026-12-04 23:59:59.999");
        // Before 1970 too: days and starts round down, not toward zero.
        let early = Timestamp::from_millis(-1);
        assert_eq!(early.india_day(), 0);
        assert_eq!(early.india_day_start().millis(), -IST_OFFSET_MS);
    }

    #[test]
    fn timestamps_round_trip_through_text_and_json() {
        let t: Timestamp = "2024-01-01T10:00:00.250Z".parse().unwrap();
        assert_eq!(t.to_string(), "2024-01-01T10:00:00.250Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert_eq!(
            serde_json::from_str::<Timestamp>("1704103200250").unwrap(),
            t
        );
        let ist: Timestamp = "2024-01-01T15:30:00+05:30".parse().unwrap();
        assert_eq!(ist.to_string(), "2024-01-01T10:00:00Z");
    }

    #[test]
    fn compact_forms_keep_seconds_or_milliseconds() {
        let t: Timestamp = "2024-01-01T10:15:00.999Z".parse().unwrap();
        assert_eq!(t.compact(), "20240101T101500Z");
        assert_eq!(t.compact_millis(), "20240101T101500.999Z");
        assert_eq!(Timestamp::EPOCH.compact_millis(), "19700101T000000.000Z");
        // Before the epoch the milliseconds still count forward within the second.
        assert_eq!(
            Timestamp::from_millis(-1).compact_millis(),
            "19691231T235959.999Z"
        );
    }

    #[test]
    fn bad_timestamps_say_what_was_given() {
        let err = "yesterday".parse::<Timestamp>().unwrap_err();
        assert!(err.to_string().contains("`yesterday`"), "{err}");
    }

    #[test]
    fn timeframes_parse_both_spellings() {
        for tf in Timeframe::ALL {
            assert_eq!(tf.key().parse::<Timeframe>().unwrap(), tf);
            let json = serde_json::to_string(&tf).unwrap();
            assert_eq!(serde_json::from_str::<Timeframe>(&json).unwrap(), tf);
        }
        assert_eq!("5m".parse::<Timeframe>().unwrap(), Timeframe::M5);
        assert!("2m"
            .parse::<Timeframe>()
            .unwrap_err()
            .to_string()
            .contains("`2m`"));
    }
}
