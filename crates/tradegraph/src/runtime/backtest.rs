//! Replaying data through the whole graph.

use super::summary::{BotSummary, EquityPoint};
use super::{persist, BotConfig, RuntimeError};
use futures::StreamExt;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use tradegraph_agents::learning::Learner;
use tradegraph_agents::node::{registry, Desk};
use tradegraph_agents::{ExternalInputs, SnapshotBuilder, TradingState};
use tradegraph_broker::{Broker, FeeModel, PaperBroker, PaperConfig};
use tradegraph_core::risk::RiskGuard;
use tradegraph_core::{Currency, Timeframe, Timestamp};
use tradegraph_graph::{yaml, RunConfig};
use tradegraph_market::aggregate::{with_candles, AggregatorPolicy};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::{MarketEvent, SimulatedClock};
use tradegraph_store::TradeRecord;

/// Replays `config.data` through the aggregator, the paper broker and, at every close of the
/// decision timeframe, one cycle of the graph; calls `on_cycle` with each cycle's final state.
/// The agents only ever see data stamped at or before the simulated time.
///
/// # Errors
/// [`RuntimeError`] when the data, the graph or the broker cannot be set up, or a cycle fails.
pub async fn backtest(
    config: BotConfig,
    mut on_cycle: impl FnMut(&TradingState),
) -> Result<BotSummary, RuntimeError> {
    let instrument = config.instrument.clone();
    let fees = match instrument.currency {
        Currency::Inr => FeeModel::zerodha_futures(),
        _ => FeeModel::binance_spot(),
    };
    let broker = Arc::new(PaperBroker::new(
        PaperConfig::new(instrument.clone(), config.cash).fees(fees),
    )?);
    let mut desk = Desk::new(broker.clone());
    desk.guard = Arc::new(Mutex::new(
        RiskGuard::new(config.risk_limits.clone())
            .map_err(|e| RuntimeError::Config(e.to_string()))?,
    ));
    let graph = yaml::load_str(
        &config.graph_yaml,
        &config.graph_origin,
        &registry(&config.brain, &desk),
    )
    .map_err(|e| RuntimeError::Graph(e.to_string()))?;

    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(config.data.clone(), instrument.symbol.clone())
    })?;
    let stats = replay.stats();
    let mut events = with_candles(
        replay.stream(),
        instrument.symbol.clone(),
        instrument.session.clone(),
        AggregatorPolicy::default(),
    );
    let mut builder = SnapshotBuilder::new(instrument.session.clone(), config.keep_candles);
    let mut summary = BotSummary::new(config.cash);
    let stores = config.stores.clone();
    let mut open_trade: Option<(TradeRecord, Decimal)> = None;
    let mut lessons_stored = 0usize;
    while let Some(event) = events.next().await {
        let Some(candle) = builder.on_event(&event)? else {
            if let MarketEvent::Notice { notice, .. } = &event {
                tracing::warn!(?notice, "feed");
            }
            continue;
        };
        if let Err(e) = persist::candle(&stores, &instrument.symbol, &candle).await {
            summary.store_errors += 1;
            tracing::warn!(error = %e, "store: candle not written");
        }
        if candle.timeframe == Timeframe::M1 {
            let fills = broker.on_candle(&instrument.symbol, &candle)?;
            summary.observe_price(candle.close);
            let account = broker.account().await?;
            let flat = account
                .position(&instrument.symbol)
                .is_none_or(|p| p.quantity.is_zero());
            if let (true, Some(exit)) = (flat, fills.last()) {
                if let Some((trade, net_before)) = open_trade.take() {
                    let trade = persist::closed(trade, exit, &account, net_before);
                    record_trade(&stores, &trade, &mut summary).await;
                }
            }
            summary.equity.push(EquityPoint {
                ts: candle.open_time.add_millis(Timeframe::M1.millis()),
                equity: account.equity,
            });
        }
        if candle.timeframe != config.decision_every {
            continue;
        }
        let snapshot = builder.snapshot();
        let as_of = snapshot.as_of;
        let inputs = inputs_at(&config, as_of);
        let mut state = TradingState::new(instrument.clone(), snapshot, inputs);
        state.account = Some(broker.account().await?);
        {
            let learner = desk.learner.lock().map_err(|_| poisoned())?;
            state.weights = learner.weights().clone();
            state.lessons = learner.similar(&state.situation(), 3);
        }
        let thread = format!("{}-{}", instrument.symbol, as_of.compact());
        let out = graph
            .invoke(state, RunConfig::new().thread(thread))
            .await
            .map_err(|e| RuntimeError::Graph(e.to_string()))?;
        summary.record_cycle(&out.state);
        let decision = persist::decision(&out.state);
        if let Err(e) = stores.decisions.record_decision(&decision).await {
            summary.store_errors += 1;
            tracing::warn!(error = %e, "store: decision not written");
        }
        if let Some(trade) = persist::opened(&out.state, &decision) {
            let account = out.state.account.as_ref();
            let net_before = account.map_or(Decimal::ZERO, |a| a.realized_pnl - a.fees_paid);
            record_trade(&stores, &trade, &mut summary).await;
            open_trade = Some((trade, net_before));
        }
        let new_lessons: Vec<_> = {
            let learner = desk.learner.lock().map_err(|_| poisoned())?;
            learner.lessons()[lessons_stored.min(learner.lessons().len())..].to_vec()
        };
        for lesson in new_lessons {
            lessons_stored += 1;
            let mut record = tradegraph_store::Lesson::new(
                instrument.symbol.clone(),
                lesson.ts,
                "learning",
                lesson.text.clone(),
            );
            record
                .extra
                .insert("situation".into(), serde_json::json!(lesson.situation));
            record
                .extra
                .insert("return_pct".into(), serde_json::json!(lesson.return_pct));
            if let Err(e) = stores.lessons.record_lesson(&record).await {
                summary.store_errors += 1;
                tracing::warn!(error = %e, "store: lesson not written");
            }
        }
        on_cycle(&out.state);
    }
    summary.malformed_lines = stats.malformed();
    if let Err(e) = stores.flush().await {
        summary.store_errors += 1;
        tracing::warn!(error = %e, "store: flush failed");
    }
    summary.final_account = Some(broker.account().await?);
    summary.fills = broker.fills_since(0).await?;
    let learner: Learner = desk.learner.lock().map_err(|_| poisoned())?.clone();
    summary.finish(&learner);
    Ok(summary)
}

async fn record_trade(
    stores: &tradegraph_store::Stores,
    trade: &TradeRecord,
    summary: &mut BotSummary,
) {
    if let Err(e) = stores.trades.record_trade(trade).await {
        summary.store_errors += 1;
        tracing::warn!(error = %e, trade_id = %trade.trade_id, "store: trade not written");
    }
}

fn poisoned() -> RuntimeError {
    RuntimeError::Graph("the learner's lock is poisoned".into())
}

/// News published and macro figures public by `as_of`, newest news first.
fn inputs_at(config: &BotConfig, as_of: Timestamp) -> ExternalInputs {
    let mut news: Vec<_> = config
        .news
        .iter()
        .filter(|n| n.published <= as_of)
        .cloned()
        .collect();
    news.sort_by_key(|n| std::cmp::Reverse(n.published));
    news.truncate(20);
    let macro_snapshot = config
        .macro_snapshots
        .iter()
        .filter(|m| m.as_of <= as_of)
        .max_by_key(|m| m.as_of)
        .cloned();
    ExternalInputs {
        news,
        macro_snapshot,
    }
}
