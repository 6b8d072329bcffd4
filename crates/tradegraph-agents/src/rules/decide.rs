//! The risk manager and the portfolio manager in rule mode.

use super::debate::evidence;
use super::{clamp_unit, RuleConfig};
use crate::book::{exact, Book};
use crate::reports::{Action, PortfolioDecision, RiskAssessment, Stance};
use crate::TradingState;
use tradegraph_core::{Decimal, OrderSide, Segment};

/// Volatility (ATR in percent of the price), the analysts' disagreement and a thin order book
/// set the risk score; the suggested size shrinks as it grows, and the stop sits two ATRs
/// away. The day's loss (past half its limit) and what blocks entries become warnings.
pub fn risk(state: &TradingState, config: &RuleConfig) -> RiskAssessment {
    let close = state.market.price_f64();
    let atr = state
        .market
        .indicators(config.timeframe)
        .and_then(|i| i.atr)
        .filter(|a| a.is_finite() && *a > 0.0);
    let mut warnings = Vec::new();
    let vol_pct = match atr {
        Some(atr) if close > 0.0 => 100.0 * atr / close,
        _ => {
            warnings.push("volatility unknown: not enough history".to_owned());
            1.0
        }
    };
    let views = evidence(state);
    let total = views.iter().fold(0.0, |sum, e| sum + e.strength);
    let net = views
        .iter()
        .fold(0.0, |sum, e| sum + e.strength * e.signal.direction());
    let disagreement = if total > 0.0 {
        1.0 - (net / total).abs()
    } else {
        1.0
    };
    let vol_risk = (vol_pct / 1.5).clamp(0.0, 1.0);
    if vol_pct > 1.0 {
        warnings.push(format!("high volatility: ATR {vol_pct:.2}% of price"));
    }
    if disagreement > 0.6 {
        warnings.push("analysts disagree".to_owned());
    }
    if let Some(book) = &state.market.book {
        if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
            let spread = (ask.price - bid.price) / ask.price;
            let spread: f64 = spread.try_into().unwrap_or(0.0);
            if spread > 0.002 {
                warnings.push(format!("wide spread: {:.2}%", 100.0 * spread));
            }
        }
    }
    let risk_score = (0.6 * vol_risk + 0.4 * disagreement).clamp(0.0, 1.0);
    let stop_loss_pct = (2.0 * vol_pct).clamp(0.3, 10.0);
    let max_position_pct = (config.max_position_pct * (1.0 - risk_score)).clamp(0.0, 100.0);
    // The book: say what the day and the guard allow (the size is the portfolio manager's,
    // within the room the position limit leaves).
    if let Some(book) = &state.book {
        let room = &book.headroom;
        let limit = book.limits.max_daily_loss_pct;
        if room.daily_loss_pct * Decimal::TWO >= limit && limit > Decimal::ZERO {
            warnings.push(format!(
                "today's loss is {}% of the {}% daily limit",
                exact(room.daily_loss_pct, 2),
                exact(limit, 2)
            ));
        }
        if book.entries_blocked() {
            warnings.push(format!("entries are blocked: {}", blocks(book)));
        }
    }
    RiskAssessment {
        risk_score,
        max_position_pct,
        stop_loss_pct,
        take_profit_pct: (2.0 * stop_loss_pct).min(100.0),
        warnings,
    }
}

