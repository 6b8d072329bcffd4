use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, BotEvent, Severity, Trading};
use tradegraph_core::Timestamp;

/// The guard's typed findings on each decision: a tripped circuit breaker raises
/// `circuit_breaker`, the daily loss limit `daily_loss_limit`, an entry refused at a position
/// limit (size, open positions) `position_limit` (an entry cut down to the size limit raises
/// nothing: that is the guard working). Trading back to active resolves the
/// circuit breaker and the daily loss limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskRule;

impl Rule for RiskRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        match input {
            Input::Bot(BotEvent::Decision(decision)) => {
                out.extend(
                    decision
                        .risk
                        .iter()
                        .filter_map(|r| AlertEvent::of_risk(r, at))
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
