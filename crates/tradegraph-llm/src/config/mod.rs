//! Configuration: a typed [`LlmConfig`], read from the environment with [`LlmConfig::from_env`]
//! (given a lookup function: this crate never reads the process environment itself) or from
//! a TOML or YAML file (feature `config-file`), then [built](LlmConfig::build) into an
//! [`Llm`](crate::Llm).
//!
//! ```toml
//! selection = "weighted"          # or "priority" (the default): primary first
//! repair_turns = 2
//!
//! [breaker]
//! failure_threshold = 3
//! open_for = 30                   # seconds
//!
//! [cache]
//! mode = "read_write"             # "off" | "read_write" | "replay_only"
//! path = "data/llm-cache.jsonl"   # JSON Lines; in memory without a path
//!
//! [budget]
//! max_cost = "5.00"               # money is exact: give it as a string
//! max_tokens = 2000000
//!
//! [cycle_budget]                  # each decision cycle (the calls beyond it: rules answer)
//! max_cost = "0.05"
//!
//! [day_budget]                    # each day (UTC for the trading bots)
//! max_cost = "2.00"
//!
//! [prices]                        # per million tokens; `provider/model` or `model`
//! "gpt-4.1-mini" = { input_per_mtok = "0.40", output_per_mtok = "1.60", cached_input_per_mtok = "0.10" }
//! "claude-sonnet-4-5" = { input_per_mtok = "3", output_per_mtok = "15", cached_input_per_mtok = "0.30", cache_write_per_mtok = "3.75" }
//!
//! [[providers]]                   # the chain, primary first
//! kind = "openai"                 # openai anthropic gemini groq together openrouter ollama compatible
//! model = "gpt-4.1-mini"
//! timeout = 30
//! temperature = 0.0               # in place of the agents' 0.2
//! seed = 42                       # OpenAI, Gemini and Ollama take a seed
//! limits = { requests_per_minute = 500, max_concurrency = 8 }
//!
//! [[providers]]
//! kind = "anthropic"
//! api_key_env = "ANTHROPIC_API_KEY"   # keys stay out of files (the default variable anyway)
//!
//! [[providers]]
//! kind = "ollama"
//! base_url = "http://localhost:11434"
//! model = "qwen2.5:7b"
//! ```

mod build;
mod env;
pub use env::{env_example, env_selection, ollama_host, PROVIDERS_VAR, SELECTION_VAR};
#[cfg(feature = "config-file")]
mod file;
mod serde_secs;

pub(crate) use serde_secs::{opt_secs, secs};

use crate::budget::{PriceTable, RunBudget};
use crate::cache::CacheMode;
use crate::fallback::{BreakerPolicy, Limits};
use crate::{SchemaMode, Secret};
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The whole LLM layer's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// The chain, primary first.
    pub providers: Vec<ProviderConfig>,
    /// How providers are ordered for each call.
    pub selection: Selection,
    /// The breaker of every provider.
    pub breaker: BreakerPolicy,
    /// Repair turns per provider for structured answers.
    pub repair_turns: u32,
    /// The cache.
    pub cache: CacheConfig,
    /// The run budget.
    pub budget: RunBudget,
    /// Each decision cycle's budget (`[cycle_budget]`; the agents' engine opens the cycles).
    pub cycle_budget: RunBudget,
    /// Each day's budget (`[day_budget]`; UTC days for the trading bots).
    pub day_budget: RunBudget,
    /// Prices per million tokens.
    pub prices: PriceTable,
    /// How long a call waits for a rate-limited provider when no other answered, in seconds.
    #[serde(with = "secs")]
    pub max_queue_wait: Duration,
    /// Rate limits shared with other processes (set by the program, never read from a file):
    /// the providers' `requests_per_minute` and `tokens_per_minute` are then one quota for all
    /// of them.
    #[serde(skip)]
    pub shared_limits: Option<crate::fallback::SharedLimitsHandle>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            providers: Vec::new(),
            selection: Selection::Priority,
            breaker: BreakerPolicy::default(),
            repair_turns: 2,
            cache: CacheConfig::default(),
            budget: RunBudget::default(),
            cycle_budget: RunBudget::default(),
            day_budget: RunBudget::default(),
            prices: PriceTable::new(),
            max_queue_wait: Duration::from_secs(60),
            shared_limits: None,
        }
    }
}

