//! [`Command`]s an operator sends a running bot, the [`Reply`] each gets, and the
//! [`BotHandle`] they go through.

use crate::engine::{BotStatus, EngineError, EquityCurve};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tradegraph_agents::learning::{Learner, PromptVersions};
use tradegraph_agents::AgentName;
use tradegraph_broker::Broker;
use tradegraph_core::order::Order;
use tradegraph_store::ActionOutcome;

/// What an operator can ask a running bot to do. The engine carries each out inside its loop
/// (the kill switch and the pause at once, even during a decision cycle; the others between
/// events), records it in the operator log, and replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Engage (`true`) or release the kill switch: engaged, nothing is opened and the working
    /// entries are cancelled at the broker at once (after the decision cycle in flight, if
    /// any); with `kill_switch_closes_positions` (the default) the open position is closed,
    /// its exits kept working until it is gone where the broker makes room for a close (a
    /// close that cannot go, or that the venue does not take, leaves it protected; on Kite
    /// they are cancelled right before a close that can go); without it the exits are kept. What is not done yet is
    /// tried again each second until nothing works and no position is left. The answer says
    /// what was done. Saved: it survives a restart, and a restarted bot goes on with it.
    KillSwitch {
        /// Engage or release.
        engaged: bool,
    },
    /// Pause (`true`) or resume new entries: paused, the bot only reduces (exits, stops and
    /// closes go on). Saved: it survives a restart.
    PauseEntries {
        /// Pause or resume.
        paused: bool,
    },
    /// Close the open position now, through the risk guard's re-check and the order journal
    /// (a market order, reduce-only; never sent twice for the same trade).
    CloseAll,
    /// Cancel the working orders; the protective exits (stop-loss, take-profit) of an open
    /// position only with `include_exits`.
    CancelAll {
        /// Also cancel the exits attached to the open position.
        include_exits: bool,
    },
    /// Send the order waiting for approval `id`.
    Approve {
        /// The approval (its decision's id).
        id: String,
    },
    /// Refuse the order waiting for approval `id`.
    Reject {
        /// The approval (its decision's id).
        id: String,
        /// Why, for the record.
        reason: Option<String>,
    },
    /// A person checked the discrepancies the last reconciliation with the broker found (see
    /// [`Reconciliation`](crate::engine::Reconciliation)): the `reducing` hold ends and
    /// entries are allowed again. Saved: it survives a restart. Refused when the last
    /// reconciliation is not the one the person read (`seen`).
    ConfirmReconciliation {
        /// The `at` of the reconciliation report the person read.
        seen: tradegraph_core::Timestamp,
    },
    /// Adopt version `version` of `agent`'s prompt, proposed by the learning agent (or rejected
    /// by its shadow evaluation, or withdrawn): from the next cycle the agent's prompt carries
    /// its amendment; the agent's other pending proposals are withdrawn. Saved with the
    /// learner: it survives a restart.
    ApprovePrompt {
        /// The agent (an analyst).
        agent: AgentName,
        /// The version's number.
        version: u32,
    },
    /// Withdraw version `version` of `agent`'s prompt, a proposal still pending: it is not
    /// evaluated, and no longer holds back the learning agent's next proposal (a person may
    /// still approve it). Saved with the learner.
    WithdrawPrompt {
        /// The agent (an analyst).
        agent: AgentName,
        /// The version's number.
        version: u32,
    },
    /// Roll `agent`'s prompt back to version `to`, which was in use before (0: the template as
    /// shipped, no amendment). Saved with the learner: it survives a restart.
    RollbackPrompt {
        /// The agent (an analyst).
        agent: AgentName,
        /// The version to go back to.
        to: u32,
    },
    /// A stored decision's prompts were sent to the bot's model again (`POST
    /// /api/v1/decisions/{id}/replay`, done by the service, outside the engine): recorded in
    /// the operator log like any control, since it spends model calls; nothing else is done.
    DecisionReplayed {
        /// The decision.
        decision: String,
        /// What the replay came to (`Err`: why it failed).
        answered: Result<String, String>,
    },
}

