//! The shadow evaluation: recorded cycles asked again with an amended prompt.

use super::version::Shadow;
use super::PromptVersion;
use crate::model::ReportModel;
use crate::prompt::RenderedPrompt;
use crate::reports::{answer_schema, read_answer, Signal};
use crate::AgentName;

/// A recorded cycle for the shadow evaluation: the prompt the analyst was sent (as the prompt
/// log keeps it), what it answered, and which way the market went.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowCase {
    /// The prompt as it was sent.
    pub prompt: RenderedPrompt,
    /// The signal it gave then.
    pub recorded: Signal,
    /// The market's move over the trade.
    pub moved: Signal,
}

/// Asks `model` every case's prompt again with `version`'s amendment (all at once) and scores
/// the answers beside the recorded ones. A case the model gives no usable answer for counts in
/// neither score. Ask it within a bound of your own: a hung model holds it up.
pub async fn evaluate(
    model: &dyn ReportModel,
    version: &PromptVersion,
    cases: &[ShadowCase],
) -> Shadow {
    let asked = cases.iter().map(|case| async move {
        let mut prompt = case.prompt.clone();
        version.amendment.apply(version.number, &mut prompt);
        signal_of(model, version.agent, &prompt).await
    });
    let answers = futures::future::join_all(asked).await;
    let mut shadow = Shadow {
        cycles: u32::try_from(cases.len()).unwrap_or(u32::MAX),
        ..Shadow::default()
    };
    for (case, answer) in cases.iter().zip(answers) {
        let Some(signal) = answer else {
            shadow.unanswered += 1;
            continue;
        };
        shadow.current.count(case.recorded, case.moved);
        shadow.amended.count(signal, case.moved);
        if signal != case.recorded {
            shadow.changed += 1;
        }
    }
    shadow
}

/// The signal of an analyst's answer to `prompt`, when the model gave one that passed the
/// report's schema.
async fn signal_of(
    model: &dyn ReportModel,
    agent: AgentName,
    prompt: &RenderedPrompt,
) -> Option<Signal> {
    let schema = answer_schema(agent)?;
    let answer = model.answer(prompt, schema).await.ok()?;
    read_answer(agent, answer.value).ok()?.signal
}