/// How providers are ordered for each call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Primary first, then the backups in order.
    #[default]
    Priority,
    /// Weighted by recent success rate and latency.
    Weighted,
}

impl Selection {
    /// `priority` or `weighted` (any case, spaces around ignored).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "priority" => Some(Self::Priority),
            "weighted" => Some(Self::Weighted),
            _ => None,
        }
    }
}

/// The cache's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Off, read-write or replay-only.
    pub mode: CacheMode,
    /// A JSON Lines file; in memory without one.
    pub path: Option<PathBuf>,
}

/// A provider's defaults ([`ProviderKind::defaults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// The documented base URL (Ollama: the local server).
    pub base_url: &'static str,
    /// The model used when none is configured.
    pub model: &'static str,
}

/// The vendors this crate speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI.
    Openai,
    /// Anthropic.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Groq (OpenAI-compatible).
    Groq,
    /// Together (OpenAI-compatible).
    Together,
    /// OpenRouter (OpenAI-compatible).
    Openrouter,
    /// Ollama (native API).
    Ollama,
    /// Any other OpenAI-compatible server (needs `base_url`).
    Compatible,
}

impl ProviderKind {
    /// Every vendor with a well-known environment, in the order the chain takes them when
    /// `TRADEGRAPH_LLM_PROVIDERS` is unset.
    pub const ENV_ORDER: [ProviderKind; 7] = [
        Self::Openai,
        Self::Anthropic,
        Self::Gemini,
        Self::Groq,
        Self::Together,
        Self::Openrouter,
        Self::Ollama,
    ];

    /// The name used in configuration, errors and the chain (`openai`, `groq`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Groq => "groq",
            Self::Together => "together",
            Self::Openrouter => "openrouter",
            Self::Ollama => "ollama",
            Self::Compatible => "compatible",
        }
    }

    /// The prefix of its environment variables (`OPENAI`, `GROQ`, ...).
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Openai => "OPENAI",
            Self::Anthropic => "ANTHROPIC",
            Self::Gemini => "GEMINI",
            Self::Groq => "GROQ",
            Self::Together => "TOGETHER",
            Self::Openrouter => "OPENROUTER",
            Self::Ollama => "OLLAMA",
            Self::Compatible => "OPENAI_COMPATIBLE",
        }
    }

    /// Where the provider is and which model it runs when the configuration does not say: the
    /// one table the providers, the documentation and the `.env.*.example` files take their
    /// defaults from.
    ///
    /// ```
    /// use tradegraph_llm::config::ProviderKind;
    /// let openai = ProviderKind::Openai.defaults();
    /// assert_eq!((openai.base_url, openai.model), ("https://api.openai.com/v1", "gpt-4.1-mini"));
    /// ```
    pub const fn defaults(self) -> Defaults {
        let (base_url, model) = match self {
            Self::Openai => ("https://api.openai.com/v1", "gpt-4.1-mini"),
            Self::Anthropic => ("https://api.anthropic.com", "claude-haiku-4-5"),
            Self::Gemini => (
                "https://generativelanguage.googleapis.com",
                "gemini-2.5-flash",
            ),
            Self::Groq => ("https://api.groq.com/openai/v1", "llama-3.3-70b-versatile"),
            Self::Together => (
                "https://api.together.xyz/v1",
                "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            ),
            Self::Openrouter => ("https://openrouter.ai/api/v1", "openai/gpt-4.1-mini"),
            Self::Ollama => ("http://127.0.0.1:11434", "llama3.2"),
            Self::Compatible => ("http://localhost:8000/v1", "default"),
        };
        Defaults { base_url, model }
    }

    /// The variables its key is read from, the first one set winning: `<PREFIX>_API_KEY`, and
    /// for Gemini `GOOGLE_API_KEY` before `GEMINI_API_KEY`, as Google's own clients read them.
    /// (Ollama and compatible servers need no key; theirs is for a server behind a proxy.)
    pub fn key_vars(self) -> &'static [&'static str] {
        match self {
            Self::Openai => &["OPENAI_API_KEY"],
            Self::Anthropic => &["ANTHROPIC_API_KEY"],
            Self::Gemini => &["GOOGLE_API_KEY", "GEMINI_API_KEY"],
            Self::Groq => &["GROQ_API_KEY"],
            Self::Together => &["TOGETHER_API_KEY"],
            Self::Openrouter => &["OPENROUTER_API_KEY"],
            Self::Ollama => &["OLLAMA_API_KEY"],
            Self::Compatible => &["OPENAI_COMPATIBLE_API_KEY"],
        }
    }

    /// Whether it needs a key.
    pub fn needs_key(self) -> bool {
        !matches!(self, Self::Ollama | Self::Compatible)
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        Self::ENV_ORDER
            .into_iter()
            .chain([Self::Compatible])
            .find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One provider of the chain.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The vendor.
    pub kind: ProviderKind,
    /// A name overriding the vendor's (two accounts of one vendor).
    #[serde(default)]
    pub name: Option<String>,
    /// The key, or several separated by commas (`sk-a,sk-b`): a key the vendor refuses
    /// (401/403, Gemini's `API_KEY_INVALID`) or says is out of quota (429) hands the call to
    /// the next, each tried once per call, and later calls start from the key that last
    /// answered. Prefer `api_key_env` in files.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// The variable holding the key (default: `<PROVIDER>_API_KEY`), read by
    /// [`LlmConfig::resolve_keys`].
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The base URL (default: the vendor's documented one).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The model (default: the provider's).
    #[serde(default)]
    pub model: Option<String>,
    /// The timeout of each call, in seconds (default: 60, Ollama 120).
    #[serde(default, deserialize_with = "opt_secs_de")]
    pub timeout: Option<Duration>,
    /// How structured answers are asked for.
    #[serde(default)]
    pub schema_mode: SchemaMode,
    /// The weight under weighted selection.
    #[serde(default = "one")]
    pub weight: f64,
    /// Rate and concurrency limits.
    #[serde(default)]
    pub limits: Limits,
    /// The sampling temperature of every call, in place of the agents' own (0.2).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// The sampling seed of every call, where the API takes one (OpenAI, Gemini, Ollama; not
    /// Anthropic). Same seed, same prompt, same temperature: the vendors answer the same as
    /// far as they can (OpenAI calls it best effort).
    #[serde(default)]
    pub seed: Option<u32>,
}