/// The weighted analysts plus a quarter of the debate's balance; past the entry threshold it
/// buys or sells with a size scaled by the score within the risk manager's maximum, a stop and
/// take-profit at the suggested distances and a trailing stop as wide as the stop. From the
/// book: an open position is kept while the view agrees and closed when it turns (CLOSE only
/// then); flat, it holds while the risk guard blocks entries, and sizes within what the
/// position limit leaves.
pub fn portfolio(state: &TradingState, config: &RuleConfig) -> PortfolioDecision {
    let views = evidence(state);
    // Folds from +0.0: an empty f64 sum is -0.0, which would print as "-0.00".
    let weights = views
        .iter()
        .map(|e| state.weights.weight(e.agent))
        .filter(|w| w.is_finite())
        .fold(0.0, |sum, w| sum + w);
    let net = views
        .iter()
        .fold(0.0, |sum, e| sum + e.strength * e.signal.direction());
    let analysts = if weights > 0.0 { net / weights } else { 0.0 };
    let conviction = |s| state.last_turn(s).map_or(0.0, |e| e.turn.report.conviction);
    let debate = conviction(Stance::Bull) - conviction(Stance::Bear);
    let score = clamp_unit(0.75 * analysts + 0.25 * debate);
    let price = state.market.price_f64();
    let Some(risk) = state.risk.as_ref().map(|r| &r.report) else {
        return hold(score, "no risk assessment; holding".into());
    };
    if score.abs() < config.entry_threshold || !(price.is_finite() && price > 0.0) {
        return hold(
            score,
            format!(
                "Combined score {score:+.2} (analysts {analysts:+.2}, debate {debate:+.2}) is inside the ±{:.2} entry band.",
                config.entry_threshold
            ),
        );
    }
    let (action, dir): (Action, f64) = if score > 0.0 {
        (Action::Buy, 1.0)
    } else {
        (Action::Sell, -1.0)
    };
    // An open position: keep it while the view agrees, close it when the view turns.
    let held = state
        .account
        .as_ref()
        .and_then(|a| a.position(&state.instrument.symbol))
        .map_or(0.0_f64, |p| p.quantity.try_into().unwrap_or(0.0));
    if held != 0.0 {
        let rationale = format!(
            "Combined score {score:+.2} (analysts {analysts:+.2}, debate {debate:+.2}) with a {} position open",
            if held > 0.0 { "long" } else { "short" }
        );
        if held.signum() == dir {
            return hold(score, format!("{rationale}: the view agrees; keep it."));
        }
        return PortfolioDecision {
            action: Action::Close,
            size_pct: 0.0,
            stop_loss: None,
            take_profit: None,
            trailing_pct: None,
            confidence: score.abs().min(1.0),
            rationale: format!("{rationale}: the view turned; close it."),
        };
    }
    if let Some(book) = state.book.as_ref().filter(|b| b.entries_blocked()) {
        return hold(
            score,
            format!(
                "Combined score {score:+.2}, but entries are blocked now ({}); staying out.",
                blocks(book)
            ),
        );
    }
    if action == Action::Sell && state.instrument.segment == Segment::Spot {
        return hold(
            score,
            format!("Combined score {score:+.2} is bearish, but a spot instrument cannot be sold short; staying out."),
        );
    }
    let mut size_pct = (risk.max_position_pct * (score.abs() / 0.6).min(1.0)).clamp(0.0, 100.0);
    let room = state
        .book
        .as_ref()
        .map_or(f64::INFINITY, |b| decimal_f64(b.headroom.position_left_pct));
    // Futures trade in lots: size up to one lot when one lot still fits the risk manager's cap.
    let side = if action == Action::Buy {
        OrderSide::Buy
    } else {
        OrderSide::Sell
    };
    if let Some(lot_pct) = one_lot_pct(state, side) {
        if size_pct < lot_pct && lot_pct <= risk.max_position_pct && lot_pct <= room {
            size_pct = lot_pct;
        }
    }
    PortfolioDecision {
        action,
        size_pct: size_pct.min(room),
        stop_loss: Some(price * (1.0 - dir * risk.stop_loss_pct / 100.0)),
        take_profit: Some(price * (1.0 + dir * risk.take_profit_pct / 100.0)),
        trailing_pct: Some(risk.stop_loss_pct),
        confidence: score.abs().min(1.0),
        rationale: format!(
            "Combined score {score:+.2} (analysts {analysts:+.2}, debate {debate:+.2}); risk score {:.2} allows {:.2}% of equity.",
            risk.risk_score, risk.max_position_pct
        ),
    }
}

/// One lot of an entry on `side` in percent of equity, as the risk guard costs it (slippage and
/// fees included: [`RiskContext::unit_cost`](tradegraph_core::risk::RiskContext::unit_cost)),
/// with a hair of headroom for rounding.
fn one_lot_pct(state: &TradingState, side: OrderSide) -> Option<f64> {
    let account = state.account.as_ref()?;
    let ctx = crate::book::risk_context(state, account, state.market.price, state.as_of);
    let lot_cost = ctx
        .unit_cost(side)?
        .checked_mul(state.instrument.lot_size)?;
    let equity: f64 = account.equity.try_into().ok()?;
    let lot_cost: f64 = lot_cost.try_into().ok()?;
    let pct = 100.0 * lot_cost / equity * 1.001;
    (pct.is_finite() && pct > 0.0).then_some(pct)
}

fn hold(score: f64, rationale: String) -> PortfolioDecision {
    PortfolioDecision {
        action: Action::Hold,
        size_pct: 0.0,
        stop_loss: None,
        take_profit: None,
        trailing_pct: None,
        confidence: (1.0 - score.abs()).clamp(0.0, 1.0),
        rationale,
    }
}

/// What blocks entries, in the guard's and the bot's words.
fn blocks(book: &Book) -> String {
    book.entry_blocks().join("; ")
}

fn decimal_f64(d: Decimal) -> f64 {
    d.try_into().unwrap_or(0.0)
}
