//! [`Llm`]: the fallback chain with structured output, cache, budget and health.

mod builder;
mod call;
mod member;

pub use builder::{LlmBuilder, ProviderOptions};

use crate::budget::{Accounting, Ledger};
use crate::cache::{CacheMode, LlmCache};
use crate::fallback::{Events, FailoverPolicy, LlmEvent, SelectionPolicy};
use crate::health::{CheckResult, ProviderHealth};
use crate::structured::{decoder_of, downcast};
use crate::{LlmError, PreparedSchema, Provider, RepairPolicy, Request, Response, Structured};
use call::Op;
use member::Member;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast;

/// The LLM client: an ordered chain of providers (primary first) with structured output,
/// failover, circuit breakers, rate limits, a replayable cache, a run budget, accounting and
/// health data. Cheap to clone; clones share everything.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use tradegraph_llm::{Llm, LlmError, Request, ScriptedProvider};
///
/// #[derive(Debug, Deserialize, JsonSchema)]
/// struct Signal {
///     action: String,
///     confidence: f64,
/// }
///
/// let primary = ScriptedProvider::new("primary", "m1").error(LlmError::Overloaded { provider: "primary".into(), status: 529 });
/// let backup = ScriptedProvider::new("backup", "m2").text(r#"{"action": "HOLD", "confidence": 0.6}"#);
/// let llm = Llm::builder().provider(primary).provider(backup).build()?;
///
/// let signal = llm.structured::<Signal>(Request::chat("You are an analyst.", "BTC?")).await?;
/// assert_eq!((signal.value.action.as_str(), signal.response.provider.as_str()), ("HOLD", "backup"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Llm {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    members: Vec<Member>,
    selection: Box<dyn SelectionPolicy>,
    failover: Box<dyn FailoverPolicy>,
    repair: Box<dyn RepairPolicy>,
    cache: Option<Arc<dyn LlmCache>>,
    cache_mode: CacheMode,
    ledger: Mutex<Ledger>,
    events: Events,
    max_wait: Duration,
    shared: Option<Arc<crate::fallback::SharedGate>>,
}

impl Llm {
    /// A builder.
    pub fn builder() -> LlmBuilder {
        LlmBuilder::new()
    }

