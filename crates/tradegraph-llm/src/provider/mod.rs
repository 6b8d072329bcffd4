//! The [`Provider`] trait, and [`ScriptedProvider`] for tests and offline runs.

mod scripted;

pub use scripted::ScriptedProvider;

use crate::{FinishReason, LlmError, Message, Request, Response, Role, Sampling};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How a provider is asked for a structured answer.
///
/// [`SchemaMode::Auto`] picks the best form each provider and model support; the others force
/// a form (for a model the presets do not know). Whatever the form, the answer is validated
/// against the full schema afterwards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    /// The best native form the provider supports for the model.
    #[default]
    Auto,
    /// Native and enforced by the vendor where it can be (OpenAI `json_schema` with
    /// `strict: true`); falls back to [`SchemaMode::Native`] for schemas strict mode cannot say.
    Strict,
    /// The provider's native schema form, not strict (`json_schema` with `strict: false`, an
    /// Anthropic forced tool, Gemini `responseSchema`, Ollama `format`).
    Native,
    /// JSON mode (`json_object`, Gemini `responseMimeType` alone, Ollama `format: "json"`),
    /// with the schema in the instructions.
    JsonMode,
    /// The schema in the instructions only.
    Prompt,
}

/// An LLM behind one API: asks one question, returns one answer.
///
/// Implementations send the request's schema in their native form (or the schema's
/// [instruction](crate::PreparedSchema::instruction) where they have none), apply the call's
/// timeout, and return typed errors: [`LlmError::Refusal`], [`LlmError::Truncated`] (for a
/// structured request), [`LlmError::ContentFilter`], [`LlmError::EmptyAnswer`], and the HTTP
/// classes. They never retry: the fallback chain decides.
///
/// ```
/// use tradegraph_llm::{async_trait, Content, LlmError, Provider, Request, Response};
///
/// /// Always says the same thing.
/// #[derive(Debug)]
/// struct Parrot;
///
/// #[async_trait]
/// impl Provider for Parrot {
///     fn name(&self) -> &str { "parrot" }
///     fn model(&self) -> &str { "polly-1" }
///     async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
///         let said = request.turns().last().map(|m| m.content.clone()).unwrap_or_default();
///         Ok(Response::new(self.name(), request.model_or(self.model()), Content::Text(said)))
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The provider's name, unique in a chain (`openai`, `groq`, ...). It labels errors,
    /// events, health data, accounting and cache keys.
    fn name(&self) -> &str;

    /// The model used when a request names none.
    fn model(&self) -> &str;

    /// The base URL the provider calls, without a trailing slash (HTTP providers), or `None`
    /// (in-process providers, the default). It is part of cache keys, so two endpoints under
    /// one provider name never share answers; it must hold no credentials (it goes into the
    /// key's hash only, never into a record).
    fn endpoint(&self) -> Option<&str> {
        None
    }

    /// The temperature and seed configured for this provider, which replace a request's own
    /// ([`Sampling::apply`]); none by default. Part of cache and record keys.
    fn sampling(&self) -> Sampling {
        Sampling::default()
    }

    /// Asks `request` and returns the answer.
    async fn complete(&self, request: &Request) -> Result<Response, LlmError>;

    /// A cheap check that the key is accepted (HTTP providers list their models, which costs
    /// no tokens). The default sends a one-line request.
    async fn check_key(&self) -> Result<(), LlmError> {
        let probe = Request::new(vec![Message::user("Reply with OK.")]).max_tokens(5);
        self.complete(&probe).await.map(|_| ())
    }

    /// Whether the chain passes this provider over for `request` without asking it, before
    /// admitting the call (nothing reserved or counted): a replay's provider that the
    /// recording's chain passed over. `false` by default.
    fn skips(&self, request: &Request) -> bool {
        let _ = request;
        false
    }

    /// The chain did not ask this provider `request` (its breaker was open, it was disabled,
    /// or at its rate limit until the call gave up). Nothing by default; a recording notes it
    /// ([`Recorded`](crate::record::Recorded)), so that a replay skips it too.
    fn skipped(&self, request: &Request) {
        let _ = request;
    }

    /// The chain's budget refused `request` before asking this provider (`refusal`, a
    /// [`LlmError::BudgetExceeded`]). Nothing by default; a recording notes it, so that a
    /// replay refuses it too.
    fn budget_refused(&self, request: &Request, refusal: &LlmError) {
        let _ = (request, refusal);
    }

    /// The budget's refusal of `request` this provider stands for, to be given before the
    /// chain's own budget is consulted: a replay's provider whose recording's budget refused
    /// it. `None` by default.
    fn budget_refusal(&self, request: &Request) -> Option<LlmError> {
        let _ = request;
        None
    }
}

