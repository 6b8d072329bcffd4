//! The desk's shared, stateful equipment: the risk guard, the broker, the learner.

use crate::learning::Learner;
use std::sync::{Arc, Mutex};
use tradegraph_broker::Broker;
use tradegraph_core::risk::RiskGuard;

/// What the risk guard, execution and learning nodes share across decision cycles.
#[derive(Clone)]
pub struct Desk {
    /// The risk guard (it remembers cooldowns and the daily halt).
    pub guard: Arc<Mutex<RiskGuard>>,
    /// Where orders go (the paper broker unless live trading was opted into).
    pub broker: Arc<dyn Broker>,
    /// Hit rates, weights and lessons.
    pub learner: Arc<Mutex<Learner>>,
}

impl Desk {
    /// A desk with the default guard and an empty learner.
    pub fn new(broker: Arc<dyn Broker>) -> Self {
        Self {
            guard: Arc::new(Mutex::new(RiskGuard::default())),
            broker,
            learner: Arc::new(Mutex::new(Learner::default())),
        }
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("broker", &self.broker.name())
            .finish_non_exhaustive()
    }
}
