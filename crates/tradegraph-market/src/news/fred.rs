//! Macro figures from FRED, the St. Louis Fed's economic database:
//! `GET {base}/series/observations?series_id=...&api_key=KEY&file_type=json`.

use super::http::Http;
use super::json::kind;
use super::{MacroSnapshot, MacroSource, NewsError};
use crate::{Clock, SystemClock};
use chrono::{Duration as Days, NaiveDate, NaiveTime};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::redact::Secret;
use tradegraph_core::Timestamp;

/// One FRED series, and how its figures are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FredSeries {
    /// The series id (`DFEDTARU`, `INDCPIALLMINMEI`).
    pub id: String,
    /// FRED's `units` transformation: `lin` (the levels, unless set) or `pc1` (percent change
    /// from a year ago: a CPI index becomes its year-on-year inflation).
    pub units: String,
}

impl FredSeries {
    /// The series' levels.
    pub fn levels(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            units: "lin".to_owned(),
        }
    }

    /// The series' percent change from a year ago (`units=pc1`).
    pub fn year_on_year(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            units: "pc1".to_owned(),
        }
    }
}

/// Which FRED series fill a [`MacroSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FredSeriesSet {
    /// The region the snapshot is about (`US`, `IN`).
    pub region: String,
    /// The central bank's policy rate, in percent ([`MacroSnapshot::policy_rate_pct`]).
    pub policy_rate: FredSeries,
    /// Consumer price inflation, year on year, in percent
    /// ([`MacroSnapshot::cpi_inflation_yoy_pct`]).
    pub cpi_yoy: FredSeries,
    /// The US federal funds target, upper bound ([`MacroSnapshot::us_fed_funds_pct`]).
    pub us_fed_funds: Option<FredSeries>,
    /// More figures, by the name they get in [`MacroSnapshot::extra`].
    pub extra: BTreeMap<String, FredSeries>,
}

impl FredSeriesSet {
    /// The figures a crypto bot reads: the US federal funds target's upper bound (`DFEDTARU`)
    /// as the policy rate and in `us_fed_funds_pct`, US CPI year on year (`CPIAUCSL`, `pc1`),
    /// the Fed's broad trade-weighted dollar index (`DTWEXBGS`, as `extra.usd_broad_index`:
    /// not ICE's DXY, which FRED does not carry) and the 10-year Treasury yield (`DGS10`, as
    /// `extra.us_10y_yield_pct`).
    pub fn us() -> Self {
        Self {
            region: "US".to_owned(),
            policy_rate: FredSeries::levels("DFEDTARU"),
            cpi_yoy: FredSeries::year_on_year("CPIAUCSL"),
            us_fed_funds: Some(FredSeries::levels("DFEDTARU")),
            extra: BTreeMap::from([
                ("usd_broad_index".to_owned(), FredSeries::levels("DTWEXBGS")),
                ("us_10y_yield_pct".to_owned(), FredSeries::levels("DGS10")),
            ]),
        }
    }

    /// The figures an Indian bot reads. The RBI publishes no API of its own; FRED carries its
    /// policy rate as the OECD's "central bank rates: total for India" (`IRSTCB01INM156N`,
    /// monthly) and India's CPI (`INDCPIALLMINMEI`, read as `pc1`), besides the US federal
    /// funds target (`DFEDTARU`) and the rupee per dollar (`DEXINUS`, as `extra.usd_inr`).
    /// The OECD series are published with a lag of months and may stop being updated: every
    /// snapshot says in its [`source`](MacroSnapshot::source) the date of each figure, and
    /// [`FileMacro`](super::FileMacro) with the RBI's announcements stays available.
    pub fn india() -> Self {
        Self {
            region: "IN".to_owned(),
            policy_rate: FredSeries::levels("IRSTCB01INM156N"),
            cpi_yoy: FredSeries::year_on_year("INDCPIALLMINMEI"),
            us_fed_funds: Some(FredSeries::levels("DFEDTARU")),
            extra: BTreeMap::from([("usd_inr".to_owned(), FredSeries::levels("DEXINUS"))]),
        }
    }
}