impl Command {
    /// What the operator log calls it: `kill_switch.engage`, `kill_switch.release`,
    /// `entries.pause`, `entries.resume`, `positions.close_all`, `orders.cancel_all`,
    /// `approval.approve`, `approval.reject`, `reconciliation.confirm`, `prompt.approve`,
    /// `prompt.withdraw`, `prompt.rollback`, `decision.replay`.
    pub fn action(&self) -> &'static str {
        match self {
            Self::KillSwitch { engaged: true } => "kill_switch.engage",
            Self::KillSwitch { engaged: false } => "kill_switch.release",
            Self::PauseEntries { paused: true } => "entries.pause",
            Self::PauseEntries { paused: false } => "entries.resume",
            Self::CloseAll => "positions.close_all",
            Self::CancelAll { .. } => "orders.cancel_all",
            Self::Approve { .. } => "approval.approve",
            Self::Reject { .. } => "approval.reject",
            Self::ConfirmReconciliation { .. } => "reconciliation.confirm",
            Self::ApprovePrompt { .. } => "prompt.approve",
            Self::WithdrawPrompt { .. } => "prompt.withdraw",
            Self::RollbackPrompt { .. } => "prompt.rollback",
            Self::DecisionReplayed { .. } => "decision.replay",
        }
    }

    /// Whether it only flips a switch the guard and the execution gate read (carried out at
    /// once, even in the middle of a decision cycle).
    pub(crate) fn is_switch(&self) -> bool {
        matches!(self, Self::KillSwitch { .. } | Self::PauseEntries { .. })
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// Carried out.
    Done,
    /// Refused by a rule (nothing to close, the market is closed, already decided): nothing
    /// changed.
    Refused,
    /// No such approval.
    NotFound,
    /// Tried and failed (the broker or a store); the message says what to do.
    Failed,
    /// Not taken: too many commands wait already; nothing changed, try again later.
    Busy,
}

/// The engine's answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// How it ended.
    pub kind: ReplyKind,
    /// What happened, in words.
    pub message: String,
    /// What it did, in detail (orders sent or cancelled, the state now).
    pub detail: serde_json::Value,
}

impl Reply {
    /// Carried out.
    pub fn done(message: impl Into<String>, detail: serde_json::Value) -> Self {
        Self {
            kind: ReplyKind::Done,
            message: message.into(),
            detail,
        }
    }

    /// Refused: nothing changed.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            kind: ReplyKind::Refused,
            message: message.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// No such thing.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: ReplyKind::NotFound,
            message: message.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// Failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: ReplyKind::Failed,
            message: message.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// Not taken: too many commands wait; nothing changed.
    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            kind: ReplyKind::Busy,
            message: message.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// As the operator log records it.
    pub fn outcome(&self) -> ActionOutcome {
        match self.kind {
            ReplyKind::Done => ActionOutcome::Done,
            ReplyKind::Refused | ReplyKind::NotFound | ReplyKind::Busy => ActionOutcome::Refused,
            ReplyKind::Failed => ActionOutcome::Failed,
        }
    }
}

/// A command on its way to the engine.
pub(crate) struct Envelope {
    pub(crate) command: Command,
    pub(crate) source: Option<String>,
    pub(crate) reply: oneshot::Sender<Reply>,
}

