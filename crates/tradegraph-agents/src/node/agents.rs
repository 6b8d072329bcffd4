//! One node type for the eight model-facing decision agents.

use super::Brain;
use crate::model::ReportModel;
use crate::prompt::PromptContext;
use crate::reports::{AgentMode, AgentReport, Report, RuleReason, Stance};
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
    /// stays small.
    async fn report<T: Report>(
        &self,
        state: &TradingState,
        round: u32,
        rule: impl FnOnce() -> T,
    ) -> AgentReport<T> {
        let Some(model) = self.brain.model() else {
            return AgentReport {
                report: rule(),
                mode: AgentMode::unconfigured(),
                prompt_version: self.brain.prompts().version(self.agent).to_owned(),
            };
        };
        Box::pin(self.produce(model, state, round, rule)).await
    }

    /// Asks `model` and checks the answer against `T`'s schema; falls back to `rule` on any
    /// failure, recording why.
    async fn produce<T: Report>(
        &self,
        model: &Arc<dyn ReportModel>,
        state: &TradingState,
        round: u32,
        rule: impl FnOnce() -> T,
    ) -> AgentReport<T> {
        let version = self.brain.prompts().version(self.agent).to_owned();
        let fallback = |reason: String, rule: Box<dyn FnOnce() -> T + '_>| AgentReport {
            report: rule(),
            mode: AgentMode::Rule {
                reason: RuleReason::ModelFailed(reason),
            },
            prompt_version: version.clone(),
        };
        let context =
            PromptContext::new::<T>(self.agent, state, self.brain.rules().timeframe, round);
        let prompt = match self.brain.prompts().render(self.agent, &context) {
            Ok(prompt) => prompt,
            Err(e) => return fallback(format!("prompt: {e}"), Box::new(rule)),
        };
        let Some(schema) = T::output_schema() else {
            return fallback("the report schema does not compile".into(), Box::new(rule));
        };
        match model.answer(&prompt, schema.schema()).await {
            Ok(answer) => match schema.parse(answer.value) {
                Ok(report) => AgentReport {
                    report,
                    mode: AgentMode::Llm {
                        provider: answer.provider,
                        model: answer.model,
                    },
                    prompt_version: version.clone(),
                },
                Err(violation) => fallback(
                    format!(
                        "{} answered outside the schema: {violation}",
                        answer.provider
                    ),
                    Box::new(rule),
                ),
            },
            Err(failure) => fallback(failure.0, Box::new(rule)),
        }
    }
}

#[async_trait]
impl Node<TradingState> for AgentNode {
    async fn run(&self, state: Arc<TradingState>, ctx: NodeContext) -> NodeResult<TradingState> {
        let s = state.as_ref();
        let cfg = self.brain.rules();
        let update = TradingStateUpdate::default();
        let update = match self.agent {
            AgentName::Technical => {
                update.technical(Some(self.report(s, 0, || rules::technical(s, &cfg)).await))
            }
            AgentName::Fundamental => {
                update.fundamental(Some(self.report(s, 0, || rules::fundamental(s)).await))
            }
            AgentName::Sentiment => {
                update.sentiment(Some(self.report(s, 0, || rules::sentiment(s)).await))
            }
            AgentName::Macro => {
                update.macro_view(Some(self.report(s, 0, || rules::macro_view(s)).await))
            }
            AgentName::Bull | AgentName::Bear => {
                let stance = if self.agent == AgentName::Bull {
                    Stance::Bull
                } else {
                    Stance::Bear
                };
                let round = ctx.round();
                let turn = self
                    .report(s, round, || rules::debate_turn(s, stance, round))
                    .await;
                update.debate(vec![DebateEntry {
                    round,
                    stance,
                    turn,
                }])
            }
            AgentName::RiskManager => {
                update.risk(Some(self.report(s, 0, || rules::risk(s, &cfg)).await))
            }
            AgentName::PortfolioManager => {
                update.decision(Some(self.report(s, 0, || rules::portfolio(s, &cfg)).await))
            }
            AgentName::Execution | AgentName::Learning => {
                return Err(NodeError::Failed(format!(
                    "`{}` is not a report agent",
                    self.agent
                )))
            }
        };
        let version = self.brain.prompts().version(self.agent).to_owned();
        Ok(Command::update(
            update.prompt_versions(BTreeMap::from([(self.agent, version)])),
        ))
    }
}
