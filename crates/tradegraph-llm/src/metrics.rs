//! The chain's metrics, recorded through the [`metrics`] facade: nothing is kept when no
//! recorder is installed, and the application chooses the exporter (the `tradegraph` runtime
//! installs a Prometheus one).
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `tradegraph_llm_requests_total` | counter | `provider`, `model`, `agent`, `outcome` | calls by how they ended: `ok`, `cached` (answered from the cache), or the error kind (`rate_limited`, `timeout`, `budget`, ...) |
//! | `tradegraph_llm_request_duration_seconds` | histogram | `provider`, `agent` | one call to a provider, answered or failed (repairs included) |
//! | `tradegraph_llm_tokens_total` | counter | `provider`, `model`, `agent`, `type` | tokens billed (`type` = `input` or `output`), failed attempts and repairs included |
//! | `tradegraph_llm_request_cost_dollars` | histogram | `provider`, `model`, `agent` | the cost of one call, in the price table's currency (USD by convention), when a price is known; `_sum` is the total spent |
//! | `tradegraph_llm_fallbacks_total` | counter | `provider`, `agent`, `kind` | calls that failed over from `provider` to the next one, by error kind |
//! | `tradegraph_llm_repairs_total` | counter | `provider`, `agent` | answers that needed a repair turn to pass their schema |
//! | `tradegraph_llm_breaker_state` | gauge | `provider`, `state` | 1 for the breaker's current state (`closed`, `open`, `half_open`), 0 for the others |
//!
//! `agent` is the request's [`Request::agent`](crate::Request::agent) (`unknown` when unset):
//! a short fixed name such as `technical`, never free text. Providers and models come from the
//! configuration, so every label has a small, fixed set of values.
//!
//! ```
//! use tradegraph_llm::metrics;
//! // Registers the descriptions and units with the installed recorder (none here: a no-op).
//! metrics::describe();
//! assert!(metrics::ALL.iter().any(|(name, kind, labels)| {
//!     *name == metrics::REQUESTS_TOTAL && *kind == "counter" && labels.contains(&"agent")
//! }));
//! ```

use crate::fallback::BreakerState;
use crate::{ErrorKind, Usage};
use metrics::{Label, Unit};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::time::Duration;

/// Counter: calls by provider, model, agent and outcome.
pub const REQUESTS_TOTAL: &str = "tradegraph_llm_requests_total";
/// Histogram: one call to a provider, answered or failed (`provider`, `agent`).
pub const REQUEST_DURATION_SECONDS: &str = "tradegraph_llm_request_duration_seconds";
/// Counter: tokens billed, by provider, model, agent and `type` (`input`, `output`).
pub const TOKENS_TOTAL: &str = "tradegraph_llm_tokens_total";
/// Histogram: one call's cost in the price table's currency (`provider`, `model`, `agent`).
pub const REQUEST_COST_DOLLARS: &str = "tradegraph_llm_request_cost_dollars";
/// Counter: fail-overs from a provider to the next one (`provider`, `agent`, `kind`).
pub const FALLBACKS_TOTAL: &str = "tradegraph_llm_fallbacks_total";
/// Counter: answers that needed a repair turn (`provider`, `agent`).
pub const REPAIRS_TOTAL: &str = "tradegraph_llm_repairs_total";
/// Gauge: 1 for a provider's current breaker state, 0 for the others (`provider`, `state`).
pub const BREAKER_STATE: &str = "tradegraph_llm_breaker_state";

/// Every metric of this crate: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (
        REQUESTS_TOTAL,
        "counter",
        &["provider", "model", "agent", "outcome"],
    ),
    (
        REQUEST_DURATION_SECONDS,
        "histogram",
        &["provider", "agent"],
    ),
    (
        TOKENS_TOTAL,
        "counter",
        &["provider", "model", "agent", "type"],
    ),
    (
        REQUEST_COST_DOLLARS,
        "histogram",
        &["provider", "model", "agent"],
    ),
    (FALLBACKS_TOTAL, "counter", &["provider", "agent", "kind"]),
    (REPAIRS_TOTAL, "counter", &["provider", "agent"]),
    (BREAKER_STATE, "gauge", &["provider", "state"]),
];

/// The `agent` label of a request that names none.
pub const UNKNOWN_AGENT: &str = "unknown";

