//! What a bot writes to the stores: candles (hot cache and history), every cycle's agent
//! decisions, and every trade (open, then closed), in the documents of DESIGN.md.

use serde_json::json;
use tradegraph_agents::reports::{AgentMode, AgentReport, Stance};
use tradegraph_agents::TradingState;
use tradegraph_core::order::{Fill, OrderStatus};
use tradegraph_core::position::Account;
use tradegraph_core::{Candle, Symbol, Tick, Timeframe};
use tradegraph_store::{
    AgentDecision, DecisionRecord, StoreError, Stores, TradeRecord, TradeStatus,
};

/// A closed candle into the hot cache and the history. A one-minute candle's close also
/// becomes the latest price (a tick at the candle's end with no volume, as an index tick), so
/// the hot cache has `price:<SYM>:latest` even when the feed is bars only.
pub(super) async fn candle(
    stores: &Stores,
    symbol: &Symbol,
    candle: &Candle,
) -> Result<(), StoreError> {
    stores.hot.put_candle(symbol, candle).await?;
    if candle.timeframe == Timeframe::M1 {
        let end = candle.open_time.add_millis(Timeframe::M1.millis());
        let tick = Tick::new(end, candle.close, rust_decimal::Decimal::ZERO);
        stores.hot.put_tick(symbol, &tick).await?;
    }
    stores
        .history
        .upsert_candles(symbol, std::slice::from_ref(candle))
        .await
}

fn view<T>(
    report: &AgentReport<T>,
    signal: String,
    confidence: f64,
    reasoning: String,
) -> AgentDecision {
    let mut d = AgentDecision::new(signal, confidence, reasoning);
    let mode = match &report.mode {
        AgentMode::Llm { provider, model } => {
            json!({"mode": "llm", "provider": provider, "model": model})
        }
        AgentMode::Rule { reason } => json!({"mode": "rule", "reason": reason}),
    };
    d.extra.insert("produced_by".into(), mode);
    d.extra
        .insert("prompt_version".into(), json!(report.prompt_version));
    d
}

/// Every agent's view of the cycle, as `agent_decisions` holds it.
pub(super) fn decision(state: &TradingState) -> DecisionRecord {
    let mut record = DecisionRecord::new(state.instrument.symbol.clone(), state.as_of);
    if let Some(r) = &state.technical {
        let t = &r.report;
        record = record.agent(
            "technical",
            view(r, t.signal.to_string(), t.confidence, t.reasoning.clone()),
        );
    }
    if let Some(r) = &state.fundamental {
        let f = &r.report;
        record = record.agent(
            "fundamental",
            view(r, f.signal.to_string(), f.confidence, f.thesis.clone()),
        );
    }
    if let Some(r) = &state.sentiment {
        let s = &r.report;
        let mut v = view(
            r,
            s.signal().to_string(),
            s.confidence,
            s.drivers.join("; "),
        );
        v.extra.insert("score".into(), json!(s.score));
        record = record.agent("sentiment", v);
    }
    if let Some(r) = &state.macro_view {
        let m = &r.report;
        let mut v = view(
            r,
            m.signal().to_string(),
            m.confidence,
            m.factors.join("; "),
        );
        v.extra.insert("regime".into(), json!(m.regime));
        record = record.agent("macro", v);
    }
    for stance in [Stance::Bull, Stance::Bear] {
        if let Some(e) = state.last_turn(stance) {
            let t = &e.turn.report;
            let signal = if stance == Stance::Bull {
                "BUY"
            } else {
                "SELL"
            };
            let mut v = view(&e.turn, signal.into(), t.conviction, t.argument.clone());
            v.extra.insert("rounds".into(), json!(e.round));
            record = record.agent(
                if stance == Stance::Bull {
                    "bull"
                } else {
                    "bear"
                },
                v,
            );
        }
    }
    if let Some(r) = &state.risk {
        let k = &r.report;
        let mut v = view(r, "RISK".into(), 1.0 - k.risk_score, k.warnings.join("; "));
        v.extra.insert("risk_score".into(), json!(k.risk_score));
        v.extra
            .insert("max_position_pct".into(), json!(k.max_position_pct));
        record = record.agent("risk_manager", v);
    }
    if let Some(r) = &state.decision {
        let d = &r.report;
        let action = serde_json::to_value(d.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut v = view(r, action.clone(), d.confidence, d.rationale.clone());
        v.extra.insert("size_pct".into(), json!(d.size_pct));
        record = record.agent("portfolio_manager", v);
        record.action = Some(action);
    }
    if let Some(verdict) = &state.verdict {
        record.extra.insert("risk_guard".into(), json!({
            "status": verdict.status,
            "findings": verdict.findings.iter().map(|f| json!({"effect": f.effect, "reason": f.reason.to_string()})).collect::<Vec<_>>(),
        }));
    }
    record
}

/// The trade a cycle opened (its filled opening order), keyed by the order's client id.
pub(super) fn opened(state: &TradingState, decision: &DecisionRecord) -> Option<TradeRecord> {
    let intent = state.verdict.as_ref()?.entry()?;
    let order = state
        .orders
        .iter()
        .find(|o| o.status == OrderStatus::Filled)?;
    let mut trade = TradeRecord::new(
        order.request.client_id.to_string(),
        state.instrument.symbol.clone(),
        intent.side,
        state.as_of,
        order.average_fill_price.unwrap_or(intent.reference_price),
        order.filled_quantity,
    );
    trade.confidence = state.decision.as_ref().map_or(0.0, |d| d.report.confidence);
    trade.agent_decisions = decision.agent_decisions.clone();
    trade.decision_id = Some(decision.decision_id.clone());
    trade.stop_loss = intent.exits.stop_loss;
    trade.take_profit = intent.exits.take_profit;
    Some(trade)
}

/// The open trade, closed: the last fill that flattened the position, and the net P&L since the
/// entry (`net_before` is the account's realized P&L minus fees when it opened).
pub(super) fn closed(
    mut trade: TradeRecord,
    exit: &Fill,
    account: &Account,
    net_before: rust_decimal::Decimal,
) -> TradeRecord {
    trade.status = TradeStatus::Closed;
    trade.exit_timestamp = Some(exit.ts);
    trade.exit_price = Some(exit.price);
    trade.realized_pnl = Some(account.realized_pnl - account.fees_paid - net_before);
    trade
}
