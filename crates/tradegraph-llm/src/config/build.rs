//! From configuration to a running [`Llm`].

use super::{LlmConfig, ProviderConfig, ProviderKind, Selection};
use crate::cache::{CacheMode, JsonlCache, LlmCache, MemoryCache};
use crate::fallback::Weighted;
use crate::{Llm, LlmBuilder, LlmError, Provider, ProviderOptions, Repair};
use std::sync::Arc;

impl LlmConfig {
    /// The client this configuration describes.
    ///
    /// # Errors
    /// [`LlmError::NoProviders`] for an empty chain; [`LlmError::Config`] for a provider whose
    /// key is missing, whose base URL is invalid or whose cargo feature is off;
    /// [`LlmError::Cache`] when the cache file cannot be opened.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
    ///
    /// let mut config = LlmConfig::default();
    /// config.providers.push(ProviderConfig::new(ProviderKind::Ollama));
    /// let llm = config.build().await?;
    /// assert_eq!(llm.providers(), [("ollama".to_owned(), "llama3.2".to_owned())]);
    ///
    /// config.providers.push(ProviderConfig::new(ProviderKind::Openai));
    /// let err = config.build().await.unwrap_err();
    /// assert!(err.to_string().contains("openai: no API key; set OPENAI_API_KEY"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn build(&self) -> Result<Llm, LlmError> {
        let mut providers = Vec::with_capacity(self.providers.len());
        for p in &self.providers {
            providers.push((p.provider()?, self.options(p)));
        }
        self.build_cached(providers, self.cache.mode).await
    }

    /// The client this configuration describes, recording into `book` or replaying from it.
    ///
    /// Recording: each configured provider goes behind the book
    /// ([`RecordBook::layer`](crate::record::RecordBook::layer)) and the chain is noted in
    /// the file. Replaying: the chain is the recorded one
    /// ([`RecordBook::replayers`](crate::record::RecordBook::replayers)), whatever providers
    /// are configured (none need be, and no key); budgets, prices and repairs apply as usual.
    /// The answer cache (`[llm.cache]`) is off: every call goes to the record, so a recording
    /// holds every answer its run used and its replay finds them all. A replay takes the
    /// recording's path whatever time it takes: the providers are asked in the chain's order
    /// (whatever `selection`), with no breakers and no rate limits, and the record says which
    /// ones the recording's breakers and limits skipped.
    ///
    /// # Errors
    /// As [`LlmConfig::build`]; [`LlmError::Record`] when the chain cannot be noted in the
    /// file.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
    /// use tradegraph_llm::record::RecordBook;
    ///
    /// let path = std::env::temp_dir().join(format!("llm-build-recorded-{}.jsonl", std::process::id()));
    /// # std::fs::remove_file(&path).ok();
    /// let mut config = LlmConfig::default();
    /// let mut ollama = ProviderConfig::new(ProviderKind::Ollama);
    /// ollama.seed = Some(7);
    /// config.providers.push(ollama);
    /// config.build_recorded(&RecordBook::record(&path)?).await?;
    ///
    /// // No provider configured at all: the recorded chain stands in.
    /// let llm = LlmConfig::default().build_recorded(&RecordBook::replay(&path)?).await?;
    /// assert_eq!(llm.providers(), [("ollama".to_owned(), "llama3.2".to_owned())]);
    /// assert_eq!(llm.chain_entries()[0].sampling.seed, Some(7));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn build_recorded(
        &self,
        book: &Arc<crate::record::RecordBook>,
    ) -> Result<Llm, LlmError> {
        use crate::record::RecordMode;
        match book.mode() {
            RecordMode::Record => {
                let mut providers = Vec::with_capacity(self.providers.len());
                for p in &self.providers {
                    providers.push((book.layer(p.provider()?), self.options(p)));
                }
                let llm = self.build_cached(providers, CacheMode::Off).await?;
                book.begin(&llm)?;
                Ok(llm)
            }
            RecordMode::Replay => self.build_replay(book.replayers()),
        }
    }

    fn options(&self, p: &ProviderConfig) -> ProviderOptions {
        ProviderOptions {
            weight: p.weight,
            limits: p.limits,
        }
    }

    /// The client of `providers` and the rest of this configuration, with the answer cache in
    /// `cache_mode` ([`CacheMode::Off`]: none).
    async fn build_cached(
        &self,
        providers: Vec<(Arc<dyn Provider>, ProviderOptions)>,
        cache_mode: CacheMode,
    ) -> Result<Llm, LlmError> {
        let mut builder = self.builder().breaker(self.breaker);
        builder = match self.selection {
            Selection::Priority => builder,
            Selection::Weighted => builder.selection(Weighted::new()),
        };
        for (provider, options) in providers {
            builder = builder.provider_arc(provider, options);
        }
        if let Some(shared) = &self.shared_limits {
            builder = builder.shared_limits(shared.0.clone());
        }
        if cache_mode != CacheMode::Off {
            let cache: Arc<dyn LlmCache> = match &self.cache.path {
                Some(path) => Arc::new(JsonlCache::open(path).await?),
                None => Arc::new(MemoryCache::new()),
            };
            builder = builder.cache(cache, cache_mode);
        }
        builder.build()
    }

    /// The client of a record's replayers: the providers in the chain's order and no breakers,
    /// so each question goes where the recording's went (the record says which providers the
    /// recording skipped), whatever time the replay takes; nothing random.
    fn build_replay(&self, replayers: Vec<Arc<dyn Provider>>) -> Result<Llm, LlmError> {
        let mut builder = self.builder().without_breakers();
        for provider in replayers {
            builder = builder.provider_arc(provider, ProviderOptions::default());
        }
        builder.build()
    }

    /// A builder with this configuration's repairs, budgets, prices and queue wait.
    fn builder(&self) -> LlmBuilder {
        Llm::builder()
            .repair(Repair::new(self.repair_turns))
            .budget(self.budget)
            .cycle_budget(self.cycle_budget)
            .day_budget(self.day_budget)
            .prices(self.prices.clone())
            .max_queue_wait(self.max_queue_wait)
    }
}

