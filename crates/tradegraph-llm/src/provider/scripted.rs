//! [`ScriptedProvider`]: answers from a script, for tests, examples and offline runs.

use super::Provider;
use crate::{Content, LlmError, Request, Response, Usage};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

type Step = Result<Response, LlmError>;

/// A [`Provider`] that plays back a script of answers and errors, in order, and records every
/// request it receives. When the script runs out it repeats its last step (or answers
/// [`LlmError::EmptyAnswer`] if it never had one).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use tradegraph_llm::{LlmError, Provider, Request, ScriptedProvider};
///
/// let p = ScriptedProvider::new("mock", "m-1")
///     .error(LlmError::Overloaded { provider: "mock".into(), status: 529 })
///     .text(r#"{"action": "HOLD"}"#);
/// let req = Request::chat("You are terse.", "Trade?");
/// assert!(p.complete(&req).await.is_err());
/// assert_eq!(p.complete(&req).await?.text(), r#"{"action": "HOLD"}"#);
/// assert_eq!(p.requests().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScriptedProvider {
    name: String,
    model: String,
    delay: Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Step>,
    last: Option<Step>,
    requests: Vec<Request>,
}

impl ScriptedProvider {
    /// An empty script.
    pub fn new(name: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            delay: Duration::ZERO,
            state: Arc::default(),
        }
    }

    /// Appends a text answer (10 input and 5 output tokens).
    #[must_use]
    pub fn text(self, text: impl Into<String>) -> Self {
        let response = Response::new(
            self.name.clone(),
            self.model.clone(),
            Content::Text(text.into()),
        )
        .with_usage(Usage::new(10, 5));
        self.step(Ok(response))
    }

    /// Appends an error.
    #[must_use]
    pub fn error(self, error: LlmError) -> Self {
        self.step(Err(error))
    }

    /// Appends a step.
    #[must_use]
    pub fn step(self, step: Step) -> Self {
        self.lock().script.push_back(step);
        self
    }

    /// Waits this long before every answer (simulated latency).
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        let step = {
            let mut state = self.lock();
            state.requests.push(request.clone());
            match state.script.pop_front() {
                Some(step) => {
                    state.last = Some(step.clone());
                    step
                }
                None => state.last.clone().unwrap_or_else(|| {
                    Err(LlmError::EmptyAnswer {
                        provider: self.name.clone(),
                        detail: Some("the script is empty".into()),
                    })
                }),
            }
        };
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        step.map(|r| r.with_latency(self.delay))
    }
}
