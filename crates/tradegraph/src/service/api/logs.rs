//! The logs: `trades`, `decisions` (and one by id), `lessons` and `operator-actions`.

use crate::engine::Command;
use crate::service::error::ApiError;
use crate::service::params::{limit, Items, Page, PageEnd, PageQuery, Params, Segments};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use std::future::Future;
use std::time::Duration;
use tradegraph_core::Timestamp;
use tradegraph_store::{
    DecisionRecord, Lesson, OperatorAction, PromptRecord, Query, RunId, StoreError, TradeRecord,
};

/// How long a store may take to answer.
const STORE_TIMEOUT: Duration = Duration::from_secs(15);

/// A store call with its time limit.
pub(crate) async fn store<T>(
    what: &str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            format!("the store did not answer for {what} within {STORE_TIMEOUT:?}; is MongoDB up?"),
        )),
    }
}

/// One page of a log read with `fetch`: the newest `limit` items before the page's end,
/// newest first, the items of one millisecond by `key` (highest first), so that a cursor
/// resumes exactly after the last item of the page before, however many share its millisecond.
async fn page_of<T, F, Fut>(
    app: &AppState,
    run: Option<RunId>,
    page: &PageQuery,
    time: impl Fn(&T) -> Timestamp,
    key: impl Fn(&T) -> &str,
    fetch: F,
) -> Result<Page<T>, ApiError>
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ApiError>>,
{
    let n = page.limit()?;
    let mut base = Query::new(app.instrument.symbol.clone());
    if let Some(run) = run {
        base = base.run(run);
    }
    let millisecond = |at: Timestamp| base.clone().between(at, at.add_millis(1));
    let end = page.end()?;
    let mut items = Vec::new();
    if let Some(PageEnd {
        at,
        key: Some(after),
    }) = &end
    {
        // The rest of the cursor's millisecond first.
        items = fetch(millisecond(*at)).await?;
        items.retain(|t| key(t) < after.as_str());
        items.sort_by(|a, b| key(b).cmp(key(a)));
        items.truncate(n);
    }
    let want = n - items.len();
    if want > 0 {
        let mut query = base.clone().limit(want);
        if let Some(end) = &end {
            query = query.before(end.at);
        }
        let mut older = fetch(query).await?;
        // A full answer may cut its oldest millisecond anywhere: take all of it.
        if let Some(oldest) = older.first().map(&time).filter(|_| older.len() >= want) {
            older.retain(|t| time(t) != oldest);
            older.extend(fetch(millisecond(oldest)).await?);
        }
        older.sort_by(|a, b| time(b).cmp(&time(a)).then_with(|| key(b).cmp(key(a))));
        older.truncate(want);
        items.extend(older);
    }
    Ok(Page::new(items, n, time, key))
}

