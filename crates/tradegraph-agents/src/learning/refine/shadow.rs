//! The shadow evaluation: recorded cycles asked again with an amended prompt.

use super::version::Shadow;
use super::PromptVersion;
use crate::model::ReportModel;
use crate::prompt::RenderedPrompt;
use crate::reports::{answer_schema, read_answer, Signal};
use crate::AgentName;

/// A recorded cycle for the shadow evaluation: the prompt the analyst was sent (as the prompt
/// log keeps it) and which way the market went over the trade.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowCase {
    /// The prompt as it was sent.
    pub prompt: RenderedPrompt,
    /// The market's move over the trade.
    pub moved: Signal,
}

/// Asks `model` every case twice, all at once: the prompt as it was sent, and the same with
/// `version`'s amendment; scores both answers against the market's move. Paired, so that the
/// model's sampling (a newer model, a temperature above 0) weighs on both sides alike. A case
/// either prompt gets no usable answer for counts in neither score (`unanswered`). Ask it
/// within a bound of your own: a hung model holds it up.
pub async fn evaluate(
    model: &dyn ReportModel,
    version: &PromptVersion,
    cases: &[ShadowCase],
) -> Shadow {
    let asked = cases.iter().map(|case| async move {
        let mut amended = case.prompt.clone();
        version.amendment.apply(version.number, &mut amended);
        futures::join!(
            signal_of(model, version.agent, &case.prompt),
            signal_of(model, version.agent, &amended)
        )
    });
    let answers = futures::future::join_all(asked).await;
    let mut shadow = Shadow {
        cycles: u32::try_from(cases.len()).unwrap_or(u32::MAX),
        ..Shadow::default()
    };
    for (case, answer) in cases.iter().zip(answers) {
        let (Some(current), Some(amended)) = answer else {
            shadow.unanswered += 1;
            continue;
        };
        shadow.current.count(current, case.moved);
        shadow.amended.count(amended, case.moved);
        if amended != current {
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
