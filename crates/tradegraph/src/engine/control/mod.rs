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
mod close;
mod closing;
mod command;
mod deferred;
mod gate;
mod kill;
mod ops;

pub use approval::{Approval, ApprovalView};
pub(crate) use approval::{PendingApproval, Resolution};
pub(crate) use close::Finished as CloseFinished;
pub(crate) use closing::{Cancel, CloseNow};
pub use command::{BotHandle, Command, Reply, ReplyKind};
pub(crate) use command::{Envelope, ANSWER_MARGIN};
pub(crate) use deferred::{Deferral, Deferred, DEFERRED};
pub(crate) use gate::{gate_execution, Gate};
pub(crate) use kill::KillRetry;

use super::state::BotState;
use super::EngineError;
use std::sync::Arc;
use tokio::sync::mpsc;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::order::ClientOrderId;
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
    pub(crate) deferred: Deferred,
    pub(crate) gate: Gate,
    pub(crate) saved_paused: bool,
    /// Orders waiting for approval, oldest first.
    pub(crate) approvals: Vec<PendingApproval>,
    /// Keeps the paused runs (only when entries may wait for approval).
    pub(crate) checkpointer: Option<Arc<MemoryCheckpointer<TradingState>>>,
    /// Operator actions recorded by this process.
    pub(crate) actions: u64,
    /// Approvals saved as waiting whose order the broker already had at start (approved and
    /// sent before a restart): settled, and written to the operator log once the engine runs.
    pub(crate) settled_at_start: Vec<ApprovalView>,
}

impl Ops {
    /// The channel, and the orders still waiting for approval restored (with their paused
    /// runs); `graph` keeps its runs in a checkpointer when entries may wait.
    pub(crate) async fn start(
        state: &BotState,
        graph: CompiledGraph<TradingState>,
        gate: Gate,
        keeps_state: bool,
        broker: &dyn Broker,
    ) -> Result<(CompiledGraph<TradingState>, Self), EngineError> {
        let (sender, commands) = mpsc::channel(QUEUE);
        let approvals: Vec<PendingApproval> = if keeps_state {
            state.load(StatePart::Approvals).await?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let (approvals, sent) = already_sent(approvals, broker).await?;
        if !sent.is_empty() {
            state.save(StatePart::Approvals, &approvals).await?;
        }
        let mut ops = Self {
            commands,
            sender,
            deferred: Deferred::default(),
            saved_paused: gate.paused.load(std::sync::atomic::Ordering::SeqCst),
            gate,
            approvals: Vec::new(),
            checkpointer: None,
            actions: 0,
            settled_at_start: sent.into_iter().map(|p| p.view).collect(),
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

/// Splits saved approvals into those still waiting and those whose order the broker already
/// has (approved and sent just before a crash, the approval not yet saved as settled): those
/// are settled as approved and sent, never shown again, expired or superseded.
///
/// # Errors
/// The broker's error: the bot must not ask again for an order it may have sent.
async fn already_sent(
    approvals: Vec<PendingApproval>,
    broker: &dyn Broker,
) -> Result<(Vec<PendingApproval>, Vec<PendingApproval>), EngineError> {
    let mut waiting = Vec::new();
    let mut sent = Vec::new();
    for pending in approvals {
        let known = match ClientOrderId::new(&pending.view.client_id) {
            Ok(client_id) => broker.order(&client_id).await?,
            Err(_) => None,
        };
        match known {
            Some(order) => {
                tracing::warn!(
                    approval = %pending.view.id,
                    client_id = %pending.view.client_id,
                    status = ?order.status,
                    "an approval saved as waiting was approved and sent before the restart: settled as approved"
                );
                sent.push(pending);
            }
            None => waiting.push(pending),
        }
    }
    Ok((waiting, sent))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tradegraph_broker::{PaperBroker, PaperConfig};
    use tradegraph_core::order::{OrderRequest, OrderSide};
    use tradegraph_core::risk::VerdictStatus;
    use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};

    fn pending(client_id: &str) -> PendingApproval {
        PendingApproval {
            view: ApprovalView {
                id: format!("decision-{client_id}"),
                client_id: client_id.to_owned(),
                side: OrderSide::Buy,
                quantity: Decimal::new(1, 2),
                reference_price: Decimal::from(40_000),
                stop_loss: None,
                take_profit: None,
                verdict: VerdictStatus::Approved,
                reasons: Vec::new(),
                requested_at: Timestamp::EPOCH,
                expires_at: Timestamp::EPOCH,
            },
            seq: 1,
            as_of: Timestamp::EPOCH,
            learned: 0,
            checkpoint: serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn an_approval_whose_order_the_broker_has_is_settled_not_restored() {
        let btc = Instrument::btc_usdt();
        let broker =
            PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(100_000))).unwrap();
        broker
            .on_tick(
                &btc.symbol,
                &Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE),
            )
            .unwrap();
        let sent_id = ClientOrderId::new("tg-sent-before-crash").unwrap();
        let request = OrderRequest::market(
            sent_id,
            btc.symbol.clone(),
            OrderSide::Buy,
            Decimal::new(1, 2),
        );
        broker.submit(request).await.unwrap();
        let saved = vec![pending("tg-sent-before-crash"), pending("tg-still-waiting")];
        let (waiting, sent) = already_sent(saved, &broker).await.unwrap();
        let ids = |v: &[PendingApproval]| -> Vec<String> {
            v.iter().map(|p| p.view.client_id.clone()).collect()
        };
        assert_eq!(ids(&sent), ["tg-sent-before-crash"]);
        assert_eq!(ids(&waiting), ["tg-still-waiting"]);
    }
}
