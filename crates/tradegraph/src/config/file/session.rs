//! `session = "24x7"`, `"nse"`, or `{ timezone_offset_minutes, open, close, holidays }`.

use chrono::{NaiveDate, NaiveTime};
use serde::de::{self, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::PathBuf;

/// A custom instrument's session as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionSpec {
    /// `"24x7"`: always open, days in UTC.
    AlwaysOpen,
    /// `"nse"`: NSE's hours and bundled holidays.
    Nse,
    /// Exchange hours.
    Hours(HoursSpec),
}

/// Exchange hours: local open and close on weekdays that are not holidays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoursSpec {
    pub(crate) timezone_offset_minutes: i32,
    #[serde(default)]
    pub(crate) time_zone: Option<String>,
    pub(crate) open: LocalTime,
    pub(crate) close: LocalTime,
    #[serde(default)]
    pub(crate) holidays: Vec<LocalDate>,
    #[serde(default)]
    pub(crate) holidays_file: Option<PathBuf>,
}

const EXPECTING: &str =
    "\"24x7\", \"nse\" or a table { timezone_offset_minutes, open, close, holidays }";

impl<'de> Deserialize<'de> for SessionSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SessionVisitor;
        impl<'de> Visitor<'de> for SessionVisitor {
            type Value = SessionSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTING)
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<SessionSpec, E> {
                match s.trim().to_ascii_lowercase().as_str() {
                    "24x7" | "24/7" => Ok(SessionSpec::AlwaysOpen),
                    "nse" => Ok(SessionSpec::Nse),
                    _ => Err(E::invalid_value(Unexpected::Str(s), &self)),
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SessionSpec, A::Error> {
                HoursSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(SessionSpec::Hours)
            }
        }
        deserializer.deserialize_any(SessionVisitor)
    }
}

/// A local time: `"09:15"`, `"09:15:30"` or a TOML local time (`09:15:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime(pub(crate) NaiveTime);

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match toml::Value::deserialize(deserializer)? {
            toml::Value::String(s) => s,
            toml::Value::Datetime(dt) if dt.date.is_none() && dt.time.is_some() => dt.to_string(),
            other => {
                return Err(de::Error::custom(format!(
                    "expected a local time like \"09:15\", found {}",
                    other.type_str()
                )))
            }
        };
        NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text.trim(), "%H:%M:%S%.f"))
            .map(LocalTime)
            .map_err(|_| {
                de::Error::custom(format!(
                    "`{text}` is not a local time like \"09:15\" or \"15:30:00\""
                ))
            })
    }
}

/// A local date: `"2026-01-26"` or a TOML local date (`2026-01-26`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalDate(pub(crate) NaiveDate);

impl<'de> Deserialize<'de> for LocalDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match toml::Value::deserialize(deserializer)? {
            toml::Value::String(s) => s,
            toml::Value::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => dt.to_string(),
            other => {
                return Err(de::Error::custom(format!(
                    "expected a date like \"2026-01-26\", found {}",
                    other.type_str()
                )))
            }
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(LocalDate)
            .map_err(|_| de::Error::custom(format!("`{text}` is not a date like \"2026-01-26\"")))
    }
}
