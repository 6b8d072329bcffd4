//! Health in the Prometheus text exposition format.

use super::ProviderHealth;
use crate::fallback::BreakerState;
use crate::ErrorKind;
use std::fmt::Write;

/// `health` as Prometheus text (`tradegraph_llm_*` metrics, one label set per provider).
///
/// ```
/// use tradegraph_llm::health::prometheus;
///
/// let text = prometheus(&[]);
/// assert!(text.contains("# TYPE tradegraph_llm_calls_total counter"));
/// ```
pub fn prometheus(health: &[ProviderHealth]) -> String {
    let mut out = String::new();
    let calls = family(
        &mut out,
        "tradegraph_llm_calls_total",
        "counter",
        "Calls made to the provider.",
    );
    for h in health {
        let _ = writeln!(
            out,
            "{calls}{{provider=\"{}\"}} {}",
            esc(&h.provider),
            h.calls
        );
    }
    let failures = family(
        &mut out,
        "tradegraph_llm_failures_total",
        "counter",
        "Failed calls by kind.",
    );
    for h in health {
        for kind in ErrorKind::ALL {
            let n = h.failures.get(&kind).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{failures}{{provider=\"{}\",kind=\"{}\"}} {n}",
                esc(&h.provider),
                kind.label()
            );
        }
    }
    let hits = family(
        &mut out,
        "tradegraph_llm_cache_hits_total",
        "counter",
        "Answers served from the cache.",
    );
    for h in health {
        let _ = writeln!(
            out,
            "{hits}{{provider=\"{}\"}} {}",
            esc(&h.provider),
            h.cache_hits
        );
    }
    let up = family(
        &mut out,
        "tradegraph_llm_available",
        "gauge",
        "1 when the breaker is closed and the provider enabled.",
    );
    for h in health {
        let v = u8::from(!h.disabled && h.breaker == BreakerState::Closed);
        let _ = writeln!(out, "{up}{{provider=\"{}\"}} {v}", esc(&h.provider));
    }
    let rate = family(
        &mut out,
        "tradegraph_llm_success_rate",
        "gauge",
        "Recent success rate.",
    );
    for h in health {
        let _ = writeln!(
            out,
            "{rate}{{provider=\"{}\"}} {}",
            esc(&h.provider),
            h.success_rate
        );
    }
    let lat = family(
        &mut out,
        "tradegraph_llm_latency_seconds",
        "histogram",
        "Latency of answered calls.",
    );
    for h in health {
        let p = esc(&h.provider);
        let mut cumulative = 0;
        for (bound, count) in h.latency.bounds_ms.iter().zip(&h.latency.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{lat}_bucket{{provider=\"{p}\",le=\"{}\"}} {cumulative}",
                *bound as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "{lat}_bucket{{provider=\"{p}\",le=\"+Inf\"}} {}",
            h.latency.count
        );
        let _ = writeln!(
            out,
            "{lat}_sum{{provider=\"{p}\"}} {}",
            h.latency.sum_ms as f64 / 1000.0
        );
        let _ = writeln!(out, "{lat}_count{{provider=\"{p}\"}} {}", h.latency.count);
    }
    out
}

fn family(out: &mut String, name: &'static str, kind: &str, help: &str) -> &'static str {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    name
}

fn esc(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
