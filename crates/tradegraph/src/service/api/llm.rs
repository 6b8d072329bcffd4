//! `GET /api/v1/llm/usage` and `GET /api/v1/alerts`.

use super::logs::store;
use crate::alerts::sink::alert_of_record;
use crate::engine::AlertEvent;
use crate::service::params::{limit, Params};
use crate::service::usage::KEPT_DAYS;
use crate::service::{error::ApiError, AppState};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tradegraph_store::Query;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageQuery {
    days: Option<u32>,
}

/// Days `GET /api/v1/llm/usage` covers unless `?days=` says otherwise.
const DEFAULT_DAYS: u32 = 30;

/// `GET /api/v1/llm/usage?days=`: the model calls, tokens and cost of the last `days` UTC days
/// (30 unless set, at most [`KEPT_DAYS`], today included) by agent, by provider and by day
/// (newest first), with their total, as counted into the bot's [`UsageBook`] (saved with its
/// state: they survive a restart); and, from the model chain, this run's totals (`run`, and by
/// provider: `providers`), the budget and each provider's health. Both count by one rule (see
/// [`usage`](crate::service::usage)): a call is an attempt sent to a provider, answered or
/// failed; cached answers are `cached`, with no tokens and no cost. `incomplete: true` (with
/// `missed_events`) when the ledger missed calls. `configured: false` in rule mode.
///
/// ```text
/// {"configured": true, "days": 7, "since": "2026-11-28",
///  "total": {"calls": 64, "cached": 0, "input_tokens": 57600, "output_tokens": 3840, "cost": "0.19"},
///  "by_agent": {"technical": {...}, ...}, "by_provider": {"openai": {...}},
///  "by_day": [{"day": "2026-12-04", "calls": 64, ...}], "incomplete": false, "missed_events": 0,
///  "run": {...}, "providers": {...}, "budget": {...}, "health": [...]}
/// ```
///
/// [`UsageBook`]: crate::service::UsageBook
pub(crate) async fn usage(
    State(app): State<AppState>,
    Params(q): Params<UsageQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if days == 0 || days > KEPT_DAYS {
        return Err(ApiError::bad_request(format!(
            "days={days}: give 1 to {KEPT_DAYS} (the days of usage kept)"
        )));
    }
    let Some(llm) = &app.llm else {
        return Ok(Json(serde_json::json!({
            "configured": false,
            "reason": "no LLM provider is configured: the agents run in rule mode",
        })));
    };
    let books = llm.accounting();
    let mut answer = serde_json::json!({
        "configured": true,
        "run": books.run,
        "providers": books.providers,
        "budget": books.budget,
        "health": llm.health(),
    });
    if let Some(book) = &app.usage {
        let missed = book.missed();
        if let Some(answer) = answer.as_object_mut() {
            answer.insert("incomplete".into(), serde_json::json!(missed > 0));
            answer.insert("missed_events".into(), serde_json::json!(missed));
        }
        let report = book.report(days, chrono::Utc::now().date_naive());
        if let (Some(answer), serde_json::Value::Object(report)) =
            (answer.as_object_mut(), serde_json::json!(report))
        {
            answer.extend(report);
        }
    }
    Ok(Json(answer))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/alerts?limit=`: the newest alerts, newest first, each with its `id`, and
/// where they were read (`source`): the store's alert log (`"store"`; with MongoDB they
/// survive a restart, with this run's newest the store has not written yet merged in by
/// `id`), or, when the store fails or does not answer in time, the alerts this
/// run raised (`"memory"`, with `store_error` saying why): a store that is down is when alerts
/// matter most, so this never fails for it.
pub(crate) async fn alerts(
    State(app): State<AppState>,
    Params(q): Params<AlertsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = limit(q.limit, 50, 200)?;
    let query = Query::new(app.instrument.symbol.clone()).limit(n);
    let read = store("the alert log", app.stores.alert_log.alerts(&query)).await;
    let (alerts, source, why) = match (read, &app.alerts) {
        (Ok(records), recent) => {
            let stored = records.iter().rev().filter_map(alert_of_record).collect();
            let alerts = match recent {
                // The write-behind queue (or its spill) may still hold the newest.
                Some(recent) => merged(stored, recent.newest(n), n),
                None => stored,
            };
            (alerts, "store", None)
        }
        (Err(e), Some(recent)) => (recent.newest(n), "memory", Some(e.message)),
        (Err(e), None) => return Err(e),
    };
    let items: Vec<serde_json::Value> = alerts
        .into_iter()
        .filter_map(|alert: AlertEvent| {
            let id = alert.alert_id.clone();
            let mut v = serde_json::to_value(alert).ok()?;
            v["id"] = serde_json::json!(id);
            Some(v)
        })
        .collect();
    let mut answer = serde_json::json!({ "items": items, "source": source });
    if let Some(why) = why {
        answer["store_error"] = serde_json::json!(why);
    }
    Ok(Json(answer))
}

/// The newest `n` of `stored` (newest first) and `recent` (this run's, newest first), each
/// alert once (by `alert_id`), newest first: what the store has not written yet is listed too.
fn merged(stored: Vec<AlertEvent>, recent: Vec<AlertEvent>, n: usize) -> Vec<AlertEvent> {
    let mut seen = std::collections::HashSet::new();
    let mut all: Vec<AlertEvent> = recent
        .into_iter()
        .chain(stored)
        .filter(|a| a.alert_id.as_ref().is_none_or(|id| seen.insert(id.clone())))
        .collect();
    // Stable: of two at the same time, this run's order (recent first) stands.
    all.sort_by_key(|a| std::cmp::Reverse(a.at));
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AlertKind, Severity};
    use tradegraph_core::Timestamp;

    fn alert(id: &str, secs: i64) -> AlertEvent {
        let mut alert = AlertEvent::new(
            AlertKind::StoreDown,
            "redis",
            Severity::Critical,
            "down",
            Timestamp::from_secs(1_704_103_200 + secs),
        );
        alert.alert_id = Some(id.to_owned());
        alert
    }

    fn ids(alerts: &[AlertEvent]) -> Vec<&str> {
        alerts
            .iter()
            .filter_map(|a| a.alert_id.as_deref())
            .collect()
    }

    #[test]
    fn the_list_holds_the_alerts_the_store_has_not_written_yet() {
        // The store wrote a1 and a2; a3 is still in the write-behind queue.
        let stored = vec![alert("a2", 20), alert("a1", 10), alert("old", 0)];
        let recent = vec![alert("a3", 30), alert("a2", 20), alert("a1", 10)];
        let list = merged(stored, recent, 3);
        assert_eq!(
            ids(&list),
            ["a3", "a2", "a1"],
            "newest first, each once, paged"
        );
        let list = merged(vec![alert("a1", 10)], Vec::new(), 50);
        assert_eq!(ids(&list), ["a1"]);
    }
}
