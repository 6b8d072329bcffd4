//! [`UsageLedger`]: model calls, tokens and cost per UTC day, agent and provider, as saved in
//! the bot's state, and the [`UsageReport`] `GET /api/v1/llm/usage` answers from it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days of usage kept (older days are let go as new ones come): the most `?days=` may ask.
pub const KEPT_DAYS: u32 = 90;

/// The calls, tokens and cost of a day, an agent, a provider, or all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Calls made to a provider: each answer once (its repair turns included) and each failed
    /// attempt (a failover, an error; its tokens and cost, if any, counted too).
    pub calls: u64,
    /// Answers served from the response cache (no provider called, no cost).
    pub cached: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Answer tokens.
    pub output_tokens: u64,
    /// Cost in the price table's currency (zero for unpriced models and cached answers).
    pub cost: Decimal,
}

impl Tally {
    pub(super) fn add(&mut self, other: &Tally) {
        self.calls = self.calls.saturating_add(other.calls);
        self.cached = self.cached.saturating_add(other.cached);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cost = self.cost.saturating_add(other.cost);
    }

    /// Input plus output tokens.
    pub fn tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// One finished model call, as the ledger counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The UTC day it finished.
    pub day: NaiveDate,
    /// The agent that asked (`unknown` when the request did not say).
    pub agent: String,
    /// The provider that answered.
    pub provider: String,
    /// Its tokens and cost, `calls` or `cached` 1.
    pub tally: Tally,
}

/// One saved row: a day, an agent, a provider and their tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Row {
    day: NaiveDate,
    agent: String,
    provider: String,
    #[serde(flatten)]
    tally: Tally,
}

/// The saved form: `{"rows": [{day, agent, provider, calls, cached, input_tokens,
/// output_tokens, cost}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Saved {
    rows: Vec<Row>,
}

impl Saved {
    /// The saved form read row by row: the rows that read, and each row that does not (its
    /// place in `rows` and why), so that one bad row loses no other. `Err` when `value` has no
    /// list of rows at all.
    pub(crate) fn read_rows(
        value: serde_json::Value,
    ) -> Result<(Self, Vec<(usize, String)>), String> {
        let rows = match value {
            serde_json::Value::Object(mut map) => match map.remove("rows") {
                Some(serde_json::Value::Array(rows)) => rows,
                _ => return Err("`rows` is not a list of rows".to_owned()),
            },
            _ => return Err("not an object with `rows`".to_owned()),
        };
        let mut saved = Self::default();
        let mut bad = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            match serde_json::from_value::<Row>(row) {
                Ok(row) => saved.rows.push(row),
                Err(e) => bad.push((i, e.to_string())),
            }
        }
        Ok((saved, bad))
    }
}

/// Usage per UTC day, agent and provider, the newest [`KEPT_DAYS`] days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageLedger {
    rows: BTreeMap<(NaiveDate, String, String), Tally>,
}

impl UsageLedger {
    /// Counts `call`, and lets go of the days more than [`KEPT_DAYS`] before its day.
    pub fn record(&mut self, call: CallRecord) {
        let CallRecord {
            day,
            agent,
            provider,
            tally,
        } = call;
        self.rows
            .entry((day, agent, provider))
            .or_default()
            .add(&tally);
        if let Some(first_kept) = day.checked_sub_days(chrono::Days::new(u64::from(KEPT_DAYS - 1)))
        {
            self.rows.retain(|(d, _, _), _| *d >= first_kept);
        }
    }

    /// The usage of the `days` days up to `today` (UTC), today included (at least today;
    /// a window reaching before the calendar's first day starts there).
    ///
    /// ```
    /// use tradegraph::service::usage::UsageLedger;
    /// let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    /// let report = UsageLedger::default().report(u32::MAX, today);
    /// assert_eq!(report.since, chrono::NaiveDate::MIN);
    /// ```
    pub fn report(&self, days: u32, today: NaiveDate) -> UsageReport {
        let since = today
            .checked_sub_days(chrono::Days::new(u64::from(days.max(1) - 1)))
            .unwrap_or(NaiveDate::MIN);
        let mut report = UsageReport {
            days,
            since,
            ..UsageReport::default()
        };
        let mut by_day: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
        for ((day, agent, provider), tally) in
            self.rows.range((since, String::new(), String::new())..)
        {
            if *day > today {
                continue;
            }
            report.total.add(tally);
            report.by_agent.entry(agent.clone()).or_default().add(tally);
            report
                .by_provider
                .entry(provider.clone())
                .or_default()
                .add(tally);
            by_day.entry(*day).or_default().add(tally);
        }
        report.by_day = by_day
            .into_iter()
            .rev()
            .map(|(day, tally)| DayTally { day, tally })
            .collect();
        report
    }

    pub(crate) fn saved(&self) -> Saved {
        Saved {
            rows: self
                .rows
                .iter()
                .map(|((day, agent, provider), tally)| Row {
                    day: *day,
                    agent: agent.clone(),
                    provider: provider.clone(),
                    tally: *tally,
                })
                .collect(),
        }
    }

    pub(crate) fn from_saved(saved: Saved) -> Self {
        let mut ledger = Self::default();
        for row in saved.rows {
            ledger
                .rows
                .entry((row.day, row.agent, row.provider))
                .or_default()
                .add(&row.tally);
        }
        ledger
    }
}