/// A running bot, from outside its loop: send it [`Command`]s, read its [`BotStatus`], its
/// broker (positions, orders) and its equity curve. Cheap to clone; get one from
/// [`Engine::handle`](crate::engine::Engine::handle) before running the engine.
///
/// ```no_run
/// use tradegraph::engine::{BotHandle, Command, ReplyKind};
/// # async fn demo(bot: BotHandle) -> Result<(), tradegraph::engine::EngineError> {
/// let reply = bot.send(Command::KillSwitch { engaged: true }, Some("ops-script".into())).await?;
/// assert_eq!(reply.kind, ReplyKind::Done);
/// assert!(bot.status().kill_switch);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BotHandle {
    pub(crate) commands: mpsc::Sender<Envelope>,
    pub(crate) status: watch::Receiver<BotStatus>,
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) equity: EquityCurve,
    pub(crate) graph: Arc<tradegraph_graph::Topology>,
    /// Every order the broker keeps (see [`BotHandle::kept_orders`]).
    pub(crate) kept_orders: KeptOrders,
    /// The learner the engine's nodes share (read only here).
    pub(crate) learner: Arc<std::sync::Mutex<Learner>>,
    /// The graph run in flight, to cancel.
    pub(crate) cycle_cancel: crate::engine::cancel::CycleCancel,
    /// Whether the broker is a venue's (see [`BotHandle::broker_is_remote`]).
    pub(crate) remote: bool,
    /// How long a caller may wait for a command's answer (see [`BotHandle::answer_within`]).
    pub(crate) answer_within: std::time::Duration,
}

/// What a command may wait beyond a decision cycle in flight (its deadline) before the bot
/// takes it.
pub(crate) const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads every order the broker keeps, working and finished (`None`: it keeps no history).
pub(crate) type KeptOrders = Arc<dyn Fn() -> Option<Vec<Order>> + Send + Sync>;

impl BotHandle {
    /// Sends `command` (from `source`: an address, a program's name) and waits for the reply.
    ///
    /// # Errors
    /// [`EngineError::Stopped`] when the bot has stopped.
    pub async fn send(
        &self,
        command: Command,
        source: Option<String>,
    ) -> Result<Reply, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Envelope {
                command,
                source,
                reply,
            })
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// How long a caller should wait for the answer to a command: a decision cycle in flight
    /// comes first, so its deadline (60 s for a bot without one) and a minute more. A caller
    /// that stops waiting before the bot took its command (the HTTP service answers 504 then)
    /// finds it in the operator log, recorded as not carried out.
    pub fn answer_within(&self) -> std::time::Duration {
        self.answer_within
    }

    /// The status now.
    pub fn status(&self) -> BotStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every change of the status.
    pub fn watch_status(&self) -> watch::Receiver<BotStatus> {
        self.status.clone()
    }

    /// The bot's broker (with its order journal): positions, working orders, the account.
    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// Whether the broker is a venue's, read over the network under the venue's rate limits
    /// (which the bot's own orders need too), rather than the paper account in memory.
    pub fn broker_is_remote(&self) -> bool {
        self.remote
    }

    /// Every order the broker still keeps, working and finished, in the order it took them;
    /// `None` when the broker keeps no history (its working orders are then
    /// [`Broker::open_orders`]). The paper broker keeps every working order, the exits attached
    /// to a position and their entries, and at least the newest 64 finished orders (up to 128
    /// before it lets the older ones go).
    pub fn kept_orders(&self) -> Option<Vec<Order>> {
        (self.kept_orders)()
    }

    /// The equity curve.
    pub fn equity(&self) -> &EquityCurve {
        &self.equity
    }

    /// The analysts' prompt versions as the learner holds them now: every version with its
    /// amendment, evidence and history, and the calls they were judged on.
    pub fn prompt_versions(&self) -> PromptVersions {
        self.learner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .prompt_versions()
            .clone()
    }

    /// Cancels the decision cycle in flight: its graph run stops between nodes (a model call
    /// under way is dropped), no order of it is sent after that, the cycle counts as failed
    /// and the bot goes on with the next one. `false` when no cycle is running.
    pub fn cancel_cycle(&self) -> bool {
        self.cycle_cancel.cancel()
    }

    /// The compiled trading graph the engine runs: its nodes and edges.
    pub fn graph(&self) -> &tradegraph_graph::Topology {
        &self.graph
    }
}

impl std::fmt::Debug for BotHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotHandle")
            .field("instrument", &self.status.borrow().instrument)
            .finish_non_exhaustive()
    }
}
