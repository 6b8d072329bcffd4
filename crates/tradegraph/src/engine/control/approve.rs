//! Orders waiting for approval: parked with their paused run, resumed with the operator's
//! answer, expired, superseded by the next decision.

use super::{Approval, ApprovalView, PendingApproval, Reply, Resolution};
use crate::engine::cycle::CycleMeta;
use crate::engine::graph_run::Start;
use crate::engine::journal::Execution;
use crate::engine::observe::{wall_now, BotEvent, OrderEvent};
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use std::time::Duration;
use tradegraph_agents::TradingState;
use tradegraph_core::order::DecisionId;
use tradegraph_graph::RunOutput;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// A cycle whose entry waits for approval: the order is parked, saved with the paused run,
    /// and the cycle counts as run (a restart does not decide it again).
    pub(crate) async fn park<O: FnMut(&TradingState)>(
        &mut self,
        out: RunOutput<TradingState>,
        meta: CycleMeta,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let timeout = match self.config.approval {
            Approval::Required { timeout } => timeout,
            Approval::None => Duration::from_secs(60),
        };
        let view = out
            .state
            .verdict
            .as_ref()
            .and_then(|v| ApprovalView::of(v, wall_now(), timeout));
        let Some(view) = view else {
            // A pause declared in the graph file: nobody is asked, nothing more is sent.
            tracing::warn!(
                decision = %meta.id,
                node = ?out.interrupt().map(|i| i.node.to_string()),
                "the decision graph paused without an order to approve; the cycle ends there"
            );
            return self
                .finish_cycle(out.state, meta, Some("paused".into()), on_cycle)
                .await;
        };
        let thread = meta.id.as_str().to_owned();
        let checkpoint = match self.graph.state(&thread).await {
            Ok(Some(checkpoint)) => serde_json::to_value(&checkpoint).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the paused run cannot be saved: a restart loses the approval (the order is then not sent)");
                serde_json::Value::Null
            }),
            Ok(None) | Err(_) => serde_json::Value::Null,
        };
        self.ops.approvals.push(PendingApproval {
            view: view.clone(),
            seq: meta.seq,
            as_of: meta.as_of,
            learned: meta.learned,
            checkpoint,
        });
        self.save_approvals().await?;
        // The sequence below passes this cycle: what its guard latched is saved first.
        self.save_guard().await?;
        self.sequence.cycles = self.sequence.cycles.max(meta.seq);
        self.sequence.last_decision = Some(meta.id.clone());
        self.sequence.last_cycle_at = Some(meta.as_of);
        let saved = self.state.save(StatePart::Sequence, &self.sequence).await;
        self.saved(StatePart::Sequence, saved)?;
        tracing::warn!(
            approval = %view.id,
            side = ?view.side,
            quantity = %view.quantity,
            expires_at = %view.expires_at,
            "an entry waits for an operator's approval (POST /api/v1/approvals/{{id}}/approve or /reject)"
        );
        self.observer
            .publish(|| BotEvent::ApprovalRequested(view.clone()));
        let (cycles, last, at) = (
            self.sequence.cycles,
            self.sequence.last_decision.clone(),
            self.sequence.last_cycle_at,
        );
        self.observer.status(|s| {
            s.cycles = cycles;
            s.last_decision_id = last.map(|d| d.as_str().to_owned());
            s.last_decision_at = at;
            true
        });
        self.approvals_changed();
        Ok(())
    }

    /// Ends approval `id` with `resolution`: resumes its paused run with the answer (the order
    /// goes out only when approved, after the guard's re-check) and finishes its cycle.
    pub(crate) async fn resolve<O: FnMut(&TradingState)>(
        &mut self,
        id: &str,
        resolution: Resolution,
        by: Option<&str>,
        on_cycle: &mut O,
    ) -> Result<Reply, EngineError> {
        let Some(pending) = self.ops.approvals.iter().find(|p| p.view.id == id).cloned() else {
            return Ok(Reply::not_found(format!(
                "no order waits for approval `{id}` (it was decided, expired or superseded); \
                 GET /api/v1/approvals lists those that wait"
            )));
        };
        if resolution == Resolution::Approved {
            // An answer that came after the approval expired (it waited behind other work, or
            // through a restart) sends nothing: the approval ends as expired.
            if pending.view.expires_at <= wall_now() {
                Box::pin(self.resolve(id, Resolution::Expired, None, on_cycle)).await?;
                return Ok(Reply::refused(format!(
                    "approval `{id}` expired at {} before the answer was taken: the order was not sent",
                    pending.view.expires_at
                )));
            }
            // Entries held back: approving now would send nothing and use the approval up.
            let holds = self.ops.gate.holds();
            if !holds.is_empty() {
                let why: Vec<String> = holds.iter().map(ToString::to_string).collect();
                return Ok(Reply::refused(format!(
                    "not approved: {}; the approval still waits (until {}), approve it once entries may go out",
                    why.join("; "),
                    pending.view.expires_at
                )));
            }
        }
        let decision = DecisionId::new(&pending.view.id);
        self.broker.begin(decision.clone());
        let run = Box::pin(self.run_graph(Start::Resume(resolution.answer(by)), id)).await?;
        let meta = CycleMeta {
            id: decision,
            seq: pending.seq,
            as_of: pending.as_of,
            learned: pending.learned,
        };
        let what = resolution.as_str();
        tracing::info!(approval = id, outcome = what, by, "approval resolved");
        let reason = match &resolution {
            Resolution::Rejected(reason) => reason.clone(),
            _ => None,
        };
        self.observer.publish(|| BotEvent::ApprovalResolved {
            id: id.to_owned(),
            outcome: what.to_owned(),
            by: by.map(str::to_owned),
            reason,
            at: wall_now(),
        });
        let reply = match run {
            Ok(out) if !out.is_interrupted() => {
                let refused = out.state.refusal.as_ref().map(|f| f.reason.to_string());
                let orders: Vec<OrderEvent> =
                    out.state.orders.iter().map(OrderEvent::from).collect();
                self.finish_cycle(out.state, meta, Some(what.to_owned()), on_cycle)
                    .await?;
                match (&resolution, refused) {
                    (Resolution::Approved, Some(reason)) => Reply::done(
                        format!(
                            "approved, but the risk guard's re-check refused the order: {reason}"
                        ),
                        json!({"id": id, "orders": orders, "refused": reason}),
                    ),
                    (Resolution::Approved, None) => Reply::done(
                        format!("approved: {} order(s) sent", orders.len()),
                        json!({"id": id, "orders": orders}),
                    ),
                    _ => Reply::done(
                        format!("{what}: the order was not sent"),
                        json!({"id": id, "orders": []}),
                    ),
                }
            }
            Ok(_) => {
                self.summary.cycle_errors += 1;
                Reply::failed("the resumed cycle paused again; the order was not sent")
            }
            Err(e) => {
                self.summary.cycle_errors += 1;
                tracing::error!(approval = id, error = %e, "resuming the cycle waiting for approval failed");
                Reply::failed(format!(
                    "resuming the cycle failed: {e}; the order journal has the order's outcome"
                ))
            }
        };
        self.ops.approvals.retain(|p| p.view.id != id);
        self.save_approvals().await?;
        self.approvals_changed();
        Ok(reply)
    }

    /// Rejects every order whose approval has expired.
    pub(crate) async fn expire_approvals<O: FnMut(&TradingState)>(
        &mut self,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let now = wall_now();
        let due: Vec<String> = self
            .ops
            .approvals
            .iter()
            .filter(|p| p.view.expires_at <= now)
            .map(|p| p.view.id.clone())
            .collect();
        for id in due {
            Box::pin(self.resolve(&id, Resolution::Expired, None, on_cycle)).await?;
        }
        Ok(())
    }

    /// The next decision cycle came: every order still waiting is rejected as superseded.
    pub(crate) async fn supersede_approvals<O: FnMut(&TradingState)>(
        &mut self,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let waiting: Vec<String> = self
            .ops
            .approvals
            .iter()
            .map(|p| p.view.id.clone())
            .collect();
        for id in waiting {
            Box::pin(self.resolve(&id, Resolution::Superseded, None, on_cycle)).await?;
        }
        Ok(())
    }

    /// How long until the next approval expires (`None`: none waits).
    pub(crate) fn next_expiry(&self) -> Option<Duration> {
        let now = wall_now().millis();
        self.ops
            .approvals
            .iter()
            .map(|p| p.view.expires_at.millis())
            .min()
            .map(|at| Duration::from_millis(u64::try_from(at.saturating_sub(now)).unwrap_or(0)))
    }

    async fn save_approvals(&mut self) -> Result<(), EngineError> {
        let saved = self
            .state
            .save(StatePart::Approvals, &self.ops.approvals)
            .await;
        self.saved(StatePart::Approvals, saved)
    }

    fn approvals_changed(&self) {
        let views = self.ops.views();
        self.observer.status(|s| {
            s.pending_approvals = views;
            true
        });
    }
}
