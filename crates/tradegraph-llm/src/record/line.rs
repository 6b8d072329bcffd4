//! The record file's lines (format version 1) and the provider errors a record keeps.

use super::RecordKey;
use crate::{LlmError, Response, Sampling};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The format version this build writes (and the newest it reads; every older one is read too).
/// Version 2 added the failures `skipped` and `model_unavailable`; version 3 `budget_exceeded`.
pub const FORMAT_VERSION: u32 = 3;

/// One line of a record file: the format version, then what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    /// The format version the line was written in.
    pub(crate) v: u32,
    #[serde(flatten)]
    pub(crate) entry: Entry,
}

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// A recording started with this chain (primary first).
    Session { chain: Vec<ChainEntry> },
    /// A provider answered.
    Answer {
        key: RecordKey,
        provider: String,
        model: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        response: Box<Response>,
    },
    /// A provider failed (so a failover replays too).
    Failure {
        key: RecordKey,
        provider: String,
        model: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        error: RecordedError,
    },
}

/// One provider of a recorded chain: what a replay stands in for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// Its name in the chain (`openai`, `groq`, ...).
    pub provider: String,
    /// Its default model.
    pub model: String,
    /// Its configured temperature and seed.
    #[serde(default, skip_serializing_if = "Sampling::is_empty")]
    pub sampling: Sampling,
}