/// Macro figures from FRED (<https://fred.stlouisfed.org>, a free key: `FRED_API_KEY`).
///
/// **As of, by vintage.** Each series is read as FRED knew it at the end of the day before the
/// time asked for: the request sets `realtime_start` and `realtime_end` to that day (FRED's
/// archive, ALFRED, keeps every vintage), so a figure revised later, or released later that
/// day, is never seen early. The snapshot's [`as_of`](MacroSnapshot::as_of) is the end of that
/// day (00:00 UTC of the day asked about), when the vintage was complete; its
/// [`source`](MacroSnapshot::source) names each series with the period of its figure
/// (`FRED DFEDTARU 2024-12-19=4.50`), so a stale series shows (the macro prompt shows it).
/// An observation for a period after that day is not a figure of the vintage and is skipped.
///
/// A missing value (FRED's `.`) is skipped for the latest one before it. The policy rate and
/// the CPI are required; an optional figure that cannot be read is left out and logged.
///
/// ```no_run
/// use tradegraph_market::news::{FredMacro, FredSeriesSet, MacroSource};
/// # async fn run() -> Result<(), tradegraph_market::news::NewsError> {
/// let fred = FredMacro::new("FRED_API_KEY value", FredSeriesSet::us())?;
/// let now = tradegraph_core::Timestamp::from_secs(1_733_300_000);
/// let snapshot = fred.snapshot(now).await?;
/// println!("fed funds {} %, CPI {} % ({})", snapshot.policy_rate_pct,
///     snapshot.cpi_inflation_yoy_pct, snapshot.source);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FredMacro {
    http: Http,
    series: FredSeriesSet,
    clock: Arc<dyn Clock>,
}

/// One figure as FRED knew it.
#[derive(Debug, Clone, PartialEq)]
struct Figure {
    value: f64,
    /// The period it is for (`2024-11-01` for November's CPI).
    period: NaiveDate,
}

impl FredMacro {
    /// FRED's own API root.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.stlouisfed.org/fred";

    /// How many observations are read back to find a value that is not missing.
    const LOOK_BACK: usize = 10;

    /// A client for `key` reading `series`, at [`Self::DEFAULT_BASE_URL`], 10 s timeout, on
    /// the system clock.
    pub fn new(key: impl Into<Secret>, series: FredSeriesSet) -> Result<Self, NewsError> {
        Ok(Self {
            http: Http::new("fred", Self::DEFAULT_BASE_URL, key.into(), "api_key")?,
            series,
            clock: Arc::new(SystemClock),
        })
    }

    /// Another API root (`FRED_BASE_URL`; a proxy or a local test server).
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, NewsError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }

    /// The timeout of each call (10 s unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The clock that bounds what is asked for (a backtest's simulated clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The series read.
    pub fn series(&self) -> &FredSeriesSet {
        &self.series
    }

    /// The latest value of `series` known at the end of `day`.
    async fn figure(&self, series: &FredSeries, day: NaiveDate) -> Result<Figure, NewsError> {
        let day_text = day.to_string();
        let body = self
            .http
            .get_json(
                "series/observations",
                &[
                    ("series_id", series.id.clone()),
                    ("file_type", "json".to_owned()),
                    ("units", series.units.clone()),
                    ("sort_order", "desc".to_owned()),
                    ("limit", Self::LOOK_BACK.to_string()),
                    ("observation_end", day_text.clone()),
                    ("realtime_start", day_text.clone()),
                    ("realtime_end", day_text),
                ],
            )
            .await?;
        self.latest_value(&series.id, &body, day)
    }

    /// The first observation with a value in `body` (newest first) for a period no later than
    /// `day`.
    fn latest_value(&self, id: &str, body: &Value, day: NaiveDate) -> Result<Figure, NewsError> {
        let malformed = |path: String, reason: String| NewsError::Malformed {
            provider: "fred",
            path,
            reason: format!("series {id}: {reason}"),
        };
        let observations = body
            .get("observations")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                let said = body
                    .get("error_message")
                    .and_then(Value::as_str)
                    .map_or(String::new(), |e| {
                        format!(" (FRED says: {})", self.http.snippet(e))
                    });
                malformed(
                    "$.observations".to_owned(),
                    format!("expected an array, found {}{said}", kind(body)),
                )
            })?;
        for (i, obs) in observations.iter().enumerate() {
            let field = |key: &str| {
                obs.get(key).and_then(Value::as_str).ok_or_else(|| {
                    malformed(
                        format!("$.observations[{i}].{key}"),
                        "missing or not a string".to_owned(),
                    )
                })
            };
            let date = |key: &str| {
                let text = field(key)?;
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
                    malformed(
                        format!("$.observations[{i}].{key}"),
                        format!("`{text}` is not a YYYY-MM-DD date: {e}"),
                    )
                })
            };
            let value = field("value")?.trim();
            if value == "." || value.is_empty() {
                continue; // FRED's "no value for this period"
            }
            let value: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    malformed(
                        format!("$.observations[{i}].value"),
                        format!("`{value}` is not a number"),
                    )
                })?;
            let period = date("date")?;
            if period > day {
                continue; // not a figure of this vintage
            }
            return Ok(Figure { value, period });
        }
        Err(malformed(
            "$.observations".to_owned(),
            format!(
                "no value among the latest {} observations",
                observations.len()
            ),
        ))
    }
}

