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

/// How many recorded cycles are asked at once (each twice: as sent and amended), so that the
/// evaluation leaves the bot's live calls room in the model chain.
pub const CYCLES_AT_ONCE: usize = 2;

/// Asks `model` every case twice, [`CYCLES_AT_ONCE`] cases at a time: the prompt as it was
/// sent, and the same with `version`'s amendment; scores both answers against the market's
/// move. Paired, so that the model's sampling (a newer model, a temperature above 0) weighs on
/// both sides alike. A case either prompt gets no usable answer for, or that is not answered
/// `within` the bound, counts in neither score (`unanswered`): what was answered by then is
/// kept.
pub async fn evaluate(
    model: &dyn ReportModel,
    version: &PromptVersion,
    cases: &[ShadowCase],
    within: std::time::Duration,
) -> Shadow {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + within;
    let asks: Vec<_> = cases
        .iter()
        .map(|case| ask_pair(model, version, case))
        .collect();
    let mut asked = futures::stream::iter(asks).buffered(CYCLES_AT_ONCE);
    let mut shadow = Shadow {
        cycles: u32::try_from(cases.len()).unwrap_or(u32::MAX),
        unanswered: u32::try_from(cases.len()).unwrap_or(u32::MAX),
        ..Shadow::default()
    };
    while let Ok(Some((moved, current, amended))) =
        tokio::time::timeout_at(deadline, asked.next()).await
    {
        let (Some(current), Some(amended)) = (current, amended) else {
            continue;
        };
        shadow.unanswered -= 1;
        shadow.current.count(current, moved);
        shadow.amended.count(amended, moved);
        if amended != current {
            shadow.changed += 1;
        }
    }
    shadow
}

/// One case asked as sent and amended, at once: the market's move and both signals.
async fn ask_pair(
    model: &dyn ReportModel,
    version: &PromptVersion,
    case: &ShadowCase,
) -> (Signal, Option<Signal>, Option<Signal>) {
    let mut amended = case.prompt.clone();
    version.amendment.apply(version.number, &mut amended);
    let (current, amended) = futures::join!(
        signal_of(model, version.agent, &case.prompt),
        signal_of(model, version.agent, &amended)
    );
    (case.moved, current, amended)
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
