//! [`LlmError`], the crate's one error type, and [`ErrorKind`], its short classification.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong in this crate.
///
/// Messages name the provider and say what to do. None of them ever contains an API key: vendor
/// messages are redacted with [`Secret::redact`](crate::Secret::redact) and shortened before
/// they are stored here, and URLs (which could carry a key) are stripped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// 401/403: the key is wrong or lacks access. The fallback chain disables the provider and
    /// raises [`LlmEvent::ProviderDisabled`](crate::fallback::LlmEvent::ProviderDisabled).
    #[error("{provider}: the API key was rejected (HTTP {status}); check the provider's key")]
    Unauthorized {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
    },
    /// 429: too many requests or tokens for the account.
    #[error("{provider}: rate limited (HTTP 429){}", fmt_after(.retry_after))]
    RateLimited {
        /// Provider name.
        provider: String,
        /// The vendor's `Retry-After` (or Gemini's `RetryInfo`) delay, if it sent one.
        retry_after: Option<Duration>,
    },
    /// Anthropic's 529 `overloaded_error` (and `overloaded_error` bodies under other statuses).
    #[error(
        "{provider}: the service is overloaded (HTTP {status}); try later or another provider"
    )]
    Overloaded {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
    },
    /// Any other 5xx.
    #[error("{provider}: server error (HTTP {status}): {message}")]
    Server {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The vendor's message, redacted and shortened.
        message: String,
    },
    /// A 3xx (redirects are never followed, so a key cannot travel to another host), or a
    /// 4xx other than 401/403/429 that is not about the provider's model
    /// ([`ModelUnavailable`](Self::ModelUnavailable)): our request is wrong (a parameter the
    /// provider does not take). Not retried and no failover: another provider would most
    /// likely reject it too, and the configuration needs fixing.
    #[error("{provider}: the request was rejected (HTTP {status}): {message}")]
    BadRequest {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The vendor's message, redacted and shortened.
        message: String,
    },
    /// No complete answer within the call's timeout (connecting, waiting or reading).
    #[error(
        "{provider}: no answer within {after:?}; raise the provider's timeout or check the service"
    )]
    Timeout {
        /// Provider name.
        provider: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// Connection refused, DNS or TLS failure, connection reset.
    #[error("{provider}: unreachable: {message}; check the base URL and the network")]
    Connect {
        /// Provider name.
        provider: String,
        /// What failed (no URL).
        message: String,
    },
    /// A 2xx body that is not the vendor's documented shape.
    #[error("{provider}: malformed response: {message}")]
    Malformed {
        /// Provider name.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// The model declined to answer (OpenAI `message.refusal`, Anthropic `stop_reason: refusal`).
    #[error("{provider}: the model refused: {message}")]
    Refusal {
        /// Provider name.
        provider: String,
        /// The refusal text.
        message: String,
    },
    /// The token limit cut the answer (`finish_reason: length`, `stop_reason: max_tokens`,
    /// `finishReason: MAX_TOKENS`, Ollama `done_reason: length`).
    #[error("{provider}: the answer was truncated at the token limit ({}); raise max_tokens", fmt_limit(.max_tokens))]
    Truncated {
        /// Provider name.
        provider: String,
        /// The limit that was sent, if any.
        max_tokens: Option<u32>,
    },
    /// A safety filter blocked the prompt or the answer (OpenAI `content_filter`, Gemini
    /// `SAFETY`/`PROHIBITED_CONTENT`/... or `promptFeedback.blockReason`).
    #[error("{provider}: blocked by the content filter ({reason})")]
    ContentFilter {
        /// Provider name.
        provider: String,
        /// The vendor's reason.
        reason: String,
    },
    /// The provider answered with nothing (Ollama does this silently, e.g. when a thinking
    /// model spends its answer on thoughts or the model cannot follow the format).
    #[error("{provider}: empty answer{}; check the model name, its context size and max_tokens", fmt_detail(.detail))]
    EmptyAnswer {
        /// Provider name.
        provider: String,
        /// What the vendor did send, if anything useful.
        detail: Option<String>,
    },
    /// The answer still breaks the schema after the repair turns.
    #[error("{provider}: the answer does not match the schema after {attempts} attempt(s): {}", .errors.join("; "))]
    SchemaInvalid {
        /// Provider name.
        provider: String,
        /// Attempts made (first answer plus repairs).
        attempts: u32,
        /// The last violations, each naming the JSON pointer and the rule.
        errors: Vec<String>,
    },
    /// This provider's model cannot serve the request, though another provider's may: the
    /// model is unknown to the server, retired or not served where the bot runs (a 404 or a
    /// 400 saying so), or the prompt is longer than its context. Fails over to the next
    /// provider; not counted against its breaker (a long prompt says nothing of the next
    /// one), so each call asks it again and moves on at once.
    #[error(
        "{provider}: its model cannot serve the request (HTTP {status}): {message}; check the \
         model name (<PROVIDER>_MODEL) or add a backup provider"
    )]
    ModelUnavailable {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The vendor's message, redacted and shortened.
        message: String,
    },
    /// The provider cannot take this schema (the vendor said so, or it cannot be expressed).
    #[error("{provider}: schema not supported: {reason}")]
    SchemaUnsupported {
        /// Provider name.
        provider: String,
        /// What in the schema is not supported.
        reason: String,
    },
    /// The provider was disabled after its key was rejected.
    #[error("{provider}: disabled after its key was rejected; fix the key and restart")]
    Disabled {
        /// Provider name.
        provider: String,
    },
    /// The provider's circuit breaker is open after repeated failures.
    #[error("{provider}: circuit open after repeated failures; probed again in {retry_in:?}")]
    CircuitOpen {
        /// Provider name.
        provider: String,
        /// Time until the breaker lets a probe through.
        retry_in: Duration,
    },
    /// Every provider of the chain failed or was unavailable; each attempt is listed, in order.
    #[error("every provider failed: {}", fmt_attempts(.attempts))]
    AllFailed {
        /// Each provider tried, with its error.
        attempts: Vec<FailedAttempt>,
    },
    /// The chain has no provider.
    #[error("no LLM provider is configured; set a key such as OPENAI_API_KEY, or OLLAMA_BASE_URL")]
    NoProviders,
    /// A budget (the run's, the cycle's or the day's) is spent; the call was not made.
    #[error("{window} budget exceeded: {what}; {}", window.advice())]
    BudgetExceeded {
        /// Which budget.
        window: crate::budget::BudgetWindow,
        /// What was exceeded, with the limit and the amount spent.
        what: String,
    },
    /// Replay-only cache mode and no recorded answer for the request.
    #[error("replay-only cache has no answer for key {key} (tried: {providers}); record it first in read-write mode")]
    CacheMiss {
        /// The cache key of the first provider tried.
        key: String,
        /// The providers looked up, comma-separated.
        providers: String,
    },
    /// The cache backend failed (reading or writing its file).
    #[error("cache: {0}")]
    Cache(String),
    /// A replay found no recorded answer for a request: the prompts, the data, the sampling
    /// settings or the model changed since the recording (or it stopped early). Ends the call:
    /// no failover, no fallback.
    #[error("{0}")]
    NotRecorded(Box<crate::record::Miss>),
    /// A record file could not be read or written (see [`record`](crate::record)).
    #[error("LLM record: {0}")]
    Record(String),
    /// A schema that cannot be generated or compiled (a bug in a `JsonSchema` impl).
    #[error("schema for `{type_name}`: {message}")]
    Schema {
        /// The Rust type, or the schema's name.
        type_name: String,
        /// What failed.
        message: String,
    },
    /// Invalid configuration (a bad base URL, a provider whose cargo feature is off, ...).
    #[error("configuration: {0}")]
    Config(String),
}

