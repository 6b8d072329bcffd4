//! Configuration files: TOML and YAML.

use super::LlmConfig;
use crate::{LlmError, Secret};
use std::path::Path;

impl LlmConfig {
    /// Parses a TOML configuration.
    ///
    /// # Errors
    /// [`LlmError::Config`] naming the line and what is wrong.
    ///
    /// ```
    /// use tradegraph_llm::config::{LlmConfig, ProviderKind, Selection};
    ///
    /// let config = LlmConfig::from_toml(r#"
    ///     selection = "weighted"
    ///     [budget]
    ///     max_cost = "2.50"
    ///     [[providers]]
    ///     kind = "groq"
    ///     model = "openai/gpt-oss-20b"
    ///     limits = { requests_per_minute = 30 }
    /// "#)?;
    /// assert_eq!(config.selection, Selection::Weighted);
    /// assert_eq!(config.providers[0].kind, ProviderKind::Groq);
    /// assert_eq!(config.providers[0].limits.requests_per_minute, Some(30));
    /// # Ok::<(), tradegraph_llm::LlmError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, LlmError> {
        toml::from_str(text).map_err(|e| {
            // The message and the position only: the error's Display quotes the source line,
            // which may be the one holding an API key.
            let at = e.span().map_or(String::new(), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
            LlmError::Config(format!("TOML: {at}{}", scrub(e.message().trim(), text)))
        })
    }

    /// Parses a YAML configuration (the same fields).
    ///
    /// # Errors
    /// [`LlmError::Config`] naming the line and what is wrong.
    pub fn from_yaml(text: &str) -> Result<Self, LlmError> {
        serde_saphyr::from_str(text)
            .map_err(|e| LlmError::Config(format!("YAML: {}", scrub(e.to_string().trim(), text))))
    }