impl ProviderConfig {
    /// A provider of `kind` with every default.
    pub fn new(kind: ProviderKind) -> Self {
        Self {
            kind,
            name: None,
            api_key: None,
            api_key_env: None,
            base_url: None,
            model: None,
            timeout: None,
            schema_mode: SchemaMode::Auto,
            weight: 1.0,
            limits: Limits::default(),
            temperature: None,
            seed: None,
        }
    }

    /// Its configured [`Sampling`](crate::Sampling).
    pub fn sampling(&self) -> crate::Sampling {
        crate::Sampling {
            temperature: self.temperature,
            seed: self.seed,
        }
    }

    /// Whether the entry holds a key: [`api_key`](Self::api_key) with at least one key in it
    /// (`","` holds none).
    pub fn has_key(&self) -> bool {
        self.api_key
            .as_ref()
            .is_some_and(crate::keys::KeyRing::holds_a_key)
    }

    /// The name it takes in the chain.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.kind.as_str())
    }

    /// The model it asks when a request names none: the configured one, else the vendor's
    /// default ([`ProviderKind::defaults`]).
    ///
    /// ```
    /// use tradegraph_llm::config::{ProviderConfig, ProviderKind};
    /// let mut p = ProviderConfig::new(ProviderKind::Openai);
    /// assert_eq!(p.model_asked(), "gpt-4.1-mini");
    /// p.model = Some("gpt-4.1".into());
    /// assert_eq!(p.model_asked(), "gpt-4.1");
    /// ```
    pub fn model_asked(&self) -> &str {
        self.model.as_deref().unwrap_or(self.kind.defaults().model)
    }
}

fn one() -> f64 {
    1.0
}

fn opt_secs_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Duration::try_from_secs_f64(s)
            .map(Some)
            .map_err(serde::de::Error::custom),
        Some(s) => Err(serde::de::Error::custom(format!(
            "timeout {s} is not a positive number of seconds"
        ))),
    }
}
