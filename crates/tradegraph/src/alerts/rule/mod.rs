//! The rules: each observes [`Input`]s and maybe raises an alert or says one is over.
//!
//! | rule | input | raises |
//! |---|---|---|
//! | [`HealthRule`] | `BotEvent::Health`, `BotEvent::Feed` | `store_down`, `feed_stale`, `api_failures` |
//! | [`RiskRule`] | `BotEvent::Decision` (typed `RiskReason`s), `BotEvent::TradingState` | `circuit_breaker`, `daily_loss_limit`, `position_limit` |
//! | [`StoreRule`] | `StoreEvent` (`Stores.alerts`): spilling, dropped writes, rejected records | `store_down`, `api_failures` |
//! | [`LlmRule`] | `LlmEvent` (`Llm::subscribe`): the budget spent | `api_failures` |
//! | [`EngineRule`] | `BotEvent::Alert` the engine raised | as raised (`holiday_list`) |
//! | [`Threshold`] | [`Sample`](super::Sample) | `memory`, `error_rate`, `win_rate_floor`, `sharpe_floor`, `drawdown` |

mod engine;
mod health;
mod llm;
mod risk;
mod store;
mod threshold;

pub use engine::EngineRule;
pub use health::HealthRule;
pub use llm::LlmRule;
pub use risk::RiskRule;
pub use store::StoreRule;
pub use threshold::{Bound, Threshold};

use super::{AlertsConfig, Input};
use crate::engine::AlertEvent;
use tradegraph_core::Timestamp;

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// The condition holds: raise this alert (the cool-down decides whether it goes out).
    Raise(AlertEvent),
    /// The condition of this alert's key is over: this recovery (made `info` and
    /// `recovered` by the [`Alerter`](super::Alerter)) goes out when the key was raised.
    Resolve(AlertEvent),
}

/// One rule: observes an input and maybe raises (or resolves) alerts.
pub trait Rule: Send + 'static {
    /// Looks at `input`, at `at`; pushes what it finds onto `out`.
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>);
}

/// Every rule, with `config`'s thresholds.
pub fn standard(config: &AlertsConfig) -> Vec<Box<dyn Rule>> {
    let mut rules: Vec<Box<dyn Rule>> = vec![
        Box::new(HealthRule),
        Box::new(RiskRule),
        Box::new(StoreRule),
        Box::new(LlmRule),
        Box::new(EngineRule),
    ];
    rules.extend(
        Threshold::standard(config)
            .into_iter()
            .map(|t| Box::new(t) as Box<dyn Rule>),
    );
    rules
}
