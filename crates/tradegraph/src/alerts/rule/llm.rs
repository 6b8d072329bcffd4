use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, Severity};
use tradegraph_core::Timestamp;
use tradegraph_llm::budget::BudgetWindow;
use tradegraph_llm::fallback::LlmEvent;

/// What the model chain reports that the health checks do not see: the run's or the day's
/// model budget spent raises `api_failures:llm_budget` (a cycle's budget spent is the cap
/// doing its work each cycle: the decision records it, nobody is paged). Whether the providers answer (a refused key, repeated
/// failures) is the `llm` health check's fact ([`HealthRule`](super::HealthRule)), so the
/// chain's provider events raise nothing here.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlmRule;

impl Rule for LlmRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        if let Input::Llm(LlmEvent::BudgetExceeded { window, what }) = input {
            let message = match window {
                BudgetWindow::Cycle => return,
                BudgetWindow::Run => format!(
                    "the model budget is spent ({what}): the agents run on rules until the next \
                     run; raise [llm] budget_usd or TRADEGRAPH_LLM_BUDGET_USD if intended"
                ),
                BudgetWindow::Day => format!(
                    "today's model budget is spent ({what}): the agents run on rules until the \
                     next day (UTC); raise [llm.day_budget] if intended"
                ),
            };
            out.push(Signal::Raise(AlertEvent::new(
                AlertKind::ApiFailures,
                "llm_budget",
                Severity::Critical,
                message,
                at,
            )));
        }
    }
}
