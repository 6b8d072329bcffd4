//! [`LlmBuilder`].

use super::member::Member;
use super::{Inner, Llm};
use crate::budget::{Ledger, PriceTable, RunBudget};
use crate::cache::{CacheMode, LlmCache};
use crate::fallback::{
    BreakerPolicy, Callback, DefaultFailover, Events, FailoverPolicy, Limits, LlmEvent, Priority,
    SelectionPolicy, SharedLimits,
};
use crate::{LlmError, Provider, Repair, RepairPolicy};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How one provider takes part in the chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderOptions {
    /// Its weight under [`Weighted`](crate::fallback::Weighted) selection.
    pub weight: f64,
    /// Its rate and concurrency limits.
    pub limits: Limits,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            weight: 1.0,
            limits: Limits::default(),
        }
    }
}

/// Builds an [`Llm`]. Providers are added primary first.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tradegraph_llm::budget::RunBudget;
/// use tradegraph_llm::cache::{CacheMode, MemoryCache};
/// use tradegraph_llm::fallback::{BreakerPolicy, Limits, Weighted};
/// use tradegraph_llm::{Llm, ProviderOptions, Repair, ScriptedProvider};
///
/// let llm = Llm::builder()
///     .provider(ScriptedProvider::new("primary", "m1"))
///     .provider_with(ScriptedProvider::new("backup", "m2"), ProviderOptions {
///         weight: 0.5,
///         limits: Limits::new().requests_per_minute(30).max_concurrency(4),
///     })
///     .selection(Weighted::new())
///     .breaker(BreakerPolicy { failure_threshold: 5, ..BreakerPolicy::default() })
///     .repair(Repair::new(1))
///     .cache(Arc::new(MemoryCache::new()), CacheMode::ReadWrite)
///     .budget(RunBudget::default().max_tokens(1_000_000))
///     .on_event(|event| eprintln!("{event:?}"))
///     .build()?;
/// assert_eq!(llm.providers().len(), 2);
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
pub struct LlmBuilder {
    providers: Vec<(Arc<dyn Provider>, ProviderOptions)>,
    selection: Box<dyn SelectionPolicy>,
    failover: Box<dyn FailoverPolicy>,
    repair: Box<dyn RepairPolicy>,
    /// `None`: no breakers ([`without_breakers`](Self::without_breakers)).
    breaker: Option<BreakerPolicy>,
    cache: Option<Arc<dyn LlmCache>>,
    cache_mode: CacheMode,
    prices: PriceTable,
    budget: RunBudget,
    cycle_budget: RunBudget,
    day_budget: RunBudget,
    callbacks: Vec<Callback>,
    max_wait: Duration,
    shared: Option<Arc<dyn SharedLimits>>,
}

impl LlmBuilder {
    /// An empty chain with the defaults: strict priority, [`DefaultFailover`], two repair
    /// turns, the default breaker, no cache, no budget, waits for a rate limit of at most 60 s.
    pub fn new() -> Self {
        Self {
            providers: Vec::new(),
            selection: Box::new(Priority),
            failover: Box::new(DefaultFailover),
            repair: Box::new(Repair::default()),
            breaker: Some(BreakerPolicy::default()),
            cache: None,
            cache_mode: CacheMode::Off,
            prices: PriceTable::new(),
            budget: RunBudget::default(),
            cycle_budget: RunBudget::default(),
            day_budget: RunBudget::default(),
            callbacks: Vec::new(),
            max_wait: Duration::from_secs(60),
            shared: None,
        }
    }

    /// Adds a provider with the default options.
    #[must_use]
    pub fn provider(self, provider: impl Provider + 'static) -> Self {
        self.provider_with(provider, ProviderOptions::default())
    }

    /// Adds a provider with options.
    #[must_use]
    pub fn provider_with(
        mut self,
        provider: impl Provider + 'static,
        options: ProviderOptions,
    ) -> Self {
        self.providers.push((Arc::new(provider), options));
        self
    }

    /// Adds a shared provider.
    #[must_use]
    pub fn provider_arc(mut self, provider: Arc<dyn Provider>, options: ProviderOptions) -> Self {
        self.providers.push((provider, options));
        self
    }

    /// Sets the selection policy.
    #[must_use]
    pub fn selection(mut self, policy: impl SelectionPolicy + 'static) -> Self {
        self.selection = Box::new(policy);
        self
    }

