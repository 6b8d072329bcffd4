//! Carrying out operators' commands inside the engine's loop, and recording each.

use super::{Command, Envelope, Reply, ReplyKind, Resolution};
use crate::engine::journal::Execution;
use crate::engine::observe::{wall_now, BotEvent};
use crate::engine::state::PauseState;
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use std::sync::atomic::Ordering;
use tradegraph_agents::TradingState;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::{OperatorAction, StatePart};

/// Who settles, in the operator log, an approval whose order was sent before a restart.
const SETTLED_BY: &str = "restart";

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Carries out a command between market events.
    pub(crate) async fn on_command<O: FnMut(&TradingState)>(
        &mut self,
        envelope: Envelope,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        if envelope.command.is_switch() {
            return self.switch(envelope, true).await;
        }
        if envelope.reply.is_closed() {
            self.not_taken(envelope).await;
            return Ok(());
        }
        let Envelope {
            command,
            source,
            reply,
        } = envelope;
        let by = source.as_deref();
        let answer = match &command {
            Command::CloseAll => self.close_all().await?,
            Command::CancelAll { include_exits } => self.cancel_all(*include_exits).await?,
            Command::Approve { id } => {
                Box::pin(self.resolve(id, Resolution::Approved, by, on_cycle)).await?
            }
            Command::Reject { id, reason } => {
                let resolution = Resolution::Rejected(reason.clone());
                Box::pin(self.resolve(id, resolution, by, on_cycle)).await?
            }
            Command::ConfirmReconciliation { seen } => {
                self.confirm_reconciliation(*seen, by).await?
            }
            Command::ApprovePrompt { agent, version } => {
                self.prompt_version(*agent, by, |versions, via, at| {
                    versions
                        .approve(*agent, *version, via, at)
                        .map(|v| format!("{agent} prompt v{} adopted", v.number))
                })
                .await?
            }
            Command::WithdrawPrompt { agent, version } => {
                self.prompt_version(*agent, by, |versions, via, at| {
                    versions
                        .withdraw(*agent, *version, via, at)
                        .map(|()| format!("{agent} prompt v{version} withdrawn"))
                })
                .await?
            }
            Command::RollbackPrompt { agent, to } => {
                self.prompt_version(*agent, by, |versions, via, at| {
                    versions
                        .rollback(*agent, *to, via, at)
                        .map(|()| format!("{agent} prompt rolled back to v{to}"))
                })
                .await?
            }
            // Done by the service: recorded as it came out.
            Command::DecisionReplayed { decision, answered } => match answered {
                Ok(came) => Reply::done(
                    format!("decision {decision}'s prompts asked again: {came}"),
                    serde_json::Value::Null,
                ),
                Err(why) => {
                    Reply::failed(format!("decision {decision}'s prompts asked again: {why}"))
                }
            },
            Command::KillSwitch { .. } | Command::PauseEntries { .. } => {
                Reply::refused("a switch is carried out by `switch`")
            }
        };
        self.answer(&command, source.as_deref(), reply, answer)
            .await
    }

    /// Changes the learner's prompt versions of `agent` with `change` (from `by`, at the
    /// engine's time), saves the learner, and answers with the agent's versions.
    async fn prompt_version(
        &mut self,
        agent: tradegraph_agents::AgentName,
        by: Option<&str>,
        change: impl FnOnce(
            &mut tradegraph_agents::learning::PromptVersions,
            &str,
            tradegraph_core::Timestamp,
        ) -> Result<String, tradegraph_agents::AgentError>,
    ) -> Result<Reply, EngineError> {
        let at = self.clock.now();
        let changed = {
            let mut learner = self
                .desk
                .learner()
                .lock()
                .map_err(|_| EngineError::Poisoned("the learner"))?;
            change(learner.prompt_versions_mut(), by.unwrap_or("operator"), at)
        };
        let message = match changed {
            Ok(message) => message,
            Err(e) => return Ok(Reply::refused(e.to_string())),
        };
        // A shadow evaluation of this agent's proposal is not wanted any more: a person settled
        // the prompt (its proposals were withdrawn), or withdrew it.
        if self.shadow.as_ref().is_some_and(|run| run.agent() == agent) {
            self.shadow = None;
        }
        let learner = self.learner()?;
        if !self.save_part(StatePart::Learner, &learner).await? {
            return Ok(Reply::failed(format!(
                "{message}, but the learner was not saved: a restart before the next save goes back"
            )));
        }
        let versions = learner.prompt_versions().versions(agent);
        Ok(Reply::done(message, json!({ "versions": versions })))
    }

    /// Flips the kill switch or the pause, saves it, and answers. An engaged kill switch acts
    /// at the broker now when `act_now` (between events), and the answer says what it did;
    /// during a decision cycle it acts once the cycle ends, and the answer says so.
    pub(crate) async fn switch(
        &mut self,
        envelope: Envelope,
        act_now: bool,
    ) -> Result<(), EngineError> {
        let Envelope {
            command,
            source,
            reply,
        } = envelope;
        let answer = match command {
            Command::KillSwitch { engaged } => {
                let mut reply = self.set_kill_switch(engaged).await?;
                if engaged && act_now {
                    let tried = Box::pin(self.kill_at_venue()).await?;
                    reply.message = format!(
                        "the kill switch is engaged: nothing is opened; at the broker: {}",
                        tried.said
                    );
                    reply.detail["at_broker"] = tried.detail;
                    reply.detail["done"] = tried.done.into();
                } else if engaged {
                    reply.message = if self.config.risk_limits.kill_switch_closes_positions {
                        "the kill switch is engaged: nothing is opened; the working orders are \
                         cancelled and the position is closed at the broker after the decision \
                         cycle in flight ends (the bot's log says what was done)"
                    } else {
                        "the kill switch is engaged: nothing is opened; the working entries are \
                         cancelled at the broker after the decision cycle in flight ends, the \
                         exits are kept (the bot's log says what was done)"
                    }
                    .to_owned();
                }
                reply
            }
            Command::PauseEntries { paused } => self.set_paused(paused).await?,
            _ => Reply::refused("not a switch"),
        };
        let saved = match command {
            Command::KillSwitch { engaged } => self.saved_kill == engaged,
            Command::PauseEntries { paused } => self.ops.saved_paused == paused,
            _ => true,
        };
        let mut answer = if saved { answer } else { not_saved(answer) };
        if let Some(detail) = answer.detail.as_object_mut() {
            detail.insert("saved".into(), saved.into());
        }
        self.answer(&command, source.as_deref(), reply, answer)
            .await
    }

    pub(crate) async fn answer(
        &mut self,
        command: &Command,
        source: Option<&str>,
        reply: tokio::sync::oneshot::Sender<Reply>,
        answer: Reply,
    ) -> Result<(), EngineError> {
        self.record_action(command, source, &answer).await;
        self.refresh_status();
        // The operator may have gone (a closed connection): the action stands and is recorded.
        let _ = reply.send(answer);
        Ok(())
    }

    async fn set_kill_switch(&mut self, engaged: bool) -> Result<Reply, EngineError> {
        let was = self.kill_switch.is_engaged();
        if engaged {
            self.kill_switch.engage();
        } else {
            self.kill_switch.release();
        }
        // Engaged: cancel (and close) at the broker, now or once a cycle in flight ends, and
        // again each second until done.
        self.kill_pending = engaged;
        self.kill_retry = None;
        self.save_kill_switch().await?;
        if was != engaged {
            self.observer.publish(|| BotEvent::KillSwitch {
                engaged,
                at: wall_now(),
            });
            self.observer.status(|s| {
                s.kill_switch = engaged;
                true
            });
        }
        // An engaged switch's answer says what was done at the broker (see `switch`).
        let message = if engaged {
            "the kill switch is engaged: nothing is opened"
        } else {
            "the kill switch is released: entries are allowed again"
        };
        Ok(Reply::done(
            message,
            json!({"engaged": engaged, "changed": was != engaged}),
        ))
    }

    async fn set_paused(&mut self, paused: bool) -> Result<Reply, EngineError> {
        let was = self.ops.gate.paused.swap(paused, Ordering::SeqCst);
        self.save_pause().await?;
        if was != paused {
            self.observer.status(|s| {
                s.entries_paused = paused;
                true
            });
        }
        let message = if paused {
            "new entries are paused: the bot only reduces (exits, stops and closes go on)"
        } else {
            "new entries are allowed again"
        };
        Ok(Reply::done(
            message,
            json!({"paused": paused, "changed": was != paused}),
        ))
    }

    /// Saves the pause when it changed since its last save (an outage is retried each second).
    pub(crate) async fn save_pause(&mut self) -> Result<(), EngineError> {
        let paused = self.ops.gate.paused.load(Ordering::SeqCst);
        if paused == self.ops.saved_paused {
            return Ok(());
        }
        let value = PauseState {
            paused,
            changed_at: Some(self.clock.now()),
        };
        let saved = self.state.save(StatePart::Pause, &value).await;
        let written = saved.is_ok();
        self.saved(StatePart::Pause, saved)?;
        if written {
            self.ops.saved_paused = paused;
        }
        Ok(())
    }

    /// Writes the approvals settled at start (their order was sent before the bot restarted,
    /// the approval not yet saved as settled) to the operator log, as approved by `restart`.
    pub(crate) async fn record_settled_at_start(&mut self) {
        for view in std::mem::take(&mut self.ops.settled_at_start) {
            let command = Command::Approve {
                id: view.id.clone(),
            };
            let answer = Reply::done(
                format!(
                    "settled at restart: order {} was sent before the bot restarted (the broker \
                     has it); it is not sent again",
                    view.client_id
                ),
                json!({"id": view.id, "client_id": view.client_id, "settled_at": "restart"}),
            );
            self.record_action(&command, Some(SETTLED_BY), &answer)
                .await;
        }
    }

    /// Records a command in the operator log (behind, so a database outage never holds an
    /// operator up) and on the event stream.
    /// A command not carried out because its caller stopped waiting before the bot could take
    /// it (an HTTP request that timed out during a long decision cycle): logged, and recorded
    /// in the operator log as failed, where the operator told it "may still be carried out"
    /// finds what became of it.
    pub(crate) async fn not_taken(&mut self, envelope: Envelope) {
        let Envelope {
            command, source, ..
        } = envelope;
        tracing::warn!(
            action = command.action(),
            "a command is not carried out: its caller stopped waiting before the bot took it"
        );
        let answer = Reply::failed(
            "not carried out: its caller stopped waiting before the bot could take it (a \
             decision cycle in flight comes first); send it again",
        );
        self.record_action(&command, source.as_deref(), &answer)
            .await;
    }

    async fn record_action(&mut self, command: &Command, source: Option<&str>, answer: &Reply) {
        self.ops.actions += 1;
        let at = wall_now();
        let symbol = self.config.instrument.symbol.clone();
        let mut action = OperatorAction::new(symbol, at, self.ops.actions, command.action())
            .outcome(answer.outcome(), answer.message.clone());
        if let Some(source) = source {
            action = action.source(source);
        }
        if !answer.detail.is_null() {
            action.extra.insert("detail".into(), answer.detail.clone());
        }
        tracing::info!(
            action = command.action(),
            source,
            outcome = answer.outcome().as_str(),
            message = %answer.message,
            "operator action"
        );
        if let Err(e) = self.config.stores.operators.record_action(&action).await {
            self.summary.store_errors += 1;
            tracing::warn!(error = %e, "store: operator action not written");
        }
        self.flush_logs().await;
        self.observer.publish(|| BotEvent::OperatorAction {
            action: action.action.clone(),
            source: action.source.clone(),
            outcome: action.outcome,
            message: action.message.clone(),
            at,
        });
    }
}

/// The answer to a switch that acts but whose save failed (the store is down): it fails, and
/// says that a restart before the retried save (each second) goes back, so that an operator
/// does not trust a restart to keep it.
fn not_saved(mut reply: Reply) -> Reply {
    reply.kind = ReplyKind::Failed;
    reply.message = format!(
        "{}; but it was not saved (the state store failed): a restart before it is saved goes \
         back; it is saved again each second",
        reply.message
    );
    reply
}
