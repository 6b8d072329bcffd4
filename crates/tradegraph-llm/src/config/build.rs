//! From configuration to a running [`Llm`].

use super::{LlmConfig, ProviderConfig, ProviderKind, Selection};
use crate::cache::{CacheMode, JsonlCache, LlmCache, MemoryCache};
use crate::fallback::Weighted;
use crate::{Llm, LlmError, Provider, ProviderOptions, Repair};
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
        let mut builder = Llm::builder()
            .breaker(self.breaker)
            .repair(Repair::new(self.repair_turns))
            .budget(self.budget)
            .prices(self.prices.clone())
            .max_queue_wait(self.max_queue_wait);
        builder = match self.selection {
            Selection::Priority => builder,
            Selection::Weighted => builder.selection(Weighted::new()),
        };
        for p in &self.providers {
            builder = builder.provider_arc(
                p.provider()?,
                ProviderOptions {
                    weight: p.weight,
                    limits: p.limits,
                },
            );
        }
        if self.cache.mode != CacheMode::Off {
            let cache: Arc<dyn LlmCache> = match &self.cache.path {
                Some(path) => Arc::new(JsonlCache::open(path).await?),
                None => Arc::new(MemoryCache::new()),
            };
            builder = builder.cache(cache, self.cache.mode);
        }
        builder.build()
    }
}

impl ProviderConfig {
    /// The provider this entry describes.
    ///
    /// # Errors
    /// [`LlmError::Config`] for a missing key, an invalid base URL, or a provider whose cargo
    /// feature is off.
    pub fn provider(&self) -> Result<Arc<dyn Provider>, LlmError> {
        let key = self.api_key.clone().filter(|k| !k.is_empty());
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

/// The options every provider takes from its configuration: model, timeout, schema mode and
/// name (the builder methods of `http::http_builders!`).
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
