use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, Severity};
use tradegraph_core::Timestamp;
use tradegraph_llm::fallback::LlmEvent;

/// What the model chain reports that the health checks do not see: the model budget spent
/// raises `api_failures:llm_budget`. Whether the providers answer (a refused key, repeated
/// failures) is the `llm` health check's fact ([`HealthRule`](super::HealthRule)), so the
/// chain's provider events raise nothing here.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlmRule;

impl Rule for LlmRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        if let Input::Llm(LlmEvent::BudgetExceeded { what }) = input {
            out.push(Signal::Raise(AlertEvent::new(
                AlertKind::ApiFailures,
                "llm_budget",
                Severity::Critical,
                format!(
                    "the model budget is spent ({what}): the agents run on rules until the next \
                     run; raise [llm] budget_usd or TRADEGRAPH_LLM_BUDGET_USD if intended"
                ),
                at,
            )));
        }
    }
}
