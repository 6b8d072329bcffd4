//! Operating a running bot: [`Command`]s through a [`BotHandle`], carried out inside the
//! engine's loop (the engine stays the one owner of its state), and the approval of entries.
//!
//! Every command is recorded in the operator log (`operator_actions`): what, when, from where,
//! and what came of it. The kill switch and the pause of entries are saved as they change and
//! restored at start; an order waiting for approval is saved with the paused run's checkpoint,
//! so a restarted bot can still send or refuse it, and never sends it twice (its client order id
//! comes from its decision and the order journal answers a known id with the order it knows).

mod approval;
mod approve;
mod command;
mod gate;
mod ops;

pub use approval::{Approval, ApprovalView};
pub(crate) use approval::{PendingApproval, Resolution};
pub(crate) use command::Envelope;
pub use command::{BotHandle, Command, Reply, ReplyKind};
pub(crate) use gate::{gate_execution, Gate};

use super::state::BotState;
use super::EngineError;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;
use tradegraph_agents::TradingState;
use tradegraph_graph::checkpoint::Checkpointer;
use tradegraph_graph::{Checkpoint, CompiledGraph, MemoryCheckpointer};
use tradegraph_store::StatePart;

/// Commands waiting in the channel before the engine takes them.
const QUEUE: usize = 64;

/// The engine's side of operating: the command channel, the gate, the approvals.
pub(crate) struct Ops {
    pub(crate) commands: mpsc::Receiver<Envelope>,
    pub(crate) sender: mpsc::Sender<Envelope>,
    /// Commands that came during a decision cycle, carried out once it ends.
    pub(crate) deferred: VecDeque<Envelope>,
    pub(crate) gate: Gate,
    pub(crate) saved_paused: bool,
    /// Orders waiting for approval, oldest first.
    pub(crate) approvals: Vec<PendingApproval>,
    /// Keeps the paused runs (only when entries may wait for approval).
    pub(crate) checkpointer: Option<Arc<MemoryCheckpointer<TradingState>>>,
    /// Operator actions recorded by this process.
    pub(crate) actions: u64,
}

impl Ops {
    /// The channel, and the orders still waiting for approval restored (with their paused
    /// runs); `graph` keeps its runs in a checkpointer when entries may wait.
    pub(crate) async fn start(
        state: &BotState,
        graph: CompiledGraph<TradingState>,
        gate: Gate,
        keeps_state: bool,
    ) -> Result<(CompiledGraph<TradingState>, Self), EngineError> {
        let (sender, commands) = mpsc::channel(QUEUE);
        let approvals: Vec<PendingApproval> = if keeps_state {
            state.load(StatePart::Approvals).await?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut ops = Self {
            commands,
            sender,
            deferred: VecDeque::new(),
            saved_paused: gate.paused.load(std::sync::atomic::Ordering::SeqCst),
            gate,
            approvals: Vec::new(),
            checkpointer: None,
            actions: 0,
        };
        if !ops.gate.approval && approvals.is_empty() {
            return Ok((graph, ops));
        }
        // One paused run per waiting order; the newest checkpoint of each is all a resume reads.
        let checkpointer = Arc::new(MemoryCheckpointer::keep_last(2).max_threads(64));
        for pending in approvals {
            let restored =
                serde_json::from_value::<Checkpoint<TradingState>>(pending.checkpoint.clone());
            match restored {
                Ok(checkpoint) => {
                    checkpointer
                        .put(checkpoint)
                        .await
                        .map_err(|e| EngineError::Graph(tradegraph_graph::GraphError::from(e)))?;
                    tracing::warn!(approval = %pending.view.id, "an order waits for approval (restored)");
                    ops.approvals.push(pending);
                }
                Err(e) => tracing::error!(
                    approval = %pending.view.id,
                    error = %e,
                    "the saved run of an order waiting for approval cannot be read; the order is not sent"
                ),
            }
        }
        let shared: Arc<dyn Checkpointer<TradingState>> = checkpointer.clone();
        ops.checkpointer = Some(checkpointer);
        Ok((graph.with_shared_checkpointer(shared), ops))
    }

    /// The orders waiting for approval, as the API shows them.
    pub(crate) fn views(&self) -> Vec<ApprovalView> {
        self.approvals.iter().map(|p| p.view.clone()).collect()
    }
}
