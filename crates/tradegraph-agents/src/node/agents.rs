//! One node type for the eight model-facing decision agents.

use super::Brain;
use crate::deadline::CycleDeadline;
use crate::model::{ModelAnswer, ModelFailure, ReportModel};
use crate::prompt::PromptContext;
use crate::prompt::RenderedPrompt;
use crate::reports::{AgentMode, AgentReport, Exchange, Report, RuleReason, Stance};
use crate::rules;
use crate::state::TradingStateUpdate;
use crate::{AgentName, DebateEntry, TradingState};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tradegraph_graph::{Command, Node, NodeContext, NodeError, NodeResult};

/// An agent as a graph node: technical, fundamental, sentiment, macro, bull, bear, risk manager
/// or portfolio manager. Writes its report (or its debate turn) and its prompt version.
#[derive(Debug, Clone)]
pub struct AgentNode {
    agent: AgentName,
    brain: Brain,
}

impl AgentNode {
    /// The node for `agent`.
    ///
    /// # Errors
    /// A message when `agent` is execution or learning, which are nodes of their own.
    pub fn new(agent: AgentName, brain: Brain) -> Result<Self, String> {
        match agent {
            AgentName::Execution | AgentName::Learning => {
                Err(format!("`{agent}` is not a report agent"))
            }
            _ => Ok(Self { agent, brain }),
        }
    }

    /// The report: by rules at once when there is no model (no future to build or move: the
    /// common case in backtests), otherwise through [`Self::produce`], boxed so this future
    /// stays small. With a model, the prompt it was sent comes back beside the report.
    async fn report<T: Report>(
        &self,
        state: &TradingState,
        round: u32,
        wait: Option<Wait>,
        rule: impl FnOnce() -> T,
    ) -> Asked<T> {
        let Some(model) = self.brain.model() else {
            return Asked {
                report: AgentReport {
                    report: rule(),
                    mode: AgentMode::unconfigured(),
                    prompt_version: state
                        .prompt_version_of(self.agent, self.brain.prompts().version(self.agent)),
                    exchange: None,
                },
                prompt: None,
            };
        };
        Box::pin(self.produce(model, state, round, wait, rule)).await
    }

    /// Asks `model` and checks the answer against `T`'s schema; falls back to `rule` on any
    /// failure, or when the model has not answered within `wait`, recording why. The report's
    /// [`Exchange`] holds the prompt's hash and the answer as it came.
    async fn produce<T: Report>(
        &self,
        model: &Arc<dyn ReportModel>,
        state: &TradingState,
        round: u32,
        wait: Option<Wait>,
        rule: impl FnOnce() -> T,
    ) -> Asked<T> {
        let version = state.prompt_version_of(self.agent, self.brain.prompts().version(self.agent));
        let context =
            PromptContext::new::<T>(self.agent, state, self.brain.rules().timeframe, round);
        let prompt = match self.brain.prompts().render_owned(self.agent, context) {
            Ok(mut prompt) => {
                // The adopted amendment, if the prompt carries one: its version names it.
                if let Some(amendment) = state.amendments.get(&self.agent) {
                    amendment.apply(&mut prompt);
                }
                Sent::new(prompt)
            }
            Err(e) => return Asked::by_rules(format!("prompt: {e}"), rule(), version, None, None),
        };
        let Some(schema) = T::output_schema() else {
            let reason = "the report schema does not compile".to_owned();
            return Asked::by_rules(reason, rule(), version, Some(prompt), None);
        };
        let answered = match Wait::ask(
            wait.as_ref(),
            model.as_ref(),
            &prompt.prompt,
            schema.schema(),
        )
        .await
        {
            Ok(answered) => answered,
            Err(share) => {
                tracing::warn!(
                    agent = %self.agent,
                    share_ms = share.as_millis(),
                    "the model did not answer within the agent's share of the cycle's deadline; rules answer"
                );
                let missed = wait.map(|w| w.missed(share)).unwrap_or_default();
                return Asked::by_rules(missed, rule(), version, Some(prompt), None);
            }
        };
        match answered {
            Ok(answer) => match schema.parse(answer.value) {
                Ok(report) => {
                    let exchange = Exchange {
                        prompt_hash: prompt.hash.clone(),
                        answer: Some(answer.raw).filter(|raw| !raw.is_empty()),
                    };
                    Asked {
                        report: AgentReport {
                            report,
                            mode: AgentMode::Llm {
                                provider: answer.provider,
                                model: answer.model,
                                spend: Some(answer.spend),
                            },
                            prompt_version: version,
                            exchange: Some(Box::new(exchange)),
                        },
                        prompt: Some(prompt),
                    }
                }
                Err(violation) => Asked::by_rules(
                    format!(
                        "{} answered outside the schema: {violation}",
                        answer.provider
                    ),
                    rule(),
                    version,
                    Some(prompt),
                    Some(answer.raw).filter(|raw| !raw.is_empty()),
                ),
            },
            Err(failure) => Asked::by_rules(failure.0, rule(), version, Some(prompt), None),
        }
    }
}

/// A prompt sent to a model, with its hash: the key of the stored prompt and the report's
/// [`Exchange`] both, computed once.
struct Sent {
    hash: String,
    prompt: RenderedPrompt,
}

impl Sent {
    fn new(prompt: RenderedPrompt) -> Self {
        Self {
            hash: prompt.hash(),
            prompt,
        }
    }
}