/// `GET /api/v1/trades?limit=&before=&cursor=`: trades by entry time, newest first.
pub(crate) async fn trades(
    State(app): State<AppState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<TradeRecord>>, ApiError> {
    let log = &app.stores.trades;
    let fetch = |q: Query| async move { store("the trade log", log.trades(&q)).await };
    let run = Some(app.bot.status().run_id);
    let found = page_of(
        &app,
        run,
        &page,
        |t| t.entry_timestamp,
        |t| &t.trade_id,
        fetch,
    )
    .await?;
    Ok(Json(found))
}

/// `GET /api/v1/decisions?limit=&before=&cursor=`: decisions, newest first, each with every
/// agent's view, the guard's verdict and the orders.
pub(crate) async fn decisions(
    State(app): State<AppState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<DecisionRecord>>, ApiError> {
    let log = &app.stores.decisions;
    let fetch = |q: Query| async move { store("the decision log", log.decisions(&q)).await };
    let found = page_of(
        &app,
        Some(app.bot.status().run_id),
        &page,
        |d| d.timestamp,
        |d| &d.decision_id,
        fetch,
    )
    .await?;
    Ok(Json(found))
}

/// The decision time in a decision id `<SYMBOL>-<YYYYMMDDTHHMMSS.mmmZ>`.
fn decision_time(id: &str) -> Option<Timestamp> {
    let (_, compact) = id.rsplit_once('-')?;
    let t = chrono::NaiveDateTime::parse_from_str(compact, "%Y%m%dT%H%M%S%.3fZ").ok()?;
    Some(Timestamp::from_datetime(t.and_utc()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionQuery {
    run: Option<String>,
}

/// `GET /api/v1/decisions/{id}?run=`: one decision: every agent's reasoning and its call
/// (signal and confidence) or, for the risk manager, its assessment (risk score, limits,
/// warnings), with the mode that produced it (model or rules) and, when a model was asked, the
/// prompt's hash ([`prompt`]) and the model's answer; the debate, the guard's findings, the
/// orders. Of several runs' decisions with this id, the `run` asked for, else this bot's own
/// run's.
pub(crate) async fn decision(
    State(app): State<AppState>,
    Segments(id): Segments<String>,
    Params(q): Params<DecisionQuery>,
) -> Result<Json<DecisionRecord>, ApiError> {
    find_decision(&app, &id, q.run).await.map(Json)
}

/// `GET /api/v1/decisions/{id}/replay?run=`: the decision's model answers read again, as
/// recorded, through each agent's report schema (no model is asked): agent by agent, whether
/// the report comes out as the decision recorded it.
pub(crate) async fn replay(
    State(app): State<AppState>,
    Segments(id): Segments<String>,
    Params(q): Params<DecisionQuery>,
) -> Result<Json<crate::audit::DecisionReplay>, ApiError> {
    let record = find_decision(&app, &id, q.run).await?;
    replayed(&app, &record, None).await
}

/// `POST /api/v1/decisions/{id}/replay?run=` (behind the token: it spends model calls, in the
/// day's budget): the decision's prompts sent to the bot's model again, word for word, and
/// agent by agent whether it still answers the same.
///
/// One at a time (another asked meanwhile is a 429), and recorded in the operator log with the
/// caller's address and what it came to, as every control is.
pub(crate) async fn replay_asked(
    State(app): State<AppState>,
    Segments(id): Segments<String>,
    Params(q): Params<DecisionQuery>,
    request: axum::extract::Request,
) -> Result<Json<crate::audit::DecisionReplay>, ApiError> {
    let Some(model) = app.model.clone() else {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "this bot has no model (its agents run on rules): there is nothing to ask again; GET \
             the same path reads the recorded answers again",
        ));
    };
    let Ok(one) = app.replays.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "a decision's prompts are being asked again already: try once it has answered",
        ));
    };
    let record = find_decision(&app, &id, q.run).await?;
    let source = crate::service::auth::peer(&request).map(|p| format!("http {p}"));
    // On a task of its own: the calls are paid for and recorded even when the caller leaves.
    let asking = tokio::spawn(async move {
        let asked = tokio::time::timeout(ASK_WITHIN, replayed(&app, &record, Some(model.as_ref())))
            .await
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "the model did not answer every prompt within {} s; try again, or GET \
                         the same path to read the recorded answers",
                        ASK_WITHIN.as_secs()
                    ),
                )
            })
            .and_then(|r| r);
        let answered = match &asked {
            Ok(Json(r)) => Ok(format!(
                "{} reports, {}",
                r.reports.len(),
                if r.same {
                    "every one as recorded"
                } else {
                    "not every one as recorded"
                }
            )),
            Err(e) => Err(e.message.clone()),
        };
        drop(one);
        let note = Command::DecisionReplayed {
            decision: record.decision_id.clone(),
            answered,
        };
        // Recorded by the engine, after a decision cycle in flight: not waited for here.
        let bot = app.bot.clone();
        tokio::spawn(async move {
            if let Err(e) = bot.send(note, source).await {
                tracing::warn!(error = %e, "a replay asked is not in the operator log: the bot stopped");
            }
        });
        asked
    });
    asking
        .await
        .map_err(|e| ApiError::unavailable(format!("the replay stopped: {e}")))?
}

