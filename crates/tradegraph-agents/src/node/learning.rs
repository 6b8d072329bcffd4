//! The learning agent as a node.

use super::agents::Wait;
use super::{Brain, Desk};
use crate::learning::{rule_lesson, ClosedTrade};
use crate::prompt::PromptContext;
use crate::reports::{LessonDraft, Report};
use crate::state::TradingStateUpdate;
use crate::{AgentName, TradingState};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tradegraph_graph::{Command, Node, NodeContext, NodeError, NodeResult};

/// Judges each trade the ledger closed since the previous cycle (`closed_trades`: analyst hit
/// rates and weights), writes a lesson for each (the model's words when one is configured, the
/// rule lesson otherwise) into `new_lessons`, and writes the updated weights into the state.
#[derive(Debug, Clone)]
pub struct LearningNode {
    desk: Desk,
    brain: Brain,
}

impl LearningNode {
    /// A learning node.
    pub fn new(desk: Desk, brain: Brain) -> Self {
        Self { desk, brain }
    }

    /// The model's wording of the lesson of `trade`, if it answers in time (`wait`: its share
    /// of the cycle's deadline), with what it was sent and answered (`None`: no model was
    /// asked).
    async fn model_lesson(
        &self,
        state: &TradingState,
        trade: &ClosedTrade,
        wait: Option<Wait>,
    ) -> Option<Worded> {
        let model = self.brain.model()?;
        let mut context = PromptContext::new::<LessonDraft>(
            AgentName::Learning,
            state,
            self.brain.rules().timeframe,
            0,
        );
        // The rule lesson carries the facts of the trade for the model to word.
        context.lessons.insert(
            0,
            crate::learning::Lesson::new(
                state.instrument.symbol.clone(),
                trade.outcome.closed_at,
                AgentName::Learning.as_str(),
                rule_lesson(trade),
            )
            .with_situation(trade.outcome.situation)
            .with_return_pct(trade.outcome.return_pct),
        );
        let prompt = self
            .brain
            .prompts()
            .render_owned(AgentName::Learning, context)
            .ok()?;
        let schema = LessonDraft::output_schema()?;
        let answer = match Wait::ask(wait.as_ref(), model.as_ref(), &prompt, schema.schema()).await
        {
            Ok(answered) => answered.ok(),
            Err(share) => {
                tracing::warn!(
                    share_ms = share.as_millis(),
                    "the model did not word the lesson within the cycle's deadline; the rule's words stay"
                );
                None
            }
        };
        let (text, raw) = match answer {
            Some(answer) => (
                schema.parse(answer.value).ok().map(|d| d.text),
                Some(answer.raw).filter(|raw| !raw.is_empty()),
            ),
            None => (None, None),
        };
        Some(Worded { text, prompt, raw })
    }
}

/// What the learning agent's model was asked about a trade, and what it answered.
struct Worded {
    /// The lesson in the model's words, when its answer passed the schema.
    text: Option<String>,
    /// The prompt it was sent.
    prompt: crate::prompt::RenderedPrompt,
    /// Its answer as it came, when it answered.
    raw: Option<String>,
}

#[async_trait]
impl Node<TradingState> for LearningNode {
    async fn run(&self, state: Arc<TradingState>, ctx: NodeContext) -> NodeResult<TradingState> {
        let poisoned = || NodeError::Failed("the learner's lock is poisoned".into());
        let mut new_lessons = Vec::with_capacity(state.closed_trades.len());
        let mut prompts = BTreeMap::new();
        for outcome in &state.closed_trades {
            let learned = self
                .desk
                .learner()
                .lock()
                .map_err(|_| poisoned())?
                .learn(outcome, rule_lesson);
            let Some((judged, mut lesson)) = learned else {
                continue;
            };
            // The share is taken as each lesson is asked for: what the last one left.
            if let Some(worded) = self.model_lesson(&state, &judged, Wait::of(&ctx)).await {
                if let Some(text) = worded.text {
                    self.desk
                        .learner()
                        .lock()
                        .map_err(|_| poisoned())?
                        .reword_last_lesson(text.clone());
                    lesson.text = text;
                }
                // The audit trail: the lesson log's record names the prompt and keeps the
                // answer as it came; the prompt's text goes to the prompt log by its hash.
                let hash = worded.prompt.hash();
                lesson.prompt_hash = Some(hash.clone());
                lesson.answer = worded.raw;
                prompts.insert(hash, worded.prompt);
            }
            new_lessons.push(lesson);
        }
        // Amendments matter only to prompts a model reads. Asked every cycle, not only when a
        // trade closed (a proposal needs new calls judged since the last one, so this is a few
        // comparisons): calls judged before a restart are taken up at the next cycle.
        let policy = self.brain.refine();
        if policy.enabled && self.brain.model().is_some() {
            let mut learner = self.desk.learner().lock().map_err(|_| poisoned())?;
            for agent in AgentName::ANALYSTS {
                let current = state.prompt_version_of(agent, self.brain.prompts().version(agent));
                if let Some(proposed) = learner.propose(agent, &current, &policy, state.as_of) {
                    tracing::info!(
                        %agent,
                        version = proposed.number,
                        calls = proposed.evidence.calls,
                        hits = proposed.evidence.hits,
                        "the learning agent proposes a prompt amendment; it is adopted only if its shadow evaluation does better, or a person approves it"
                    );
                }
            }
        }
        let weights = self
            .desk
            .learner()
            .lock()
            .map_err(|_| poisoned())?
            .weights()
            .clone();
        let version = self.brain.prompts().version(AgentName::Learning).to_owned();
        Ok(Command::update(
            TradingStateUpdate::default()
                .weights(weights)
                .new_lessons(new_lessons)
                .prompts(prompts)
                .prompt_versions(BTreeMap::from([(AgentName::Learning, version)])),
        ))
    }
}