impl ProviderConfig {
    /// The provider this entry describes.
    ///
    /// # Errors
    /// [`LlmError::Config`] for a missing key, an invalid base URL, or a provider whose cargo
    /// feature is off.
    pub fn provider(&self) -> Result<Arc<dyn Provider>, LlmError> {
        let key = self.api_key.clone().filter(|_| self.has_key());
        if self.kind.needs_key() && key.is_none() {
            let var = self
                .api_key_env
                .clone()
                .unwrap_or_else(|| format!("{}_API_KEY", self.kind.env_prefix()));
            return Err(LlmError::Config(format!(
                "{}: no API key; set {var}",
                self.name()
            )));
        }
        build_provider(self, key)
    }
}

/// The options every provider takes from its configuration: model, timeout, schema mode,
/// sampling and name (the builder methods of `http::http_builders!`).
#[allow(unused_macros)]
macro_rules! configured {
    ($provider:expr, $config:expr) => {{
        let mut provider = $provider;
        if let Some(model) = &$config.model {
            provider = provider.with_model(model);
        }
        if let Some(timeout) = $config.timeout {
            provider = provider.with_timeout(timeout);
        }
        Arc::new(
            provider
                .with_schema_mode($config.schema_mode)
                .with_sampling($config.sampling())
                .with_name($config.name()),
        )
    }};
}

#[allow(unused_variables, unreachable_code)]
fn build_provider(
    p: &ProviderConfig,
    key: Option<crate::Secret>,
) -> Result<Arc<dyn Provider>, LlmError> {
    let feature_off = |feature: &str| {
        LlmError::Config(format!("{}: this build has no `{feature}` support; enable the `{feature}` feature of tradegraph-llm", p.name()))
    };
    let key_or_empty = || key.clone().unwrap_or_else(|| crate::Secret::new(""));
    match p.kind {
        ProviderKind::Openai
        | ProviderKind::Groq
        | ProviderKind::Together
        | ProviderKind::Openrouter
        | ProviderKind::Compatible => {
            #[cfg(feature = "openai")]
            {
                use crate::openai::OpenAi;
                let mut o = match p.kind {
                    ProviderKind::Openai => OpenAi::new(key_or_empty())?,
                    ProviderKind::Groq => OpenAi::groq(key_or_empty())?,
                    ProviderKind::Together => OpenAi::together(key_or_empty())?,
                    ProviderKind::Openrouter => OpenAi::openrouter(key_or_empty())?,
                    _ => {
                        let base = p.base_url.as_deref().ok_or_else(|| {
                            LlmError::Config(format!(
                                "{}: a `compatible` provider needs a base_url",
                                p.name()
                            ))
                        })?;
                        OpenAi::compatible(p.name(), base, key.clone())?
                    }
                };
                if let Some(base) = &p.base_url {
                    o = o.with_base_url(base)?;
                }
                return Ok(configured!(o, p));
            }
            Err(feature_off("openai"))
        }
        ProviderKind::Anthropic => {
            #[cfg(feature = "anthropic")]
            {
                let mut a = crate::anthropic::Anthropic::new(key_or_empty())?;
                if let Some(base) = &p.base_url {
                    a = a.with_base_url(base)?;
                }
                return Ok(configured!(a, p));
            }
            Err(feature_off("anthropic"))
        }
        ProviderKind::Gemini => {
            #[cfg(feature = "gemini")]
            {
                let mut g = crate::gemini::Gemini::new(key_or_empty())?;
                if let Some(base) = &p.base_url {
                    g = g.with_base_url(base)?;
                }
                return Ok(configured!(g, p));
            }
            Err(feature_off("gemini"))
        }
        ProviderKind::Ollama => {
            #[cfg(feature = "ollama")]
            {
                use crate::ollama::Ollama;
                let mut o = Ollama::new(p.base_url.as_deref().unwrap_or(Ollama::DEFAULT_BASE_URL))?;
                if let Some(k) = key.clone() {
                    o = o.with_key(k);
                }
                return Ok(configured!(o, p));
            }
            Err(feature_off("ollama"))
        }
    }
}