/// One provider's failure inside [`LlmError::AllFailed`].
#[derive(Debug, Clone, PartialEq)]
pub struct FailedAttempt {
    /// Provider name.
    pub provider: String,
    /// What went wrong.
    pub error: LlmError,
}

/// A short classification of an error, in words for tables and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401/403, or disabled after one.
    BadKey,
    /// 429.
    RateLimited,
    /// 529 / overloaded.
    Overloaded,
    /// 5xx.
    ServerError,
    /// Timeout.
    Timeout,
    /// Connection failure.
    Unreachable,
    /// Other 4xx.
    BadRequest,
    /// The provider's model cannot serve the request (unknown, retired, context too short).
    ModelUnavailable,
    /// The provider cannot take the schema.
    SchemaNotSupported,
    /// A malformed body, or output invalid after repair.
    InvalidOutput,
    /// Refusal.
    Refusal,
    /// Truncation.
    Truncated,
    /// Content filter.
    ContentFilter,
    /// Empty answer.
    EmptyAnswer,
    /// Circuit open.
    CircuitOpen,
    /// Budget.
    Budget,
    /// Replay cache miss.
    CacheMiss,
    /// Cache backend, configuration, schema, no providers.
    Other,
}

impl ErrorKind {
    /// Every kind, for exhaustive tables and metrics.
    pub const ALL: [ErrorKind; 18] = [
        Self::BadKey,
        Self::RateLimited,
        Self::Overloaded,
        Self::ServerError,
        Self::Timeout,
        Self::Unreachable,
        Self::BadRequest,
        Self::ModelUnavailable,
        Self::SchemaNotSupported,
        Self::InvalidOutput,
        Self::Refusal,
        Self::Truncated,
        Self::ContentFilter,
        Self::EmptyAnswer,
        Self::CircuitOpen,
        Self::Budget,
        Self::CacheMiss,
        Self::Other,
    ];

