//! The manual kill switch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A manual kill switch, shared between the guard and whoever may pull it (an operator command,
/// such as `POST /api/v1/kill-switch` of a bot's service in the `tradegraph` crate, or a test).
/// Clones share the same switch. While engaged the guard opens nothing and, by default, closes
/// what is open.
///
/// ```
/// use tradegraph_core::risk::{KillSwitch, RiskGuard};
/// let switch = KillSwitch::new();
/// let guard = RiskGuard::default().with_kill_switch(switch.clone());
/// switch.engage();
/// assert!(guard.kill_switch().is_engaged());
/// switch.release();
/// assert!(!guard.kill_switch().is_engaged());
/// ```
#[derive(Debug, Clone, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    /// A released switch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops all trading.
    pub fn engage(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Allows trading again.
    pub fn release(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// Whether it is engaged.
    pub fn is_engaged(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
