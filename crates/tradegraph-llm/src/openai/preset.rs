//! What each OpenAI-compatible service accepts.

use crate::config::ProviderKind;
use crate::SchemaMode;

/// One OpenAI-compatible service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Preset {
    /// The provider's name.
    pub(crate) name: &'static str,
    /// The documented base URL.
    pub(crate) base: &'static str,
    /// The model used when none is configured.
    pub(crate) model: &'static str,
    /// `max_completion_tokens` (OpenAI, Groq) or `max_tokens` (Together, OpenRouter, others).
    pub(crate) max_tokens_field: &'static str,
    /// A cheap, authenticated GET that proves the key works.
    pub(crate) key_check_path: &'static str,
    /// Which schema form a model gets under [`SchemaMode::Auto`].
    pub(crate) auto: fn(&str) -> SchemaMode,
    /// OpenRouter: route only to upstreams that support every parameter sent.
    pub(crate) require_parameters: bool,
    /// OpenAI: `prompt_cache_key`, so that the calls of one agent (same system prompt, the
    /// stable prefix) reach the same prompt cache. Others may refuse unknown parameters.
    pub(crate) prompt_cache_key: bool,
}

/// OpenAI itself: strict `json_schema` for every current chat model.
pub(crate) const OPENAI: Preset = Preset {
    name: "openai",
    base: ProviderKind::Openai.defaults().base_url,
    model: ProviderKind::Openai.defaults().model,
    max_tokens_field: "max_completion_tokens",
    key_check_path: "models",
    auto: |_| SchemaMode::Strict,
    require_parameters: false,
    prompt_cache_key: true,
};

/// Groq: strict on the GPT-OSS models, best-effort `json_schema` on the few models documented
/// for structured outputs, JSON mode elsewhere (e.g. `llama-3.3-70b-versatile`).
pub(crate) const GROQ: Preset = Preset {
    name: "groq",
    base: ProviderKind::Groq.defaults().base_url,
    model: ProviderKind::Groq.defaults().model,
    max_tokens_field: "max_completion_tokens",
    key_check_path: "models",
    auto: |model| {
        if model.starts_with("openai/gpt-oss") {
            SchemaMode::Strict
        } else if model.starts_with("moonshotai/kimi-k2") || model.starts_with("meta-llama/llama-4")
        {
            SchemaMode::Native
        } else {
            SchemaMode::JsonMode
        }
    },
    require_parameters: false,
    prompt_cache_key: false,
};

/// Together: `json_schema` (not strict) on its JSON-mode models.
pub(crate) const TOGETHER: Preset = Preset {
    name: "together",
    base: ProviderKind::Together.defaults().base_url,
    model: ProviderKind::Together.defaults().model,
    max_tokens_field: "max_tokens",
    key_check_path: "models",
    auto: |_| SchemaMode::Native,
    require_parameters: false,
    prompt_cache_key: false,
};

/// OpenRouter: strict `json_schema` for OpenAI and Google models (with
/// `provider.require_parameters`, so no upstream ignores it), JSON mode for the rest.
pub(crate) const OPENROUTER: Preset = Preset {
    name: "openrouter",
    base: ProviderKind::Openrouter.defaults().base_url,
    model: ProviderKind::Openrouter.defaults().model,
    max_tokens_field: "max_tokens",
    key_check_path: "key",
    auto: |model| {
        if model.starts_with("openai/") || model.starts_with("google/") {
            SchemaMode::Strict
        } else {
            SchemaMode::JsonMode
        }
    },
    require_parameters: true,
    prompt_cache_key: false,
};

/// Any other OpenAI-compatible server (vLLM, LM Studio, llama.cpp server, a gateway):
/// `json_schema` without strict.
pub(crate) const COMPATIBLE: Preset = Preset {
    name: "compatible",
    base: ProviderKind::Compatible.defaults().base_url,
    model: ProviderKind::Compatible.defaults().model,
    max_tokens_field: "max_tokens",
    key_check_path: "models",
    auto: |_| SchemaMode::Native,
    require_parameters: false,
    prompt_cache_key: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_pick_what_each_model_supports() {
        assert_eq!((OPENAI.auto)("gpt-4.1-mini"), SchemaMode::Strict);
        assert_eq!((GROQ.auto)("openai/gpt-oss-20b"), SchemaMode::Strict);
        assert_eq!(
            (GROQ.auto)("meta-llama/llama-4-scout-17b-16e-instruct"),
            SchemaMode::Native
        );
        assert_eq!((GROQ.auto)("llama-3.3-70b-versatile"), SchemaMode::JsonMode);
        assert_eq!(
            (OPENROUTER.auto)("anthropic/claude-haiku-4.5"),
            SchemaMode::JsonMode
        );
        assert_eq!(
            (OPENROUTER.auto)("google/gemini-2.5-flash"),
            SchemaMode::Strict
        );
    }
}
