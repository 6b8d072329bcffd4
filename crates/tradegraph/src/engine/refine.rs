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
    /// The scores (what was answered within the bound).
    task: tokio::task::JoinHandle<Shadow>,
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
    Result<Shadow, tokio::task::JoinError>,
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
    /// Starts the shadow evaluation of the learner's first pending prompt proposal, if none
    /// runs: its recorded cycles (their prompts read back from the prompt log) are sent to the
    /// model twice, as they were and amended, on a task of their own bounded by the cycle's
    /// deadline (what is answered by then counts), so that the loop goes on serving the feed
    /// and commands meanwhile (the result is
    /// settled there: [`settle_shadow`](Self::settle_shadow)). A proposal with fewer recorded
    /// prompts than the policy needs is tried again after the next cycles, then withdrawn.
    /// Nothing happens without a model or with refinement off.
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
        for (agent, number) in versions.pending() {
            let Some(version) = versions.version(agent, number).cloned() else {
                continue;
            };
            let calls = versions.cases(agent, number);
            let mut cases = Vec::with_capacity(calls.len());
            for call in calls.iter().rev().take(policy.window) {
                let Some(hash) = &call.prompt_hash else {
                    continue;
                };
                match self.config.stores.prompts.prompt(hash).await {
                    Ok(Some(record)) => cases.push(ShadowCase {
                        prompt: RenderedPrompt {
                            agent,
                            system: record.system,
                            user: record.user,
                            version: record.prompt_version,
                        },
                        moved: call.moved,
                    }),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(%symbol, %agent, error = %e, "store: a recorded prompt is unreadable; the shadow evaluation goes without it");
                    }
                }
            }
            if cases.len() < policy.min_cases {
                let why = format!(
                    "{} of its recorded prompts are in the prompt log, {} needed",
                    cases.len(),
                    policy.min_cases
                );
                self.inconclusive(agent, number, &why).await?;
                continue;
            }
            let within = self
                .config
                .cycle_deadline
                .unwrap_or(tradegraph_agents::deadline::DEFAULT_CYCLE_DEADLINE);
            let task = tokio::spawn(async move {
                refine::evaluate(model.as_ref(), &version, &cases, within).await
            });
            tracing::info!(%symbol, %agent, version = number, "shadow evaluation of a prompt amendment started");
            self.shadow = Some(ShadowRun {
                agent,
                number,
                within,
                task,
            });
            break;
        }
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
            Ok(shadow) if shadow.answered() as usize >= policy.min_cases => shadow,
            Ok(shadow) => {
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