/// A provider's failure, as a record keeps it: the class and its details, never a URL or key
/// (the errors themselves hold none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RecordedError {
    Unauthorized {
        status: u16,
    },
    RateLimited {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Overloaded {
        status: u16,
    },
    Server {
        status: u16,
        message: String,
    },
    BadRequest {
        status: u16,
        message: String,
    },
    ModelUnavailable {
        status: u16,
        message: String,
    },
    Timeout {
        after_ms: u64,
    },
    Connect {
        message: String,
    },
    Malformed {
        message: String,
    },
    Refusal {
        message: String,
    },
    Truncated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_tokens: Option<u32>,
    },
    ContentFilter {
        reason: String,
    },
    EmptyAnswer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    SchemaUnsupported {
        reason: String,
    },
    /// Not asked: the chain skipped this provider (its breaker open, disabled, at its rate
    /// limit). Replayed as [`LlmError::CircuitOpen`], so that a replay skips it too.
    Skipped,
    /// Not asked: a budget was spent. Replayed as the same refusal before the replay's own
    /// budget is consulted, so that a replay refuses what the recording refused, whatever
    /// order its calls settle in.
    BudgetExceeded {
        window: crate::budget::BudgetWindow,
        what: String,
    },
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RecordedError {
    /// The record of a provider's error; `None` for errors a provider does not answer with
    /// (those of the chain, the budget, the configuration), which are not recorded.
    pub(crate) fn of(error: &LlmError) -> Option<Self> {
        Some(match error.clone() {
            LlmError::Unauthorized { status, .. } => Self::Unauthorized { status },
            LlmError::RateLimited { retry_after, .. } => Self::RateLimited {
                retry_after_ms: retry_after.map(ms),
            },
            LlmError::Overloaded { status, .. } => Self::Overloaded { status },
            LlmError::Server {
                status, message, ..
            } => Self::Server { status, message },
            LlmError::BadRequest {
                status, message, ..
            } => Self::BadRequest { status, message },
            LlmError::ModelUnavailable {
                status, message, ..
            } => Self::ModelUnavailable { status, message },
            LlmError::Timeout { after, .. } => Self::Timeout {
                after_ms: ms(after),
            },
            LlmError::Connect { message, .. } => Self::Connect { message },
            LlmError::Malformed { message, .. } => Self::Malformed { message },
            LlmError::Refusal { message, .. } => Self::Refusal { message },
            LlmError::Truncated { max_tokens, .. } => Self::Truncated { max_tokens },
            LlmError::ContentFilter { reason, .. } => Self::ContentFilter { reason },
            LlmError::EmptyAnswer { detail, .. } => Self::EmptyAnswer { detail },
            LlmError::SchemaUnsupported { reason, .. } => Self::SchemaUnsupported { reason },
            _ => return None,
        })
    }

    /// The error again, from `provider`.
    pub(crate) fn to_error(&self, provider: &str) -> LlmError {
        let provider = provider.to_owned();
        match self.clone() {
            Self::Unauthorized { status } => LlmError::Unauthorized { provider, status },
            Self::RateLimited { retry_after_ms } => LlmError::RateLimited {
                provider,
                retry_after: retry_after_ms.map(Duration::from_millis),
            },
            Self::Overloaded { status } => LlmError::Overloaded { provider, status },
            Self::Server { status, message } => LlmError::Server {
                provider,
                status,
                message,
            },
            Self::BadRequest { status, message } => LlmError::BadRequest {
                provider,
                status,
                message,
            },
            Self::ModelUnavailable { status, message } => LlmError::ModelUnavailable {
                provider,
                status,
                message,
            },
            Self::Timeout { after_ms } => LlmError::Timeout {
                provider,
                after: Duration::from_millis(after_ms),
            },
            Self::Connect { message } => LlmError::Connect { provider, message },
            Self::Malformed { message } => LlmError::Malformed { provider, message },
            Self::Refusal { message } => LlmError::Refusal { provider, message },
            Self::Truncated { max_tokens } => LlmError::Truncated {
                provider,
                max_tokens,
            },
            Self::ContentFilter { reason } => LlmError::ContentFilter { provider, reason },
            Self::EmptyAnswer { detail } => LlmError::EmptyAnswer { provider, detail },
            Self::SchemaUnsupported { reason } => LlmError::SchemaUnsupported { provider, reason },
            Self::BudgetExceeded { window, what } => LlmError::BudgetExceeded { window, what },
            Self::Skipped => LlmError::CircuitOpen {
                provider,
                retry_in: Duration::ZERO,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_error_round_trips_and_chain_errors_are_not_recorded() {
        let p = || "p".to_owned();
        let errors = [
            LlmError::Unauthorized {
                provider: p(),
                status: 401,
            },
            LlmError::RateLimited {
                provider: p(),
                retry_after: Some(Duration::from_millis(1500)),
            },
            LlmError::RateLimited {
                provider: p(),
                retry_after: None,
            },
            LlmError::Overloaded {
                provider: p(),
                status: 529,
            },
            LlmError::Server {
                provider: p(),
                status: 503,
                message: "busy".into(),
            },
            LlmError::BadRequest {
                provider: p(),
                status: 400,
                message: "bad".into(),
            },
            LlmError::ModelUnavailable {
                provider: p(),
                status: 404,
                message: "no such model".into(),
            },
            LlmError::Timeout {
                provider: p(),
                after: Duration::from_secs(30),
            },
            LlmError::Connect {
                provider: p(),
                message: "refused".into(),
            },
            LlmError::Malformed {
                provider: p(),
                message: "no choices".into(),
            },
            LlmError::Refusal {
                provider: p(),
                message: "no".into(),
            },
            LlmError::Truncated {
                provider: p(),
                max_tokens: Some(9),
            },
            LlmError::ContentFilter {
                provider: p(),
                reason: "SAFETY".into(),
            },
            LlmError::EmptyAnswer {
                provider: p(),
                detail: None,
            },
            LlmError::SchemaUnsupported {
                provider: p(),
                reason: "maps".into(),
            },
        ];
        for error in errors {
            let recorded = RecordedError::of(&error).unwrap();
            let text = serde_json::to_string(&recorded).unwrap();
            let back: RecordedError = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_error("p"), error, "{text}");
        }
        assert_eq!(RecordedError::of(&LlmError::NoProviders), None);
        assert_eq!(
            RecordedError::of(&LlmError::BudgetExceeded {
                window: crate::budget::BudgetWindow::Run,
                what: "x".into()
            }),
            None
        );
    }
}
