use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, BotEvent, Severity, Trading};
use tradegraph_core::risk::RiskReason;
use tradegraph_core::Timestamp;

/// The guard's typed findings on each decision: a tripped circuit breaker raises
/// `circuit_breaker`, the daily loss limit `daily_loss_limit`, an entry refused at a position
/// limit (size, open positions) `position_limit` (an entry cut down to the size limit raises
/// nothing: that is the guard working). Trading back to active resolves the
/// circuit breaker and the daily loss limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskRule;

/// The alert one guard finding raises, if any.
pub(crate) fn alert_of(reason: &RiskReason, at: Timestamp) -> Option<AlertEvent> {
    let (kind, severity, about) = match reason {
        RiskReason::CircuitBreaker { .. } => (AlertKind::CircuitBreaker, Severity::Critical, ""),
        RiskReason::DailyLossLimit { .. } => (AlertKind::DailyLossLimit, Severity::Critical, ""),
        // A cap (`PositionCapped`) is the guard sizing an entry down, working as meant: no
        // alert; a refusal at the limit is one.
        RiskReason::PositionLimitReached { .. } => {
            (AlertKind::PositionLimit, Severity::Warning, "size")
        }
        RiskReason::MaxOpenPositions { .. } => (
            AlertKind::PositionLimit,
            Severity::Warning,
            "open_positions",
        ),
        _ => return None,
    };
    let todo = match kind {
        AlertKind::CircuitBreaker => {
            "no new entries until it cools down; check the market before releasing anything"
        }
        AlertKind::DailyLossLimit => {
            "the bot is halted for the rest of the trading day; review today's trades"
        }
        _ => "the entry was refused; raise [risk] max_position_pct or max_open_positions only if intended",
    };
    Some(AlertEvent::new(
        kind,
        about,
        severity,
        format!("risk guard: {reason}: {todo}"),
        at,
    ))
}

impl Rule for RiskRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        match input {
            Input::Bot(BotEvent::Decision(decision)) => {
                out.extend(
                    decision
                        .risk
                        .iter()
                        .filter_map(|r| alert_of(r, at))
                        .map(Signal::Raise),
                );
            }
            Input::Bot(BotEvent::TradingState {
                state: Trading::Active,
                ..
            }) => {
                for kind in [AlertKind::CircuitBreaker, AlertKind::DailyLossLimit] {
                    out.push(Signal::Resolve(AlertEvent::new(
                        kind,
                        "",
                        Severity::Info,
                        "trading is active again",
                        at,
                    )));
                }
            }
            _ => {}
        }
    }
}
