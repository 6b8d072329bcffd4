//! Prompt refinement after a cycle: each proposal the learning agent made is evaluated in
//! shadow, in the background, on the recorded cycles behind it, then adopted or rejected.

use super::observe::{wall_now, AlertEvent, AlertKind, BotEvent, Severity};
use super::{Engine, EngineError, Execution};
use futures::Stream;
use std::time::Duration;
use tradegraph_agents::learning::{refine, Shadow, ShadowCase, VersionStatus};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::AgentName;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

/// A shadow evaluation running beside the engine's loop.
#[derive(Debug)]
pub(crate) struct ShadowRun {
    agent: AgentName,
    number: u32,
    /// How long it may take.
    within: Duration,
    /// The recorded prompts read back, then the scores (what was answered within the bound).
    task: tokio::task::JoinHandle<Evaluation>,
}

/// What a shadow evaluation's task came to.
#[derive(Debug)]
pub(crate) enum Evaluation {
    /// Both prompts were asked on the recorded cycles found.
    Scored(Shadow),
    /// Fewer recorded prompts are in the prompt log than the policy needs (how many were).
    TooFew(usize),
    /// The prompt log did not answer (an outage, not the proposal's doing: not counted).
    Unreadable(String),
}

impl Drop for ShadowRun {
    fn drop(&mut self) {
        // The engine stopped, or went on without it: its calls are not wanted any more.
        self.task.abort();
    }
}

/// What a finished shadow evaluation came to: its proposal, its bound, its scores.
pub(crate) type ShadowDone = (
    AgentName,
    u32,
    Duration,
    Result<Evaluation, tokio::task::JoinError>,
);

impl ShadowRun {
    /// The agent whose proposal it evaluates.
    pub(crate) fn agent(&self) -> AgentName {
        self.agent
    }
}