    /// The words for a table cell.
    pub fn words(self) -> &'static str {
        match self {
            Self::BadKey => "bad key",
            Self::RateLimited => "rate limited",
            Self::Overloaded => "overloaded",
            Self::ServerError => "server error",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::BadRequest => "bad request",
            Self::ModelUnavailable => "model unavailable",
            Self::SchemaNotSupported => "schema not supported",
            Self::InvalidOutput => "invalid output",
            Self::Refusal => "refused",
            Self::Truncated => "truncated",
            Self::ContentFilter => "content filtered",
            Self::EmptyAnswer => "empty answer",
            Self::CircuitOpen => "circuit open",
            Self::Budget => "budget exceeded",
            Self::CacheMiss => "not in replay cache",
            Self::Other => "error",
        }
    }

    /// A metric label (`snake_case`).
    pub fn label(self) -> &'static str {
        match self {
            Self::BadKey => "bad_key",
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::BadRequest => "bad_request",
            Self::ModelUnavailable => "model_unavailable",
            Self::SchemaNotSupported => "schema_not_supported",
            Self::InvalidOutput => "invalid_output",
            Self::Refusal => "refusal",
            Self::Truncated => "truncated",
            Self::ContentFilter => "content_filter",
            Self::EmptyAnswer => "empty_answer",
            Self::CircuitOpen => "circuit_open",
            Self::Budget => "budget",
            Self::CacheMiss => "cache_miss",
            Self::Other => "other",
        }
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

impl LlmError {
    /// The error's classification.
    ///
    /// ```
    /// use tradegraph_llm::{ErrorKind, LlmError};
    ///
    /// let err = LlmError::Unauthorized { provider: "openai".into(), status: 401 };
    /// assert_eq!(err.kind(), ErrorKind::BadKey);
    /// assert_eq!(err.kind().to_string(), "bad key");
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthorized { .. } | Self::Disabled { .. } => ErrorKind::BadKey,
            Self::RateLimited { .. } => ErrorKind::RateLimited,
            Self::Overloaded { .. } => ErrorKind::Overloaded,
            Self::Server { .. } => ErrorKind::ServerError,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Connect { .. } => ErrorKind::Unreachable,
            Self::BadRequest { message, .. } if mentions_schema(message) => {
                ErrorKind::SchemaNotSupported
            }
            Self::BadRequest { .. } => ErrorKind::BadRequest,
            Self::ModelUnavailable { .. } => ErrorKind::ModelUnavailable,
            Self::SchemaUnsupported { .. } => ErrorKind::SchemaNotSupported,
            Self::Malformed { .. } | Self::SchemaInvalid { .. } => ErrorKind::InvalidOutput,
            Self::Refusal { .. } => ErrorKind::Refusal,
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::ContentFilter { .. } => ErrorKind::ContentFilter,
            Self::EmptyAnswer { .. } => ErrorKind::EmptyAnswer,
            Self::CircuitOpen { .. } => ErrorKind::CircuitOpen,
            Self::BudgetExceeded { .. } => ErrorKind::Budget,
            Self::CacheMiss { .. } | Self::NotRecorded { .. } => ErrorKind::CacheMiss,
            Self::AllFailed { attempts } => attempts
                .first()
                .map_or(ErrorKind::Other, |a| a.error.kind()),
            Self::NoProviders
            | Self::Cache(_)
            | Self::Record(_)
            | Self::Schema { .. }
            | Self::Config(_) => ErrorKind::Other,
        }
    }

    /// Whether trying again — later, or on another provider — may succeed: timeouts, connection
    /// errors, 429, 5xx, 529, malformed bodies, empty answers, a model the provider cannot serve,
    /// a schema the provider cannot take, output still invalid after repair, and the "skip me"
    /// errors of the chain (disabled, circuit open). Not retryable: a bad request, a rejected key (the chain still moves on to the next
    /// provider, see [`LlmError::is_auth`]), a refusal, a content filter, truncation (raise
    /// `max_tokens` instead), the budget, a replay miss and configuration errors.
    ///
    /// ```
    /// use tradegraph_llm::LlmError;
    ///
    /// let overloaded = LlmError::Overloaded { provider: "anthropic".into(), status: 529 };
    /// assert!(overloaded.is_retryable());
    /// let bad = LlmError::BadRequest { provider: "openai".into(), status: 400, message: "x".into() };
    /// assert!(!bad.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Overloaded { .. }
            | Self::Server { .. }
            | Self::Timeout { .. }
            | Self::Connect { .. }
            | Self::Malformed { .. }
            | Self::EmptyAnswer { .. }
            | Self::ModelUnavailable { .. }
            | Self::SchemaInvalid { .. }
            | Self::SchemaUnsupported { .. }
            | Self::Disabled { .. }
            | Self::CircuitOpen { .. } => true,
            Self::AllFailed { attempts } => attempts.iter().any(|a| a.error.is_retryable()),
            _ => false,
        }
    }

    /// Whether the provider's key was rejected (401/403).
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// Whether this error counts against the provider's health and circuit breaker: failures
    /// of the service, not of the request, the key or the model's judgement.
    pub fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Overloaded { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Connect { .. }
                | Self::Malformed { .. }
                | Self::EmptyAnswer { .. }
        )
    }

    /// The `Retry-After` delay of a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The provider the error is about, if it is about one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::Overloaded { provider, .. }
            | Self::Server { provider, .. }
            | Self::BadRequest { provider, .. }
            | Self::ModelUnavailable { provider, .. }
            | Self::Timeout { provider, .. }
            | Self::Connect { provider, .. }
            | Self::Malformed { provider, .. }
            | Self::Refusal { provider, .. }
            | Self::Truncated { provider, .. }
            | Self::ContentFilter { provider, .. }
            | Self::EmptyAnswer { provider, .. }
            | Self::SchemaInvalid { provider, .. }
            | Self::SchemaUnsupported { provider, .. }
            | Self::Disabled { provider }
            | Self::CircuitOpen { provider, .. } => Some(provider),
            _ => None,
        }
    }
}

