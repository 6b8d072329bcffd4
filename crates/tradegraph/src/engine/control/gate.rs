//! The operator's gate in front of execution: entries wait for approval (a graph interrupt)
//! or are held back while the operator pauses them or reconciliation holds the bot.

use super::close::working_close;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tradegraph_agents::book::EntryHold;
use tradegraph_agents::node::{Desk, ExecutionNode};
use tradegraph_agents::state::TradingStateUpdate;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::order::IntentPurpose;
use tradegraph_graph::yaml::{NoConfig, Registry};
use tradegraph_graph::{Command, Node, NodeContext, NodeResult};

/// What the gate shares with the engine: the pause switch, whether entries need approval, and
/// what it did to each decision.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate {
    pub(crate) paused: Arc<AtomicBool>,
    /// Held by reconciliation until a person confirms: entries are refused like a pause. Read
    /// only: [`SharedHold`](crate::engine::reconcile::SharedHold) sets it.
    held: Arc<AtomicBool>,
    pub(crate) approval: bool,
    notes: Arc<Mutex<Vec<(String, String)>>>,
}

impl Gate {
    /// What the gate holds new entries back for now, for the agents' book.
    pub(crate) fn holds(&self) -> Vec<EntryHold> {
        let mut holds = Vec::new();
        if self.paused.load(Ordering::SeqCst) {
            holds.push(EntryHold::PausedByOperator);
        }
        if self.held.load(Ordering::SeqCst) {
            holds.push(EntryHold::HeldByReconciliation);
        }
        holds
    }

    /// A gate whose reconciliation hold is `held` (the flag of the engine's `SharedHold`).
    pub(crate) fn new(paused: bool, approval: bool, held: Arc<AtomicBool>) -> Self {
        Self {
            paused: Arc::new(AtomicBool::new(paused)),
            held,
            approval,
            notes: Arc::default(),
        }
    }

    fn note(&self, decision: &str, what: &str) {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((decision.to_owned(), what.to_owned()));
    }

    /// What the gate did to `decision` (and forgets it).
    pub(crate) fn take_note(&self, decision: &str) -> Option<String> {
        let mut notes = self.notes.lock().unwrap_or_else(PoisonError::into_inner);
        let found = notes.iter().rposition(|(d, _)| d == decision);
        let note = found.map(|i| notes.remove(i).1);
        notes.retain(|(d, _)| d != decision);
        note
    }
}

/// The registry's `execution` kind with the gate in front: an entry (an order that opens or
/// adds to a position) is held back while entries are paused, and waits for an operator when
/// approval is required (the node interrupts the run; resumed, it reads the operator's answer
/// and sends the order only if approved). Closes always go through, except while an earlier
/// close of the position still works at the broker (see [`working_close`]): the guard's forced
/// close then waits for the next cycle rather than double the one working.
struct GatedExecution {
    inner: ExecutionNode,
    gate: Gate,
    broker: Arc<dyn Broker>,
}

#[async_trait]
impl Node<TradingState> for GatedExecution {
    async fn run(&self, state: Arc<TradingState>, ctx: NodeContext) -> NodeResult<TradingState> {
        let entry = state.verdict.as_ref().and_then(|v| v.entry()).is_some();
        let closes = state
            .verdict
            .as_ref()
            .and_then(|v| v.intent.as_ref())
            .is_some_and(|i| i.purpose == IntentPurpose::Close);
        if closes {
            let symbol = &state.instrument.symbol;
            let decision = tradegraph_core::order::DecisionId::at(symbol, state.as_of);
            match working_close(self.broker.as_ref(), symbol).await {
                Ok(None) => {}
                Ok(Some(working)) => {
                    tracing::warn!(%symbol, %decision, %working, "close not sent: an earlier close of the position still works at the broker");
                    self.gate
                        .note(decision.as_str(), "an earlier close still works");
                    return Ok(Command::update(TradingStateUpdate::default()));
                }
                Err(e) => {
                    tracing::warn!(%symbol, %decision, error = %e, "close not sent: the broker's working orders cannot be read (a close may still work); tried again at the next cycle");
                    self.gate.note(decision.as_str(), "working orders unknown");
                    return Ok(Command::update(TradingStateUpdate::default()));
                }
            }
        }
        if !entry {
            return self.inner.run(state, ctx).await;
        }
        let decision =
            tradegraph_core::order::DecisionId::at(&state.instrument.symbol, state.as_of);
        let hold = || Ok(Command::update(TradingStateUpdate::default()));
        if self.gate.paused.load(Ordering::SeqCst) {
            tracing::info!(symbol = %state.instrument.symbol, %decision, "entry held back: new entries are paused by the operator");
            self.gate.note(decision.as_str(), "entries paused");
            return hold();
        }
        if self.gate.held.load(Ordering::SeqCst) {
            tracing::warn!(symbol = %state.instrument.symbol, %decision, "entry refused: reconciliation with the broker found discrepancies; a person must confirm");
            self.gate.note(decision.as_str(), "held by reconciliation");
            return hold();
        }
        match ctx.resume_value() {
            Some(answer) => {
                if answer["approved"].as_bool() != Some(true) {
                    let outcome = answer["outcome"].as_str().unwrap_or("rejected");
                    tracing::info!(symbol = %state.instrument.symbol, %decision, outcome, "entry not sent: not approved");
                    self.gate.note(decision.as_str(), outcome);
                    return hold();
                }
                self.gate.note(decision.as_str(), "approved");
            }
            None if self.gate.approval => {
                tracing::info!(symbol = %state.instrument.symbol, %decision, "entry waits for an operator's approval");
                return Ok(Command::interrupt(
                    serde_json::json!({"approval": decision.as_str()}),
                ));
            }
            None => {}
        }
        self.inner.run(state, ctx).await
    }
}

/// Registers the gated execution node as the `execution` kind of `registry`.
pub(crate) fn gate_execution(registry: &mut Registry<TradingState>, desk: &Desk, gate: &Gate) {
    let (desk, gate) = (desk.clone(), gate.clone());
    registry.node("execution", move |_: NoConfig| {
        Ok(GatedExecution {
            inner: ExecutionNode::new(desk.clone()),
            gate: gate.clone(),
            broker: desk.broker().clone(),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agents' book is told what the gate holds entries back for, as it changes.
    #[test]
    fn the_holds_follow_the_pause_and_the_reconciliation_hold() {
        let held = Arc::new(AtomicBool::new(false));
        let gate = Gate::new(true, false, Arc::clone(&held));
        assert_eq!(gate.holds(), [EntryHold::PausedByOperator]);
        held.store(true, Ordering::SeqCst);
        assert_eq!(
            gate.holds(),
            [EntryHold::PausedByOperator, EntryHold::HeldByReconciliation]
        );
        gate.paused.store(false, Ordering::SeqCst);
        held.store(false, Ordering::SeqCst);
        assert!(gate.holds().is_empty());
    }
}