#[async_trait::async_trait]
impl<P: Provider + ?Sized> Provider for Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn model(&self) -> &str {
        (**self).model()
    }
    fn endpoint(&self) -> Option<&str> {
        (**self).endpoint()
    }
    fn sampling(&self) -> Sampling {
        (**self).sampling()
    }
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        (**self).complete(request).await
    }
    async fn check_key(&self) -> Result<(), LlmError> {
        (**self).check_key().await
    }
    fn skipped(&self, request: &Request) {
        (**self).skipped(request);
    }
    fn skips(&self, request: &Request) -> bool {
        (**self).skips(request)
    }
    fn budget_refused(&self, request: &Request, refusal: &LlmError) {
        (**self).budget_refused(request, refusal);
    }
    fn budget_refusal(&self, request: &Request) -> Option<LlmError> {
        (**self).budget_refusal(request)
    }
}

#[async_trait::async_trait]
impl<P: Provider + ?Sized> Provider for Box<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn model(&self) -> &str {
        (**self).model()
    }
    fn endpoint(&self) -> Option<&str> {
        (**self).endpoint()
    }
    fn sampling(&self) -> Sampling {
        (**self).sampling()
    }
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        (**self).complete(request).await
    }
    async fn check_key(&self) -> Result<(), LlmError> {
        (**self).check_key().await
    }
    fn skipped(&self, request: &Request) {
        (**self).skipped(request);
    }
    fn skips(&self, request: &Request) -> bool {
        (**self).skips(request)
    }
    fn budget_refused(&self, request: &Request, refusal: &LlmError) {
        (**self).budget_refused(request, refusal);
    }
    fn budget_refusal(&self, request: &Request) -> Option<LlmError> {
        (**self).budget_refusal(request)
    }
}

/// The messages with the schema's instruction added after the leading system messages.
#[cfg_attr(not(any(feature = "openai", feature = "ollama")), allow(dead_code))]
pub(crate) fn with_instruction(messages: &[Message], instruction: &str) -> Vec<Message> {
    let at = messages
        .iter()
        .take_while(|m| m.role == Role::System)
        .count();
    let mut out = Vec::with_capacity(messages.len() + 1);
    out.extend_from_slice(&messages[..at]);
    out.push(Message::system(instruction));
    out.extend_from_slice(&messages[at..]);
    out
}

/// The system text with the schema's instruction appended, for APIs with a system field.
#[cfg_attr(not(any(feature = "anthropic", feature = "gemini")), allow(dead_code))]
pub(crate) fn system_with(request: &Request, instruction: Option<&str>) -> Option<String> {
    match (request.system_text(), instruction) {
        (Some(s), Some(i)) => Some(format!("{s}\n\n{i}")),
        (Some(s), None) => Some(s),
        (None, Some(i)) => Some(i.to_owned()),
        (None, None) => None,
    }
}

/// Turns a decoded answer into a [`Response`] or the typed error it stands for: an empty answer
/// is [`LlmError::EmptyAnswer`], never a result; a cut answer to a structured request is
/// [`LlmError::Truncated`] (its JSON would be broken); a cut text answer is returned with
/// [`FinishReason::Length`].
#[cfg_attr(
    not(any(
        feature = "openai",
        feature = "anthropic",
        feature = "gemini",
        feature = "ollama"
    )),
    allow(dead_code)
)]
pub(crate) fn settle(request: &Request, response: Response) -> Result<Response, LlmError> {
    if response.finish == FinishReason::Length && request.schema.is_some() {
        return Err(LlmError::Truncated {
            provider: response.provider,
            max_tokens: request.max_tokens,
        });
    }
    if response.content.is_empty() {
        if response.finish == FinishReason::Length {
            return Err(LlmError::Truncated {
                provider: response.provider,
                max_tokens: request.max_tokens,
            });
        }
        return Err(LlmError::EmptyAnswer {
            provider: response.provider,
            detail: None,
        });
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structured::PreparedSchema;
    use crate::Content;

    fn resp(text: &str, finish: FinishReason) -> Response {
        Response::new("p", "m", Content::Text(text.into())).with_finish(finish)
    }

    #[test]
    fn settle_types_the_bad_endings() {
        let text = Request::chat("s", "u").max_tokens(9);
        let schema =
            PreparedSchema::from_value("x", serde_json::json!({"type": "object"})).unwrap();
        let structured = text.clone().schema(Arc::new(schema));
        assert!(matches!(
            settle(&text, resp("", FinishReason::Stop)),
            Err(LlmError::EmptyAnswer { .. })
        ));
        assert!(matches!(
            settle(&text, resp(" \n", FinishReason::Stop)),
            Err(LlmError::EmptyAnswer { .. })
        ));
        assert!(matches!(
            settle(&text, resp("", FinishReason::Length)),
            Err(LlmError::Truncated {
                max_tokens: Some(9),
                ..
            })
        ));
        assert_eq!(
            settle(&text, resp("half a sent", FinishReason::Length))
                .unwrap()
                .finish,
            FinishReason::Length
        );
        assert!(matches!(
            settle(&structured, resp("{\"a\":", FinishReason::Length)),
            Err(LlmError::Truncated { .. })
        ));
        assert!(settle(&structured, resp("{}", FinishReason::Stop)).is_ok());
    }
}