/// What a running shadow evaluation came to (never ready while none runs).
pub(crate) async fn shadow_done(run: &mut Option<ShadowRun>) -> ShadowDone {
    match run {
        Some(run) => {
            let result = (&mut run.task).await;
            (run.agent, run.number, run.within, result)
        }
        None => std::future::pending().await,
    }
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Starts the shadow evaluation of a pending prompt proposal (they take turns), if none
    /// runs, on a task of its own, so that the loop goes on serving the feed and commands
    /// meanwhile (the result is settled there: [`settle_shadow`](Self::settle_shadow)): its
    /// recorded cycles' prompts are read back from the prompt log, then sent to the model
    /// twice, as they were and amended, the whole bounded by the cycle's deadline for the
    /// asking (what is answered by then counts) and as long again for the reading. A proposal
    /// with fewer recorded prompts than the policy needs is tried again after the next cycles,
    /// then withdrawn; a prompt log that does not answer (down, timed out, refusing) counts no
    /// attempt, and a record that does not decode is left out. Nothing happens
    /// without a model or with refinement off.
    pub(super) async fn start_shadow(&mut self) -> Result<(), EngineError> {
        let policy = self.config.brain.refine();
        if !policy.enabled || self.shadow.is_some() {
            return Ok(());
        }
        let Some(model) = self.config.brain.model().cloned() else {
            return Ok(());
        };
        let symbol = self.config.instrument.symbol.clone();
        // One snapshot of the versions (not a copy of the whole learner per proposal).
        let versions = self
            .desk
            .learner()
            .lock()
            .map_err(|_| EngineError::Poisoned("the learner"))?
            .prompt_versions()
            .clone();
        // The pending proposals take turns (one whose prompts cannot be read is tried again
        // after the others).
        let pending: Vec<_> = versions
            .pending()
            .into_iter()
            .filter_map(|(a, n)| versions.version(a, n).cloned().map(|v| (a, n, v)))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let (agent, number, version) = pending[self.shadow_turns % pending.len()].clone();
        self.shadow_turns = self.shadow_turns.wrapping_add(1);
        let hashes: Vec<(String, tradegraph_agents::reports::Signal)> = versions
            .cases(agent, number)
            .iter()
            .rev()
            .take(policy.window)
            .filter_map(|call| call.prompt_hash.clone().map(|h| (h, call.moved)))
            .collect();
        let within = self
            .config
            .cycle_deadline
            .unwrap_or(tradegraph_agents::deadline::DEFAULT_CYCLE_DEADLINE);
        let prompts = std::sync::Arc::clone(&self.config.stores.prompts);
        let min_cases = policy.min_cases;
        let task = tokio::spawn(async move {
            let read = async {
                let mut cases = Vec::with_capacity(hashes.len());
                for (hash, moved) in hashes {
                    match prompts.prompt(&hash).await {
                        Ok(Some(record)) => cases.push(ShadowCase {
                            prompt: RenderedPrompt {
                                agent,
                                system: record.system,
                                user: record.user,
                                version: record.prompt_version,
                            },
                            moved,
                        }),
                        Ok(None) => {}
                        // A record it cannot give back (one that does not decode): the
                        // evaluation goes without it, as without a prompt not in the log.
                        Err(e @ tradegraph_store::StoreError::Decode { .. }) => {
                            tracing::warn!(%agent, error = %e, "store: a recorded prompt is unreadable; the shadow evaluation goes without it");
                        }
                        // The log down, slow, closed or refusing us: the evaluation waits for
                        // it (no attempt counted).
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(cases)
            };
            let cases = match tokio::time::timeout(within, read).await {
                Ok(Ok(cases)) => cases,
                Ok(Err(e)) => return Evaluation::Unreadable(e),
                Err(_) => {
                    return Evaluation::Unreadable(format!(
                        "no answer within {} s",
                        within.as_secs()
                    ))
                }
            };
            if cases.len() < min_cases {
                return Evaluation::TooFew(cases.len());
            }
            Evaluation::Scored(refine::evaluate(model.as_ref(), &version, &cases, within).await)
        });
        tracing::info!(%symbol, %agent, version = number, "shadow evaluation of a prompt amendment started");
        self.shadow = Some(ShadowRun {
            agent,
            number,
            within,
            task,
        });
        Ok(())
    }

    /// Settles a finished shadow evaluation: adopted when the amended prompt did strictly
    /// better (raising the `prompt_adopted` alert), rejected otherwise, tried again when too
    /// few answers came back; the learner is saved.
    pub(super) async fn settle_shadow(
        &mut self,
        (agent, number, within, result): ShadowDone,
    ) -> Result<(), EngineError> {
        self.shadow = None;
        let policy = self.config.brain.refine();
        let symbol = self.config.instrument.symbol.clone();
        let shadow = match result {
            Ok(Evaluation::Scored(shadow)) if shadow.answered() as usize >= policy.min_cases => {
                shadow
            }
            Ok(Evaluation::TooFew(found)) => {
                let why = format!(
                    "{found} of its recorded prompts are in the prompt log, {} needed",
                    policy.min_cases
                );
                return self.inconclusive(agent, number, &why).await;
            }
            Ok(Evaluation::Unreadable(e)) => {
                tracing::warn!(%symbol, %agent, version = number, error = %e, "store: the prompt log did not answer; the shadow evaluation is tried again after a later cycle (no attempt counted)");
                return Ok(());
            }
            Ok(Evaluation::Scored(shadow)) => {
                let why = format!(
                    "both prompts were answered within {} s on {} recorded cycles of {}, {} \
                     needed",
                    within.as_secs(),
                    shadow.answered(),
                    shadow.cycles,
                    policy.min_cases
                );
                return self.inconclusive(agent, number, &why).await;
            }
            Err(e) => {
                let why = format!("the evaluation stopped: {e}");
                return self.inconclusive(agent, number, &why).await;
            }
        };
        let at = self.clock.now();
        let (status, previous) = {
            let mut learner = self
                .desk
                .learner()
                .lock()
                .map_err(|_| EngineError::Poisoned("the learner"))?;
            let versions = learner.prompt_versions_mut();
            let previous = versions.adopted(agent).map_or(0, |v| v.number);
            (versions.settle(agent, number, shadow, at), previous)
        };
        match status {
            Ok(status) => {
                tracing::info!(
                    %symbol, %agent, version = number, %status,
                    cycles = shadow.answered(), changed = shadow.changed,
                    current = shadow.current.net(), amended = shadow.amended.net(),
                    "prompt amendment {status} after its shadow evaluation"
                );
                if status == VersionStatus::Adopted {
                    let message = format!(
                        "the {agent} prompt is now v{number}: asked again on {} recorded cycles, \
                         it called {} right (net {:+}) where the prompt before called {} right \
                         (net {:+}); read it with `tradegraph prompts versions`, undo it with \
                         `tradegraph prompts rollback --agent {agent} --to {previous}`",
                        shadow.answered(),
                        shadow.amended.hits,
                        shadow.amended.net(),
                        shadow.current.hits,
                        shadow.current.net(),
                    );
                    let about = format!("{agent}:v{number}");
                    self.observer.publish(|| {
                        BotEvent::Alert(AlertEvent::new(
                            AlertKind::PromptAdopted,
                            &about,
                            Severity::Warning,
                            message,
                            wall_now(),
                        ))
                    });
                }
            }
            Err(e) => tracing::warn!(%symbol, error = %e, "prompt proposal not settled"),
        }
        let learner = self.learner()?;
        self.save_part(StatePart::Learner, &learner).await?;
        Ok(())
    }

    /// A shadow evaluation that did not conclude (`why`): counted; the proposal is withdrawn
    /// after its last attempt. The learner is saved.
    async fn inconclusive(
        &mut self,
        agent: AgentName,
        number: u32,
        why: &str,
    ) -> Result<(), EngineError> {
        let at = self.clock.now();
        let status = self
            .desk
            .learner()
            .lock()
            .map_err(|_| EngineError::Poisoned("the learner"))?
            .prompt_versions_mut()
            .inconclusive(agent, number, why, at);
        let symbol = &self.config.instrument.symbol;
        match status {
            Ok(VersionStatus::Withdrawn) => {
                tracing::warn!(%symbol, %agent, version = number, "prompt proposal withdrawn: {why}")
            }
            Ok(_) => {
                tracing::info!(%symbol, %agent, version = number, "shadow evaluation inconclusive, tried again after a later cycle: {why}")
            }
            Err(e) => tracing::warn!(%symbol, error = %e, "prompt proposal not settled"),
        }
        let learner = self.learner()?;
        self.save_part(StatePart::Learner, &learner).await?;
        Ok(())
    }
}