/// Registers every metric's description and unit with the installed recorder. Call it once
/// after installing the recorder; recording works without it.
pub fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        Unit::Count,
        "LLM calls by provider, model, agent and outcome (ok, cached, or the error kind)."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of one call to an LLM provider, answered or failed, repairs included."
    );
    metrics::describe_counter!(
        TOKENS_TOTAL,
        Unit::Count,
        "LLM tokens billed, by provider, model, agent and type (input, output)."
    );
    metrics::describe_histogram!(
        REQUEST_COST_DOLLARS,
        "Cost of one LLM call in the price table's currency (USD by convention); the sum is the total spent."
    );
    metrics::describe_counter!(
        FALLBACKS_TOTAL,
        Unit::Count,
        "LLM calls that failed over from a provider to the next one, by error kind."
    );
    metrics::describe_counter!(
        REPAIRS_TOTAL,
        Unit::Count,
        "LLM answers that needed a repair turn to pass their schema."
    );
    metrics::describe_gauge!(
        BREAKER_STATE,
        "1 for the provider's current circuit-breaker state, 0 for the others."
    );
}

/// Who asked whom: the labels shared by one call's metrics.
pub(crate) struct CallLabels<'a> {
    pub(crate) provider: &'a str,
    pub(crate) model: &'a str,
    pub(crate) agent: &'a str,
}

impl CallLabels<'_> {
    fn with(&self, extra: &[(&'static str, &str)], model: bool) -> Vec<Label> {
        let mut labels = vec![
            Label::new("provider", self.provider.to_owned()),
            Label::new("agent", self.agent.to_owned()),
        ];
        if model {
            labels.push(Label::new("model", self.model.to_owned()));
        }
        labels.extend(
            extra
                .iter()
                .map(|(key, value)| Label::new(*key, (*value).to_owned())),
        );
        labels
    }

    /// A call the provider answered (or failed: `outcome` is the error kind's label), after
    /// `elapsed`, billing `spent` at `cost`.
    pub(crate) fn called(
        &self,
        outcome: &str,
        elapsed: Duration,
        spent: Usage,
        cost: Option<Decimal>,
    ) {
        metrics::counter!(REQUESTS_TOTAL, self.with(&[("outcome", outcome)], true)).increment(1);
        metrics::histogram!(REQUEST_DURATION_SECONDS, self.with(&[], false))
            .record(elapsed.as_secs_f64());
        for (kind, tokens) in [
            ("input", spent.input_tokens),
            ("output", spent.output_tokens),
        ] {
            if tokens > 0 {
                metrics::counter!(TOKENS_TOTAL, self.with(&[("type", kind)], true))
                    .increment(tokens);
            }
        }
        // A call that billed nothing (refused before any token) has no cost to chart.
        if let Some(cost) = cost.filter(|_| spent.total() > 0).and_then(|c| c.to_f64()) {
            metrics::histogram!(REQUEST_COST_DOLLARS, self.with(&[], true)).record(cost);
        }
    }

    /// A call that never reached the provider or was answered from the cache.
    pub(crate) fn counted(&self, outcome: &str) {
        metrics::counter!(REQUESTS_TOTAL, self.with(&[("outcome", outcome)], true)).increment(1);
    }

    /// An answer that needed `repairs` repair turns.
    pub(crate) fn repaired(&self, repairs: u32) {
        if repairs > 0 {
            metrics::counter!(REPAIRS_TOTAL, self.with(&[], false)).increment(u64::from(repairs));
        }
    }

    /// The call failed over to the next provider because of `kind`.
    pub(crate) fn failed_over(&self, kind: ErrorKind) {
        metrics::counter!(FALLBACKS_TOTAL, self.with(&[("kind", kind.label())], false))
            .increment(1);
    }
}

/// A provider's breaker is now `state`.
pub(crate) fn breaker(provider: &str, state: BreakerState) {
    for (label, this) in [
        ("closed", BreakerState::Closed),
        ("open", BreakerState::Open),
        ("half_open", BreakerState::HalfOpen),
    ] {
        let labels = vec![
            Label::new("provider", provider.to_owned()),
            Label::from_static_parts("state", label),
        ];
        metrics::gauge!(BREAKER_STATE, labels).set(if this == state { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        tradegraph_testkit::assert_metric_names("tradegraph_llm_", ALL);
    }

    #[test]
    fn no_name_collides_with_the_health_text() {
        let health = crate::health::prometheus(&[]);
        for (name, _, _) in ALL {
            assert!(
                !health.contains(&format!("# TYPE {name} ")),
                "{name} is also in health::prometheus"
            );
        }
    }

    #[test]
    fn model_is_labelled_where_listed() {
        let call = CallLabels {
            provider: "openai",
            model: "gpt",
            agent: "technical",
        };
        let keys = |labels: Vec<Label>| {
            labels
                .iter()
                .map(|l| l.key().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(call.with(&[("outcome", "ok")], true)),
            ["provider", "agent", "model", "outcome"]
        );
        assert_eq!(keys(call.with(&[], false)), ["provider", "agent"]);
    }
}
