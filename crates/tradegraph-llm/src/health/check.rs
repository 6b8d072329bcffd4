//! Checking one provider: the cheap key check, and a tiny structured probe.

use super::CheckResult;
use crate::{Provider, Repair, Request};
use schemars::JsonSchema;
use std::time::Instant;

/// The answer the probe asks for.
#[derive(serde::Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Probe {
    ok: bool,
}

/// The provider's cheap key check ([`Provider::check_key`]: a models listing, no tokens).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use tradegraph_llm::{health, ScriptedProvider};
///
/// let result = health::check_key(&ScriptedProvider::new("mock", "m").text("OK")).await;
/// assert!(result.ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn check_key(provider: &dyn Provider) -> CheckResult {
    let started = Instant::now();
    let error = provider.check_key().await.err();
    CheckResult {
        provider: provider.name().to_owned(),
        model: provider.model().to_owned(),
        latency: started.elapsed(),
        error,
    }
}

/// A tiny structured request (`{"ok": true}`) with one repair turn: proves the key, the model
/// and structured output together. Costs a few tokens.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use tradegraph_llm::{health, LlmError, ScriptedProvider};
///
/// let result = health::probe(&ScriptedProvider::new("mock", "m").text(r#"{"ok": true}"#)).await;
/// assert_eq!(result.status(), "ok");
/// let bad = ScriptedProvider::new("mock", "m").error(LlmError::Unauthorized { provider: "mock".into(), status: 401 });
/// assert_eq!(health::probe(&bad).await.status(), "bad key");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn probe(provider: &dyn Provider) -> CheckResult {
    let started = Instant::now();
    let request = Request::chat(
        "You are a health check. Answer only with JSON.",
        r#"Reply with {"ok": true}."#,
    )
    .temperature(0.0)
    .max_tokens(256);
    let error = crate::structured::complete::<Probe>(provider, request, &Repair::new(1))
        .await
        .err();
    CheckResult {
        provider: provider.name().to_owned(),
        model: provider.model().to_owned(),
        latency: started.elapsed(),
        error,
    }
}