    /// Sets the failover policy.
    #[must_use]
    pub fn failover(mut self, policy: impl FailoverPolicy + 'static) -> Self {
        self.failover = Box::new(policy);
        self
    }

    /// Sets the repair policy of structured calls.
    #[must_use]
    pub fn repair(mut self, policy: impl RepairPolicy + 'static) -> Self {
        self.repair = Box::new(policy);
        self
    }

    /// Sets every provider's breaker policy.
    #[must_use]
    pub fn breaker(mut self, policy: BreakerPolicy) -> Self {
        self.breaker = Some(policy);
        self
    }

    /// No breakers: every call asks each provider in turn, whatever failed before. For a
    /// replay ([`RecordBook::replayers`](crate::record::RecordBook::replayers)), which must
    /// take the recording's path whatever time it takes (the record says which providers the
    /// recording's breakers skipped).
    #[must_use]
    pub fn without_breakers(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// Sets the cache and its mode.
    #[must_use]
    pub fn cache(mut self, cache: Arc<dyn LlmCache>, mode: CacheMode) -> Self {
        self.cache = Some(cache);
        self.cache_mode = mode;
        self
    }

    /// Sets the price table.
    #[must_use]
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// Sets the run budget.
    #[must_use]
    pub fn budget(mut self, budget: RunBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Sets the budget of each decision cycle ([`Llm::begin_cycle`]).
    #[must_use]
    pub fn cycle_budget(mut self, budget: RunBudget) -> Self {
        self.cycle_budget = budget;
        self
    }

    /// Sets the budget of each day ([`Llm::begin_cycle`] names the day).
    #[must_use]
    pub fn day_budget(mut self, budget: RunBudget) -> Self {
        self.day_budget = budget;
        self
    }

    /// Calls `callback` with every event, synchronously (keep it quick).
    #[must_use]
    pub fn on_event(mut self, callback: impl Fn(&LlmEvent) + Send + Sync + 'static) -> Self {
        self.callbacks.push(Arc::new(callback));
        self
    }

    /// How long a call waits for a rate-limited provider when no other provider answered.
    #[must_use]
    pub fn max_queue_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Takes every provider's requests and tokens from `shared` buckets too, so that the
    /// processes sharing them share the providers' quotas (only providers with
    /// `requests_per_minute` or `tokens_per_minute` set).
    #[must_use]
    pub fn shared_limits(mut self, shared: Arc<dyn SharedLimits>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The client.
    ///
    /// # Errors
    /// [`LlmError::NoProviders`] for an empty chain; [`LlmError::Config`] for two providers
    /// with one name, or a cache mode without a cache.
    pub fn build(self) -> Result<Llm, LlmError> {
        if self.providers.is_empty() {
            return Err(LlmError::NoProviders);
        }
        let mut names: Vec<&str> = self.providers.iter().map(|(p, _)| p.name()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(LlmError::Config(format!(
                "two providers are named `{}`; rename one (with_name) so health, accounting and cache keys stay apart",
                w[0]
            )));
        }
        if self.cache_mode != CacheMode::Off && self.cache.is_none() {
            return Err(LlmError::Config("a cache mode needs a cache".into()));
        }
        let members = self
            .providers
            .into_iter()
            .enumerate()
            .map(|(i, (p, o))| Member::new(p, i, o.weight, o.limits, self.breaker))
            .collect::<Vec<_>>();
        for member in &members {
            crate::metrics::breaker(member.name(), crate::fallback::BreakerState::Closed);
        }
        Ok(Llm {
            inner: Arc::new(Inner {
                members,
                selection: self.selection,
                failover: self.failover,
                repair: self.repair,
                cache: self.cache,
                cache_mode: self.cache_mode,
                ledger: Mutex::new(
                    Ledger::new(self.prices, self.budget)
                        .with_windows(self.cycle_budget, self.day_budget),
                ),
                events: Events::new(self.callbacks),
                max_wait: self.max_wait,
                shared: self
                    .shared
                    .map(|s| Arc::new(crate::fallback::SharedGate::new(s))),
            }),
        })
    }
}

impl Default for LlmBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LlmBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmBuilder")
            .field(
                "providers",
                &self
                    .providers
                    .iter()
                    .map(|(p, _)| p.name())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