/// One day's usage, in [`UsageReport::by_day`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTally {
    /// The UTC day.
    pub day: NaiveDate,
    /// Its calls, tokens and cost.
    #[serde(flatten)]
    pub tally: Tally,
}

/// Usage over a window of days, as `GET /api/v1/llm/usage` answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    /// The days asked for, today (UTC) included.
    pub days: u32,
    /// The first of them.
    pub since: NaiveDate,
    /// All of them.
    pub total: Tally,
    /// By agent.
    pub by_agent: BTreeMap<String, Tally>,
    /// By provider.
    pub by_provider: BTreeMap<String, Tally>,
    /// By day, newest first (days without calls are left out).
    pub by_day: Vec<DayTally>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bad_row_is_skipped_and_the_others_kept() {
        let value = serde_json::json!({"rows": [
            {"day": "2026-12-05", "agent": "technical", "provider": "openai", "calls": 3,
             "cached": 0, "input_tokens": 100, "output_tokens": 10, "cost": "0.5"},
            {"day": "2026-12-05", "agent": "bull", "provider": "openai", "calls": -1},
            {"day": "2026-12-06", "agent": "bear", "provider": "groq", "calls": 1,
             "cached": 0, "input_tokens": 5, "output_tokens": 1, "cost": "0"}
        ]});
        let (saved, bad) = Saved::read_rows(value).unwrap();
        assert_eq!(saved.rows.len(), 2);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, 1);
        let ledger = UsageLedger::from_saved(saved);
        let day: NaiveDate = "2026-12-05".parse().unwrap();
        assert_eq!(ledger.report(1, day).total.calls, 3);
        assert!(Saved::read_rows(serde_json::json!({"rows": "not rows"})).is_err());
    }

    fn call(day: &str, agent: &str, provider: &str, tokens: u64, cost: i64) -> CallRecord {
        CallRecord {
            day: day.parse().unwrap(),
            agent: agent.into(),
            provider: provider.into(),
            tally: Tally {
                calls: 1,
                input_tokens: tokens,
                output_tokens: 10,
                cost: Decimal::new(cost, 3),
                ..Tally::default()
            },
        }
    }

    #[test]
    fn usage_adds_up_by_agent_provider_and_day_within_the_window() {
        let mut ledger = UsageLedger::default();
        ledger.record(call("2026-12-01", "technical", "openai", 100, 5));
        ledger.record(call("2026-12-02", "technical", "openai", 100, 5));
        ledger.record(call("2026-12-02", "macro", "anthropic", 50, 1));
        ledger.record(call("2026-12-03", "macro", "openai", 20, 0));
        let today = "2026-12-03".parse().unwrap();
        let two = ledger.report(2, today);
        assert_eq!(two.since, "2026-12-02".parse::<NaiveDate>().unwrap());
        assert_eq!(two.total.calls, 3);
        assert_eq!(two.total.input_tokens, 170);
        assert_eq!(two.total.cost, Decimal::new(6, 3));
        assert_eq!(two.by_agent["technical"].calls, 1);
        assert_eq!(two.by_agent["macro"].calls, 2);
        assert_eq!(two.by_provider["openai"].tokens(), 140);
        assert_eq!(two.by_provider["anthropic"].tokens(), 60);
        let days: Vec<String> = two.by_day.iter().map(|d| d.day.to_string()).collect();
        assert_eq!(days, ["2026-12-03", "2026-12-02"]);
        assert_eq!(ledger.report(30, today).total.calls, 4);
        let back = UsageLedger::from_saved(
            serde_json::from_value(serde_json::to_value(ledger.saved()).unwrap()).unwrap(),
        );
        assert_eq!(back, ledger, "saved and read back whole");
    }

    #[test]
    fn a_window_longer_than_the_calendar_starts_at_its_first_day() {
        let mut ledger = UsageLedger::default();
        ledger.record(CallRecord {
            day: NaiveDate::MIN,
            ..call("2026-12-01", "macro", "openai", 1, 0)
        });
        ledger.record(call("2026-12-01", "technical", "openai", 100, 5));
        let today = "2026-12-03".parse().unwrap();
        let all = ledger.report(u32::MAX, today);
        assert_eq!(all.since, NaiveDate::MIN);
        assert_eq!(all.total.calls, 1, "the first day's call was let go");
        assert_eq!(all.by_agent["technical"].calls, 1);
        assert_eq!(ledger.report(0, today).since, today, "at least today");
        let first = ledger.report(5, NaiveDate::MIN);
        assert_eq!(first.since, NaiveDate::MIN);
    }

    #[test]
    fn days_older_than_the_kept_ones_are_let_go() {
        let mut ledger = UsageLedger::default();
        ledger.record(call("2026-01-01", "technical", "openai", 1, 0));
        ledger.record(call("2026-03-31", "technical", "openai", 1, 0));
        assert_eq!(
            ledger.rows.len(),
            2,
            "within 90 days of each other, both kept"
        );
        ledger.record(call("2026-04-01", "technical", "openai", 1, 0));
        let days: Vec<String> = ledger.rows.keys().map(|k| k.0.to_string()).collect();
        assert_eq!(days, ["2026-03-31", "2026-04-01"]);
    }
}