/// How long asking a decision's prompts again may take (under the CLI's 70 s).
const ASK_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

async fn replayed(
    app: &AppState,
    record: &DecisionRecord,
    model: Option<&dyn tradegraph_agents::model::ReportModel>,
) -> Result<Json<crate::audit::DecisionReplay>, ApiError> {
    crate::audit::replay(record, app.stores.prompts.as_ref(), model)
        .await
        .map(Json)
        .map_err(|e| ApiError::unavailable(e.to_string()))
}

/// The decision `id` of run `run` (this bot's own run unless given).
async fn find_decision(
    app: &AppState,
    id: &str,
    run: Option<String>,
) -> Result<DecisionRecord, ApiError> {
    let Some(at) = decision_time(id) else {
        return Err(ApiError::not_found(format!(
            "`{id}` is not a decision id of this bot (they read `{}-20240101T101500.000Z`)",
            app.instrument.symbol
        )));
    };
    let run = run.map_or_else(|| app.bot.status().run_id, RunId::from_text);
    let query = Query::new(app.instrument.symbol.clone())
        .between(at, at.add_millis(1))
        .run(run.clone());
    let found = store("the decision log", app.stores.decisions.decisions(&query)).await?;
    found
        .into_iter()
        .find(|d| d.decision_id == id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no decision `{id}` of run `{run}` in the decision log (`?run=` names another run)"
            ))
        })
}

/// `GET /api/v1/prompts/{hash}`: the prompt a decision's agent names by `prompt_hash` (stored
/// once per distinct text): the agent, the template's version, the system and user messages.
pub(crate) async fn prompt(
    State(app): State<AppState>,
    Segments(hash): Segments<String>,
) -> Result<Json<PromptRecord>, ApiError> {
    store("the prompt log", app.stores.prompts.prompt(&hash))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no prompt `{hash}` in the prompt log (decisions name theirs by `prompt_hash`, \
                 `sha256:` and 64 hex digits)"
            ))
        })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LessonsQuery {
    limit: Option<usize>,
    agent: Option<tradegraph_agents::AgentName>,
}

/// `GET /api/v1/lessons?limit=&agent=`: the newest lessons, newest first.
pub(crate) async fn lessons(
    State(app): State<AppState>,
    Params(q): Params<LessonsQuery>,
) -> Result<Json<Items<Lesson>>, ApiError> {
    let n = limit(q.limit, 50, 500)?;
    let items = store(
        "the lessons",
        app.stores
            .lessons
            .recent_lessons(&app.instrument.symbol, q.agent.map(|a| a.as_str()), n),
    )
    .await?;
    Ok(Json(Items { items }))
}

/// `GET /api/v1/operator-actions?limit=&before=&cursor=`: what operators did, newest first.
pub(crate) async fn operator_actions(
    State(app): State<AppState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<OperatorAction>>, ApiError> {
    let log = &app.stores.operators;
    let fetch = |q: Query| async move { store("the operator log", log.actions(&q)).await };
    let found = page_of(&app, None, &page, |a| a.timestamp, |a| &a.action_id, fetch).await?;
    Ok(Json(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_id_gives_its_time() {
        let t: Timestamp = "2024-01-01T10:15:00.250Z".parse().unwrap();
        let id = tradegraph_core::order::DecisionId::at(&"BTCUSDT".into(), t);
        assert_eq!(decision_time(id.as_str()), Some(t));
        assert_eq!(decision_time("nonsense"), None);
        assert_eq!(
            decision_time("BTC-USD-20240101T101500.000Z").map(|t| t.millis() % 1000),
            Some(0)
        );
    }
}