fn mentions_schema(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("response_format") || m.contains("json_schema") || m.contains("schema")
}

fn fmt_after(after: &Option<Duration>) -> String {
    after.map_or_else(
        || "; slow down or add a backup provider".to_owned(),
        |d| format!("; retry after {d:?}"),
    )
}

fn fmt_limit(limit: &Option<u32>) -> String {
    limit.map_or_else(
        || "the provider's default".to_owned(),
        |n| format!("max_tokens {n}"),
    )
}

fn fmt_detail(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .map_or_else(String::new, |d| format!(" ({d})"))
}

fn fmt_attempts(attempts: &[FailedAttempt]) -> String {
    if attempts.is_empty() {
        return "no provider was available".into();
    }
    attempts
        .iter()
        .map(|a| a.error.to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> String {
        "x".into()
    }

    #[test]
    fn failover_classes_follow_the_issue() {
        let retry = [
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
                message: p(),
            },
            LlmError::Timeout {
                provider: p(),
                after: Duration::from_secs(1),
            },
            LlmError::Connect {
                provider: p(),
                message: p(),
            },
            LlmError::SchemaInvalid {
                provider: p(),
                attempts: 3,
                errors: vec![],
            },
            LlmError::EmptyAnswer {
                provider: p(),
                detail: None,
            },
        ];
        for e in retry {
            assert!(e.is_retryable(), "{e}");
        }
        let stop = [
            LlmError::BadRequest {
                provider: p(),
                status: 400,
                message: p(),
            },
            LlmError::Unauthorized {
                provider: p(),
                status: 401,
            },
            LlmError::Refusal {
                provider: p(),
                message: p(),
            },
            LlmError::ContentFilter {
                provider: p(),
                reason: p(),
            },
            LlmError::Truncated {
                provider: p(),
                max_tokens: Some(5),
            },
            LlmError::BudgetExceeded {
                window: crate::budget::BudgetWindow::Run,
                what: p(),
            },
        ];
        for e in stop {
            assert!(!e.is_retryable(), "{e}");
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = LlmError::RateLimited {
            provider: "groq".into(),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            e.to_string(),
            "groq: rate limited (HTTP 429); retry after 7s"
        );
        let e = LlmError::Truncated {
            provider: "openai".into(),
            max_tokens: Some(64),
        };
        assert!(e.to_string().contains("max_tokens 64"));
        let all = LlmError::AllFailed {
            attempts: vec![FailedAttempt {
                provider: "a".into(),
                error: LlmError::Overloaded {
                    provider: "a".into(),
                    status: 529,
                },
            }],
        };
        assert_eq!(all.kind(), ErrorKind::Overloaded);
        assert!(all.is_retryable());
    }

    #[test]
    fn schema_rejections_read_as_schema_not_supported() {
        let e = LlmError::BadRequest {
            provider: p(),
            status: 400,
            message: "Invalid schema for response_format".into(),
        };
        assert_eq!(e.kind(), ErrorKind::SchemaNotSupported);
    }
}
