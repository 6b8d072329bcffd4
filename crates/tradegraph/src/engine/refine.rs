//! Prompt refinement after a cycle: each proposal the learning agent made is evaluated in
//! shadow on the recorded cycles behind it, and adopted or rejected.

use super::observe::{wall_now, AlertEvent, AlertKind, BotEvent, Severity};
use super::{Engine, EngineError, Execution};
use futures::Stream;
use tradegraph_agents::learning::{refine, ShadowCase, VersionStatus};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Settles the learner's pending prompt proposals by their shadow evaluation: each
    /// proposal's recorded cycles (their prompts read back from the prompt log) are asked again
    /// with the amendment, within the cycle's deadline, and the proposal is adopted when the
    /// answers did strictly better, rejected otherwise; the learner is saved. A proposal stays
    /// pending (for a person, or the next cycle) without a model, with fewer recorded cycles
    /// than the policy needs, or when the evaluation did not finish in time.
    pub(super) async fn refine_prompts(&mut self) -> Result<(), EngineError> {
        let Some(model) = self.config.brain.model().cloned() else {
            return Ok(());
        };
        let policy = self.config.brain.refine();
        let pending = self.learner()?.prompt_versions().pending();
        let symbol = self.config.instrument.symbol.clone();
        for (agent, number) in pending {
            let (version, calls) = {
                let learner = self.learner()?;
                let versions = learner.prompt_versions();
                let Some(version) = versions.version(agent, number).cloned() else {
                    continue;
                };
                (version, versions.cases(agent, number))
            };
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
                        recorded: call.signal,
                        moved: call.moved,
                    }),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(%symbol, %agent, error = %e, "store: a recorded prompt is unreadable; the shadow evaluation goes without it");
                    }
                }
            }
            if cases.len() < policy.min_cases {
                tracing::info!(%symbol, %agent, version = number, found = cases.len(), needed = policy.min_cases, "too few recorded cycles in the prompt log for a shadow evaluation; the proposal waits for a person");
                continue;
            }
            let evaluation = refine::evaluate(model.as_ref(), &version, &cases);
            let shadow = match self.config.cycle_deadline {
                Some(within) => match tokio::time::timeout(within, evaluation).await {
                    Ok(shadow) => shadow,
                    Err(_) => {
                        tracing::warn!(%symbol, %agent, version = number, "the shadow evaluation did not finish within the cycle's deadline; tried again after the next cycle");
                        continue;
                    }
                },
                None => evaluation.await,
            };
            let at = self.clock.now();
            // The version in use before (0: the template as shipped), for the alert's undo.
            let previous = self
                .learner()?
                .prompt_versions()
                .adopted(agent)
                .map_or(0, |v| v.number);
            let status = self
                .desk
                .learner()
                .lock()
                .map_err(|_| EngineError::Poisoned("the learner"))?
                .prompt_versions_mut()
                .settle(agent, number, shadow, at);
            match status {
                Ok(status) => {
                    let adopted = status == VersionStatus::Adopted;
                    if adopted {
                        let message = format!(
                            "the {agent} prompt is now v{number}: its amendment did better on {} \
                             recorded cycles (net {:+} against {:+} as answered then); read it \
                             with `tradegraph prompts versions`, undo it with `tradegraph prompts \
                             rollback --agent {agent} --to {}`",
                            shadow.cycles - shadow.unanswered,
                            shadow.amended.net(),
                            shadow.current.net(),
                            previous,
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
                    tracing::info!(
                        %symbol, %agent, version = number, %status,
                        cycles = shadow.cycles, changed = shadow.changed,
                        current = shadow.current.net(), amended = shadow.amended.net(),
                        "{}",
                        if adopted {
                            "prompt amendment adopted: it did better on the recorded cycles"
                        } else {
                            "prompt amendment not adopted: it did not do better on the recorded cycles"
                        }
                    );
                }
                Err(e) => tracing::warn!(%symbol, error = %e, "prompt proposal not settled"),
            }
            let learner = self.learner()?;
            self.save_part(StatePart::Learner, &learner).await?;
        }
        Ok(())
    }
}