#[async_trait::async_trait]
impl MacroSource for FredMacro {
    async fn snapshot(&self, as_of: Timestamp) -> Result<MacroSnapshot, NewsError> {
        let as_of = as_of.min(self.clock.now());
        // What FRED knew at the end of the day before: nothing released later that day.
        let day = as_of.to_datetime().date_naive() - Days::days(1);
        let set = &self.series;
        let mut sources = Vec::new();
        let mut note = |name: &str, series: &FredSeries, figure: &Figure| {
            sources.push(format!(
                "{name}: FRED {}{} {}={}",
                series.id,
                if series.units == "lin" {
                    String::new()
                } else {
                    format!(" ({})", series.units)
                },
                figure.period,
                figure.value
            ));
        };
        // Every series at once: a snapshot takes one call's time, not one per series.
        let fed_funds_series = set
            .us_fed_funds
            .as_ref()
            .filter(|series| *series != &set.policy_rate);
        let (policy, cpi, fed_funds, extras) = futures::join!(
            self.figure(&set.policy_rate, day),
            self.figure(&set.cpi_yoy, day),
            async {
                match fed_funds_series {
                    Some(series) => Some(self.figure(series, day).await),
                    None => None,
                }
            },
            futures::future::join_all(set.extra.iter().map(|(name, series)| async move {
                (name, series, self.figure(series, day).await)
            })),
        );
        let (policy, cpi) = (policy?, cpi?);
        note("policy rate", &set.policy_rate, &policy);
        note("CPI y/y", &set.cpi_yoy, &cpi);
        let optional = |name: &str, result: Result<Figure, NewsError>| match result {
            Ok(figure) => Some(figure),
            Err(e) => {
                tracing::warn!(figure = name, error = %e, "a macro figure is left out of this snapshot");
                None
            }
        };
        let mut us_fed_funds = None;
        if let Some(series) = &set.us_fed_funds {
            match fed_funds {
                None => us_fed_funds = Some(policy.value),
                Some(result) => {
                    if let Some(f) = optional("us_fed_funds", result) {
                        note("US fed funds", series, &f);
                        us_fed_funds = Some(f.value);
                    }
                }
            }
        }
        let mut extra = BTreeMap::new();
        for (name, series, result) in extras {
            if let Some(f) = optional(name, result) {
                note(name, series, &f);
                extra.insert(name.clone(), f.value);
            }
        }
        // The vintage is complete at the end of `day`: 00:00 UTC of the day asked about.
        let complete =
            Timestamp::from_datetime((day + Days::days(1)).and_time(NaiveTime::MIN).and_utc());
        Ok(MacroSnapshot {
            as_of: complete.min(as_of),
            region: set.region.clone(),
            policy_rate_pct: policy.value,
            cpi_inflation_yoy_pct: cpi.value,
            us_fed_funds_pct: us_fed_funds,
            dxy: None,
            extra,
            source: sources.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fred() -> FredMacro {
        FredMacro::new("k", FredSeriesSet::us()).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_value_that_is_not_missing_is_read() {
        // FRED clips every observation's real-time period to the one asked for.
        let body = json!({"observations": [
            {"realtime_start": "2024-12-02", "realtime_end": "2024-12-02", "date": "2024-12-03", "value": "4.50"},
            {"realtime_start": "2024-12-02", "realtime_end": "2024-12-02", "date": "2024-12-02", "value": "."},
            {"realtime_start": "2024-12-02", "realtime_end": "2024-12-02", "date": "2024-11-29", "value": "4.75"}
        ]});
        let f = fred()
            .latest_value("DFEDTARU", &body, day("2024-12-02"))
            .unwrap();
        assert_eq!(
            f.value, 4.75,
            "a period after the vintage's day and a missing value skipped"
        );
        assert_eq!(f.period.to_string(), "2024-11-29");
    }

    #[test]
    fn a_bad_body_names_the_series_and_the_place() {
        let err = fred()
            .latest_value("DGS10", &json!({"observations": [{"date": "2024-01-01", "value": "abc", "realtime_start": "2024-01-01"}]}), day("2024-01-02"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DGS10")
                && err.contains("$.observations[0].value")
                && err.contains("`abc`"),
            "{err}"
        );
        let err = fred()
            .latest_value("DGS10", &json!({"error_code": 400, "error_message": "Bad Request. The series does not exist."}), day("2024-01-02"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("The series does not exist"), "{err}");
        let err = fred()
            .latest_value(
                "DGS10",
                &json!({"observations": [{"date": "2024-01-01", "value": "."}]}),
                day("2024-01-02"),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("no value among the latest 1"), "{err}");
    }
}
