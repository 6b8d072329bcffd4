//! What the charts draw: `equity`, `pnl/daily` and `candles` with the indicators.

use super::logs::store;
use crate::engine::EquityPoint;
use crate::service::error::ApiError;
use crate::service::params::{limit, Items, Params};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Candle, Timeframe, Timestamp};
use tradegraph_market::indicators::{IndicatorConfig, IndicatorSet, IndicatorValues};
use tradegraph_store::{Query, TradeStatus};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EquityQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/equity?limit=`: the equity curve, one point per one-minute bar since the bot
/// started (the newest `limit`, 1,440 unless set, at most 10,080), oldest first.
pub(crate) async fn equity(
    State(app): State<AppState>,
    Params(q): Params<EquityQuery>,
) -> Result<Json<Items<EquityPoint>>, ApiError> {
    let n = limit(q.limit, 1_440, crate::engine::EquityCurve::KEEP)?;
    Ok(Json(Items {
        items: app.bot.equity().points(n),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DailyQuery {
    days: Option<usize>,
}

/// One trading day's realized P&L.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DailyPnl {
    date: NaiveDate,
    realized_pnl: Decimal,
    trades: u64,
    wins: u64,
}

/// `GET /api/v1/pnl/daily?days=`: realized P&L of the trades closed on each of the last `days`
/// days (30 unless set, at most 366), by exit date (the exchange's date for an exchange
/// instrument, UTC otherwise), oldest first; days without a closed trade are left out.
pub(crate) async fn pnl_daily(
    State(app): State<AppState>,
    Params(q): Params<DailyQuery>,
) -> Result<Json<Items<DailyPnl>>, ApiError> {
    let days = limit(q.days, 30, 366)?;
    let day_of = |t: Timestamp| match app.instrument.session.exchange() {
        Some(x) => x.local_date(t),
        None => t.to_datetime().date_naive(),
    };
    let today = day_of(crate::engine::wall_now());
    let first = today - chrono::Days::new(u64::try_from(days - 1).unwrap_or(0));
    // This bot's trades: another run's (a backtest of the same days in the same database) are
    // not its P&L.
    let query = Query::new(app.instrument.symbol.clone())
        .run(app.bot.status().run_id)
        .limit(10_000);
    let trades = store("the trade log", app.stores.trades.trades(&query)).await?;
    let mut by_day: BTreeMap<NaiveDate, DailyPnl> = BTreeMap::new();
    for t in trades.iter().filter(|t| t.status == TradeStatus::Closed) {
        let (Some(exit), Some(pnl)) = (t.exit_timestamp, t.realized_pnl) else {
            continue;
        };
        let date = day_of(exit);
        if date < first {
            continue;
        }
        let day = by_day.entry(date).or_insert(DailyPnl {
            date,
            realized_pnl: Decimal::ZERO,
            trades: 0,
            wins: 0,
        });
        day.realized_pnl = day.realized_pnl.saturating_add(pnl);
        day.trades += 1;
        if pnl > Decimal::ZERO {
            day.wins += 1;
        }
    }
    Ok(Json(Items {
        items: by_day.into_values().collect(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CandlesQuery {
    timeframe: Option<String>,
    limit: Option<usize>,
    before: Option<String>,
}

/// A candle and the indicators after it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CandleView {
    #[serde(flatten)]
    candle: Candle,
    indicators: IndicatorValues,
}

/// `GET /api/v1/candles?timeframe=5m&limit=&before=`: closed candles of `timeframe` (1m, 5m,
/// 15m, 1h, 1d; 5m unless set), the newest `limit` (200 unless set, at most 1,000) before
/// `before`, oldest first, each with the indicators (SMA, EMA, RSI, MACD, Bollinger, ATR,
/// stochastic, ADX, OBV, VWAP) computed over it and the candles before it.
pub(crate) async fn candles(
    State(app): State<AppState>,
    Params(q): Params<CandlesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let timeframe: Timeframe = q
        .timeframe
        .as_deref()
        .unwrap_or("5m")
        .parse()
        .map_err(|_| ApiError::bad_request("timeframe: give 1m, 5m, 15m, 1h or 1d"))?;
    let n = limit(q.limit, 200, 1_000)?;
    let mut indicators = IndicatorSet::new(IndicatorConfig::default())
        .map_err(|e| ApiError::bad_request(format!("indicators: {e}")))?;
    // The indicators' lead-in comes before the candles shown.
    let wanted = n + indicators.lookback() + 1;
    let symbol = app.instrument.symbol.clone();
    let mut query = Query::new(symbol.clone()).limit(wanted);
    if let Some(before) = &q.before {
        query = query.before(crate::service::params::time("before", before)?);
    }
    let mut found = store(
        "the candle history",
        app.stores.history.candles(&query, timeframe),
    )
    .await?;
    if found.is_empty() && q.before.is_none() {
        found = store(
            "the hot cache",
            app.stores.hot.recent_candles(&symbol, timeframe, wanted),
        )
        .await?;
    }
    let mut items: Vec<CandleView> = found
        .into_iter()
        .map(|candle| CandleView {
            indicators: indicators.update_candle(&candle),
            candle,
        })
        .collect();
    let skip = items.len().saturating_sub(n);
    items.drain(..skip);
    Ok(Json(
        serde_json::json!({"timeframe": timeframe.key(), "items": items}),
    ))
}
