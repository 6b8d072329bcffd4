//! The environment convention of DESIGN.md: `<PROVIDER>_API_KEY`, `<PROVIDER>_BASE_URL`,
//! `<PROVIDER>_MODEL`, `OLLAMA_BASE_URL`/`OLLAMA_MODEL`, and `TRADEGRAPH_LLM_PROVIDERS`.

use super::{LlmConfig, ProviderConfig, ProviderKind};
use crate::{LlmError, Secret};

/// The variable that orders the chain.
pub const PROVIDERS_VAR: &str = "TRADEGRAPH_LLM_PROVIDERS";

impl LlmConfig {
    /// The configuration the environment describes, read through `var` (pass
    /// `|k| std::env::var(k).ok()` in an application; a map in tests).
    ///
    /// `TRADEGRAPH_LLM_PROVIDERS=openai,anthropic,...` orders the chain, primary first (a
    /// listed provider without a key is kept, so the mistake shows when the chain is built).
    /// Unset, every provider with a key joins in the order openai, anthropic, gemini, groq,
    /// together, openrouter, then ollama if `OLLAMA_BASE_URL` or `OLLAMA_MODEL` is set.
    ///
    /// # Errors
    /// [`LlmError::Config`] for an unknown name in `TRADEGRAPH_LLM_PROVIDERS`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tradegraph_llm::config::LlmConfig;
    ///
    /// let env = HashMap::from([
    ///     ("ANTHROPIC_API_KEY", "sk-ant-x"),
    ///     ("OPENAI_API_KEY", "sk-x"),
    ///     ("OPENAI_MODEL", "gpt-4.1"),
    ///     ("OLLAMA_BASE_URL", "http://gpu-box:11434"),
    /// ]);
    /// let config = LlmConfig::from_env(|k| env.get(k).map(|v| v.to_string()))?;
    /// let chain: Vec<_> = config.providers.iter().map(|p| p.name()).collect();
    /// assert_eq!(chain, ["openai", "anthropic", "ollama"]);
    /// assert_eq!(config.providers[0].model.as_deref(), Some("gpt-4.1"));
    ///
    /// let env = HashMap::from([("TRADEGRAPH_LLM_PROVIDERS", "ollama, openai"), ("OPENAI_API_KEY", "sk-x")]);
    /// let config = LlmConfig::from_env(|k| env.get(k).map(|v| v.to_string()))?;
    /// assert_eq!(config.providers.iter().map(|p| p.name()).collect::<Vec<_>>(), ["ollama", "openai"]);
    /// # Ok::<(), tradegraph_llm::LlmError>(())
    /// ```
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, LlmError> {
        let get = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let kinds: Vec<ProviderKind> = match get(PROVIDERS_VAR) {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|name| {
                    ProviderKind::parse(name).ok_or_else(|| {
                        LlmError::Config(format!(
                            "{PROVIDERS_VAR}: unknown provider `{name}`; known: openai, anthropic, gemini, groq, together, openrouter, ollama"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => ProviderKind::ENV_ORDER
                .into_iter()
                .filter(|k| match k {
                    ProviderKind::Ollama => get("OLLAMA_BASE_URL").is_some() || get("OLLAMA_MODEL").is_some(),
                    k => get(&format!("{}_API_KEY", k.env_prefix())).is_some(),
                })
                .collect(),
        };
        let providers = kinds
            .into_iter()
            .map(|kind| {
                let prefix = kind.env_prefix();
                let mut p = ProviderConfig::new(kind);
                p.api_key = get(&format!("{prefix}_API_KEY")).map(Secret::new);
                p.base_url = get(&format!("{prefix}_BASE_URL"));
                p.model = get(&format!("{prefix}_MODEL"));
                p
            })
            .collect();
        Ok(Self {
            providers,
            ..Self::default()
        })
    }

    /// Fills in the keys a file left out, from `api_key_env` or `<PROVIDER>_API_KEY`, read
    /// through `var`.
    pub fn resolve_keys(&mut self, var: impl Fn(&str) -> Option<String>) {
        for p in &mut self.providers {
            if p.api_key.as_ref().is_some_and(|k| !k.is_empty()) {
                continue;
            }
            let name = p
                .api_key_env
                .clone()
                .unwrap_or_else(|| format!("{}_API_KEY", p.kind.env_prefix()));
            p.api_key = var(&name).map(Secret::new).filter(|k| !k.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn every_vendor_reads_its_variables() {
        let config = LlmConfig::from_env(env(&[
            ("GEMINI_API_KEY", "g"),
            ("GROQ_API_KEY", "q"),
            ("GROQ_BASE_URL", "http://proxy/openai/v1"),
            ("TOGETHER_API_KEY", "t"),
            ("OPENROUTER_API_KEY", "o"),
            ("OPENROUTER_MODEL", "google/gemini-2.5-flash"),
            ("OLLAMA_MODEL", "qwen2.5"),
            ("ANTHROPIC_API_KEY", ""),
        ]))
        .unwrap();
        let names: Vec<_> = config.providers.iter().map(ProviderConfig::name).collect();
        assert_eq!(
            names,
            ["gemini", "groq", "together", "openrouter", "ollama"]
        );
        assert_eq!(
            config.providers[1].base_url.as_deref(),
            Some("http://proxy/openai/v1")
        );
        assert_eq!(config.providers[1].api_key, Some(Secret::new("q")));
        assert!(LlmConfig::from_env(env(&[(PROVIDERS_VAR, "openai,gpt5")]))
            .unwrap_err()
            .to_string()
            .contains("unknown provider `gpt5`"));
        assert!(LlmConfig::from_env(env(&[])).unwrap().providers.is_empty());
    }

    #[test]
    fn file_keys_come_from_the_named_variable() {
        let mut config = LlmConfig {
            providers: vec![
                ProviderConfig::new(ProviderKind::Openai),
                ProviderConfig::new(ProviderKind::Anthropic),
            ],
            ..LlmConfig::default()
        };
        config.providers[1].api_key_env = Some("CLAUDE_KEY".into());
        config.resolve_keys(env(&[
            ("OPENAI_API_KEY", "a"),
            ("CLAUDE_KEY", "b"),
            ("ANTHROPIC_API_KEY", "wrong"),
        ]));
        assert_eq!(config.providers[0].api_key, Some(Secret::new("a")));
        assert_eq!(config.providers[1].api_key, Some(Secret::new("b")));
    }
}