    /// Asks for a text answer (a request with a schema gets the JSON as text, validated
    /// by the provider only; use [`Llm::structured`] for checked answers).
    ///
    /// # Errors
    /// The error that ended the call: [`LlmError::AllFailed`] with every attempt when each
    /// provider failed (a chain of one returns its error as is), a non-failover error
    /// ([`LlmError::BadRequest`], [`LlmError::Refusal`], ...) as soon as it happens,
    /// [`LlmError::BudgetExceeded`], or [`LlmError::CacheMiss`] in replay-only mode.
    pub async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        self.inner
            .call(request, Op::Text)
            .await
            .map(|done| done.response)
    }

    /// Asks for a `T`: the schema goes to each provider in its native form, the answer is
    /// extracted, validated and deserialized, invalid answers are repaired, and a provider
    /// whose answer stays invalid hands over to the next.
    ///
    /// # Errors
    /// As [`Llm::complete`]; also [`LlmError::SchemaInvalid`] (inside
    /// [`LlmError::AllFailed`] for a chain) and [`LlmError::Schema`] for a type whose schema
    /// does not compile.
    pub async fn structured<T: JsonSchema + DeserializeOwned + Send + 'static>(
        &self,
        request: Request,
    ) -> Result<Structured<T>, LlmError> {
        let schema = PreparedSchema::of::<T>()?;
        let request = request.schema(schema.clone());
        let done = self
            .inner
            .call(
                &request,
                Op::Structured {
                    schema: &schema,
                    decoder: &decoder_of::<T>,
                },
            )
            .await?;
        let value = done.value.ok_or_else(|| LlmError::Malformed {
            provider: done.response.provider.clone(),
            message: "internal: no decoded value".into(),
        })?;
        Ok(Structured {
            value: downcast(value, &done.response.provider)?,
            response: done.response,
            repairs: done.repairs,
        })
    }

    /// Asks for JSON following a schema known only at run time (declared in YAML, say):
    /// validated, repaired and failed over like [`Llm::structured`]. Prepare the schema once
    /// ([`PreparedSchema::from_value`], or [`PreparedSchema::cached`] by content) and reuse it.
    ///
    /// # Errors
    /// As [`Llm::structured`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
    /// use serde_json::json;
    /// use tradegraph_llm::{Llm, PreparedSchema, Request, ScriptedProvider};
    ///
    /// let schema = PreparedSchema::cached("Vote", &json!({"type": "object", "properties": {"yes": {"type": "boolean"}}, "required": ["yes"]}))?;
    /// let llm = Llm::builder().provider(ScriptedProvider::new("p", "m").text(r#"{"yes": true}"#)).build()?;
    /// let out = llm.structured_json(Request::chat("Vote.", "Buy?"), schema).await?;
    /// assert_eq!(out.value, json!({"yes": true}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn structured_json(
        &self,
        request: Request,
        schema: Arc<PreparedSchema>,
    ) -> Result<Structured<serde_json::Value>, LlmError> {
        let request = request.schema(schema.clone());
        let done = self
            .inner
            .call(
                &request,
                Op::Structured {
                    schema: &schema,
                    decoder: &decoder_of::<serde_json::Value>,
                },
            )
            .await?;
        let value = done.value.ok_or_else(|| LlmError::Malformed {
            provider: done.response.provider.clone(),
            message: "internal: no decoded value".into(),
        })?;
        Ok(Structured {
            value: downcast(value, &done.response.provider)?,
            response: done.response,
            repairs: done.repairs,
        })
    }

    /// The events: alerts (a disabled provider, a spent budget), breaker changes, failovers,
    /// and every finished call.
    pub fn subscribe(&self) -> broadcast::Receiver<LlmEvent> {
        self.inner.events.subscribe()
    }

    /// Each provider's health, in chain order.
    pub fn health(&self) -> Vec<ProviderHealth> {
        self.inner.members.iter().map(Member::health).collect()
    }

    /// Tokens and cost of this run, in total and per provider, with the budget.
    pub fn accounting(&self) -> Accounting {
        self.inner.ledger().snapshot()
    }

    /// Starts a new run: the run's accounting is reset, and with it the budget.
    pub fn new_run(&self) {
        self.inner.ledger().new_run();
    }

    /// Carries over what was spent on day `day` before this process began (a restarted bot's
    /// saved tally of the day), so that the day's budget counts it: a restart does not give a
    /// day a fresh budget. Ignored once a cycle of another day has begun.
    pub fn carry_day(&self, day: i64, spent: crate::budget::Account) {
        self.inner.ledger().carry_day(day, spent);
    }

    /// Starts a decision cycle on day `day` (any numbering of days: the trading bots use UTC
    /// days since 1970): the cycle's budget starts afresh, and the day's when `day` is not the
    /// last cycle's ([`budget`](crate::budget)).
    pub fn begin_cycle(&self, day: i64) {
        self.inner.ledger().begin_cycle(day);
    }

    /// How many providers the chain has.
    pub fn provider_count(&self) -> usize {
        self.inner.members.len()
    }

    /// How many providers of the chain a call could be sent to now: not disabled (a key
    /// rejected) and not behind an open breaker. A caller sharing its time among the chain's
    /// providers shares it among these.
    pub fn askable_provider_count(&self) -> usize {
        let now = tokio::time::Instant::now();
        self.inner
            .members
            .iter()
            .filter(|m| {
                let state = m.lock();
                !state.disabled && state.breaker.would_admit(now)
            })
            .count()
    }

    /// The providers, in chain order: `(name, model)`.
    pub fn providers(&self) -> Vec<(String, String)> {
        self.inner
            .members
            .iter()
            .map(|m| (m.name().to_owned(), m.provider.model().to_owned()))
            .collect()
    }

    /// The providers, in chain order, with their sampling: what a
    /// [record](crate::record::RecordBook::begin) notes of the chain.
    pub fn chain_entries(&self) -> Vec<crate::record::ChainEntry> {
        self.inner
            .members
            .iter()
            .map(|m| crate::record::ChainEntry {
                provider: m.name().to_owned(),
                model: m.provider.model().to_owned(),
                sampling: m.provider.sampling(),
            })
            .collect()
    }

    /// The cheap key check of the provider named `provider` (its name in
    /// [`providers`](Self::providers)); `None` when the chain has no such provider. Lets a
    /// caller give each provider its own time limit and keep the results that came in.
    pub async fn check_key(&self, provider: &str) -> Option<CheckResult> {
        let member = self.inner.members.iter().find(|m| m.name() == provider)?;
        Some(crate::health::check_key(member.provider.as_ref()).await)
    }

    /// The cheap key check of every provider, concurrently (HTTP providers list their models;
    /// no tokens are spent). Bypasses the chain, the cache and the budget.
    pub async fn check_keys(&self) -> Vec<CheckResult> {
        futures::future::join_all(
            self.inner
                .members
                .iter()
                .map(|m| crate::health::check_key(m.provider.as_ref())),
        )
        .await
    }

    /// Sends a tiny structured request to every provider, concurrently, bypassing the chain, the
    /// cache and the budget: proves the key, the model and structured output all work.
    pub async fn probe(&self) -> Vec<CheckResult> {
        futures::future::join_all(
            self.inner
                .members
                .iter()
                .map(|m| crate::health::probe(m.provider.as_ref())),
        )
        .await
    }
}

impl Inner {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn order(&self) -> Vec<usize> {
        let candidates: Vec<_> = self.members.iter().map(Member::candidate).collect();
        let mut order = self.selection.order(&candidates);
        order.retain(|&i| i < self.members.len());
        order.dedup();
        order
    }
}

#[async_trait::async_trait]
impl Provider for Llm {
    fn name(&self) -> &str {
        "chain"
    }

    fn model(&self) -> &str {
        self.inner
            .members
            .first()
            .map_or("", |m| m.provider.model())
    }

    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        Llm::complete(self, request).await
    }
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Llm")
            .field("providers", &self.providers())
            .field("selection", &self.inner.selection)
            .field("cache_mode", &self.inner.cache_mode)
            .finish_non_exhaustive()
    }
}