    /// Reads a configuration file: TOML for `.toml`, YAML for `.yaml`/`.yml`.
    ///
    /// # Errors
    /// [`LlmError::Config`] when the file cannot be read, has another extension, or is invalid
    /// (the message names the file).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, LlmError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::Config(format!("{}: {e}", path.display())))?;
        let parsed = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Self::from_toml(&text),
            Some("yaml" | "yml") => Self::from_yaml(&text),
            _ => {
                return Err(LlmError::Config(format!(
                    "{}: use a .toml, .yaml or .yml file",
                    path.display()
                )))
            }
        };
        parsed.map_err(|e| match e {
            LlmError::Config(m) => LlmError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

/// `message` without anything that could be a secret from `source`: every source line it
/// quotes, and every value of a line that mentions a key, token or secret.
fn scrub(message: &str, source: &str) -> String {
    let mut out = message.to_owned();
    for line in source.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        if ["key", "token", "secret"].iter().any(|w| lower.contains(w)) {
            if let Some((_, value)) = trimmed.split_once(['=', ':']) {
                let value = value.trim().trim_matches(['"', '\'', ',', '}', ' ']);
                // Whole tokens only for a short value: see `Secret::redact`.
                out = Secret::new(value).redact(&out);
            }
        }
        if trimmed.len() >= 4 {
            out = out.replace(trimmed, "<source line>");
        }
    }
    out
}

#[cfg(test)]
mod leak_tests {
    use super::LlmConfig;

    #[test]
    fn a_parse_error_on_the_key_line_does_not_show_the_key() {
        for text in [
            "[[providers]]\nkind = \"openai\"\napi_key = sk-canary-1234567890\n",
            "[[providers]]\nkind = \"openai\"\napikey = \"sk-canary-1234567890\"\n",
            "providers = [{ kind = \"openai\", api_key = \"sk-canary-1234567890\", bogus = 1 }]\n",
        ] {
            let err = LlmConfig::from_toml(text).unwrap_err().to_string();
            assert!(!err.contains("canary"), "{err}");
            assert!(err.contains("line"), "{err}");
        }
        let err = LlmConfig::from_yaml(
            "providers:\n  - kind: openai\n    apikey: sk-canary-1234567890\n",
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("canary"), "{err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheMode;
    use crate::config::{ProviderKind, Selection};
    use crate::{SchemaMode, Secret};
    use rust_decimal::Decimal;
    use std::time::Duration;

    const TOML: &str = r#"
selection = "weighted"
repair_turns = 1
max_queue_wait = 5

[breaker]
failure_threshold = 4
open_for = 12.5

[cache]
mode = "replay_only"
path = "data/llm.jsonl"

[budget]
max_cost = "5.00"
max_tokens = 2000000

[prices]
"gpt-4.1-mini" = { input_per_mtok = "0.40", output_per_mtok = "1.60" }

[[providers]]
kind = "openai"
model = "gpt-4.1-mini"
timeout = 30
api_key = "sk-in-file"
limits = { requests_per_minute = 500, max_concurrency = 8 }

[[providers]]
kind = "compatible"
name = "vllm"
base_url = "http://127.0.0.1:8000/v1"
schema_mode = "json_mode"
weight = 0.5
"#;

    #[test]
    fn toml_and_yaml_read_the_same_fields() {
        let t = LlmConfig::from_toml(TOML).unwrap();
        assert_eq!(t.selection, Selection::Weighted);
        assert_eq!(
            (t.repair_turns, t.max_queue_wait),
            (1, Duration::from_secs(5))
        );
        assert_eq!(
            (t.breaker.failure_threshold, t.breaker.open_for),
            (4, Duration::from_millis(12_500))
        );
        assert_eq!(t.cache.mode, CacheMode::ReplayOnly);
        assert_eq!(t.budget.max_cost, Some(Decimal::new(500, 2)));
        assert!(t.prices.lookup("openai", "gpt-4.1-mini").is_some());
        assert_eq!(t.providers[0].api_key, Some(Secret::new("sk-in-file")));
        assert_eq!(t.providers[0].timeout, Some(Duration::from_secs(30)));
        assert_eq!(t.providers[0].limits.max_concurrency, Some(8));
        assert_eq!(
            (
                t.providers[1].kind,
                t.providers[1].name(),
                t.providers[1].schema_mode
            ),
            (ProviderKind::Compatible, "vllm", SchemaMode::JsonMode)
        );
        let yaml = r#"
selection: weighted
repair_turns: 1
max_queue_wait: 5
breaker: {failure_threshold: 4, open_for: 12.5}
cache: {mode: replay_only, path: data/llm.jsonl}
budget: {max_cost: "5.00", max_tokens: 2000000}
prices:
  gpt-4.1-mini: {input_per_mtok: "0.40", output_per_mtok: "1.60"}
providers:
  - kind: openai
    model: gpt-4.1-mini
    timeout: 30
    api_key: sk-in-file
    limits: {requests_per_minute: 500, max_concurrency: 8}
  - kind: compatible
    name: vllm
    base_url: http://127.0.0.1:8000/v1
    schema_mode: json_mode
    weight: 0.5
"#;
        assert_eq!(LlmConfig::from_yaml(yaml).unwrap(), t);
    }

    #[test]
    fn mistakes_are_named() {
        let err = LlmConfig::from_toml("[[providers]]\nkind = \"gpt\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `gpt`"), "{err}");
        let err = LlmConfig::from_toml("[[providers]]\nkind = \"openai\"\napikey = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `apikey`"), "{err}");
        let err = LlmConfig::from_toml("[[providers]]\nkind = \"openai\"\nlimits = { rpm = 5 }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `rpm`"), "{err}");
        let err = LlmConfig::from_toml(
            "[[providers]]\nkind = \"openai\"\napi_key = \"sk-secret-value-123\"\ntimeout = -1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("sk-secret-value-123"), "{err}");
        assert!(LlmConfig::from_file("x.json")
            .unwrap_err()
            .to_string()
            .contains("x.json"));
    }

    #[test]
    fn scrub_of_a_short_value_mangles_unrelated_text() {
        // A short key's letters must not be cut out of the parser's words.
        let err = LlmConfig::from_toml(
            "[[providers]]\nkind = \"openai\"\napi_key = \"ring\"\ntimeout = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("invalid type: string"), "{err}");
    }
}