/// A report and the prompt its model was sent (`None`: no model was asked).
struct Asked<T> {
    report: AgentReport<T>,
    prompt: Option<Sent>,
}

impl<T> Asked<T> {
    /// The report, the prompt put in `sent`.
    fn into_report(self, sent: &mut Option<Sent>) -> AgentReport<T> {
        *sent = self.prompt;
        self.report
    }

    /// The rules' `report` after the model gave none that could be used (`reason`), with what
    /// was sent and answered, if anything.
    fn by_rules(
        reason: String,
        report: T,
        prompt_version: String,
        prompt: Option<Sent>,
        answer: Option<String>,
    ) -> Self {
        let exchange = prompt.as_ref().map(|p| {
            Box::new(Exchange {
                prompt_hash: p.hash.clone(),
                answer,
            })
        });
        Self {
            report: AgentReport {
                report,
                mode: AgentMode::Rule {
                    reason: RuleReason::ModelFailed(reason),
                },
                prompt_version,
                exchange,
            },
            prompt,
        }
    }
}

/// How long an agent may wait for its model in this cycle: the node's share of what is left
/// of the cycle's [`CycleDeadline`] when it asks.
#[derive(Debug, Clone)]
pub(crate) struct Wait {
    deadline: CycleDeadline,
    node: String,
    round: u32,
}

impl Wait {
    /// The wait of the node running with `ctx`; `None` when the run has no deadline (the
    /// model's own timeouts apply).
    pub(crate) fn of(ctx: &NodeContext) -> Option<Self> {
        ctx.extension::<CycleDeadline>().map(|d| Self {
            deadline: d.clone(),
            node: ctx.node().as_str().to_owned(),
            round: ctx.round(),
        })
    }

    /// The share, as of now.
    pub(crate) fn share(&self) -> std::time::Duration {
        self.deadline.share(&self.node, self.round)
    }

    /// The cycle's whole deadline.
    pub(crate) fn total(&self) -> std::time::Duration {
        self.deadline.total()
    }

    /// Asks `model`, within `wait` when there is one: the answer, or `Err(share)` when the
    /// model missed its share (the call is dropped then). The share is measured now, after the
    /// prompt is rendered, so the wait never runs past the time left.
    pub(crate) async fn ask(
        wait: Option<&Self>,
        model: &dyn ReportModel,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
    ) -> Result<Result<ModelAnswer, ModelFailure>, std::time::Duration> {
        let Some(wait) = wait else {
            return Ok(model.answer(prompt, schema).await);
        };
        let share = wait.share();
        // No time left: the model is not asked at all (a call started and dropped at once is
        // still sent, and charged its worst case).
        if share.is_zero() {
            return Err(share);
        }
        tokio::time::timeout(share, model.answer_within(prompt, schema, share))
            .await
            .map_err(|_| share)
    }

    /// What a report falling back to rules says when the model missed its `share`.
    pub(crate) fn missed(&self, share: std::time::Duration) -> String {
        format!(
            "deadline: no answer within {:.1} s, this agent's share of the cycle's {:.0} s deadline",
            share.as_secs_f64(),
            self.total().as_secs_f64()
        )
    }
}

#[async_trait]
impl Node<TradingState> for AgentNode {
    async fn run(&self, state: Arc<TradingState>, ctx: NodeContext) -> NodeResult<TradingState> {
        let s = state.as_ref();
        let cfg = self.brain.rules();
        let wait = Wait::of(&ctx);
        let update = TradingStateUpdate::default();
        let mut sent = None;
        let update = match self.agent {
            AgentName::Technical => update.technical(Some(
                self.report(s, 0, wait, || rules::technical(s, &cfg))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::Fundamental => update.fundamental(Some(
                self.report(s, 0, wait, || rules::fundamental(s))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::Sentiment => update.sentiment(Some(
                self.report(s, 0, wait, || rules::sentiment(s))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::Macro => update.macro_view(Some(
                self.report(s, 0, wait, || rules::macro_view(s))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::Bull | AgentName::Bear => {
                let stance = if self.agent == AgentName::Bull {
                    Stance::Bull
                } else {
                    Stance::Bear
                };
                let round = ctx.round();
                let turn = self
                    .report(s, round, wait, || rules::debate_turn(s, stance, round))
                    .await
                    .into_report(&mut sent);
                update.debate(vec![DebateEntry {
                    round,
                    stance,
                    turn,
                }])
            }
            AgentName::RiskManager => update.risk(Some(
                self.report(s, 0, wait, || rules::risk(s, &cfg))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::PortfolioManager => update.decision(Some(
                self.report(s, 0, wait, || rules::portfolio(s, &cfg))
                    .await
                    .into_report(&mut sent),
            )),
            AgentName::Execution | AgentName::Learning => {
                return Err(NodeError::Failed(format!(
                    "`{}` is not a report agent",
                    self.agent
                )))
            }
        };
        let update = match sent {
            Some(Sent { hash, prompt }) => update.prompts(BTreeMap::from([(hash, prompt)])),
            None => update,
        };
        let version = s.prompt_version_of(self.agent, self.brain.prompts().version(self.agent));
        Ok(Command::update(
            update.prompt_versions(BTreeMap::from([(self.agent, version)])),
        ))
    }
}
