//! The environment convention of DESIGN.md: `<PROVIDER>_API_KEY`, `<PROVIDER>_BASE_URL`,
//! `<PROVIDER>_MODEL`, `OLLAMA_BASE_URL`/`OLLAMA_MODEL`, and `TRADEGRAPH_LLM_PROVIDERS`; also
//! what the vendors' own clients read: `GOOGLE_API_KEY` for Gemini and `OLLAMA_HOST`.

use super::{LlmConfig, ProviderConfig, ProviderKind, Selection};
use crate::{LlmError, Secret};

/// The variable that orders the chain.
pub const PROVIDERS_VAR: &str = "TRADEGRAPH_LLM_PROVIDERS";

/// The variable that picks how the chain chooses a provider: `priority` (primary first, the
/// default) or `weighted` (by recent success and latency).
pub const SELECTION_VAR: &str = "TRADEGRAPH_LLM_SELECTION";

/// [`SELECTION_VAR`]'s value, read through `get` (`None` when unset).
///
/// # Errors
/// [`LlmError::Config`], naming the variable, for a value other than `priority` or `weighted`.
pub fn env_selection(get: impl Fn(&str) -> Option<String>) -> Result<Option<Selection>, LlmError> {
    get(SELECTION_VAR)
        .map(|v| {
            Selection::parse(&v).ok_or_else(|| {
                LlmError::Config(format!(
                    "{SELECTION_VAR}: `{}` is not `priority` or `weighted`",
                    v.trim()
                ))
            })
        })
        .transpose()
}

impl LlmConfig {
    /// The configuration the environment describes, read through `var` (pass
    /// `|k| std::env::var(k).ok()` in an application; a map in tests).
    ///
    /// `TRADEGRAPH_LLM_PROVIDERS=openai,anthropic,...` orders the chain, primary first (a
    /// listed provider without a key is kept, so the mistake shows when the chain is built).
    /// Unset, every provider with a key joins in the order openai, anthropic, gemini, groq,
    /// together, openrouter, then ollama if `OLLAMA_BASE_URL`, `OLLAMA_HOST` or `OLLAMA_MODEL`
    /// is set.
    ///
    /// Gemini's key is `GOOGLE_API_KEY` or `GEMINI_API_KEY`, the first winning when both are
    /// set, as in Google's own clients. Ollama's server is `OLLAMA_BASE_URL`, else
    /// `OLLAMA_HOST` read as Ollama's own clients read it ([`ollama_host`]).
    ///
    /// `TRADEGRAPH_LLM_SELECTION=weighted` weighs the providers by recent success and latency
    /// instead of trying the primary first.
    ///
    /// # Errors
    /// [`LlmError::Config`] for an unknown name in `TRADEGRAPH_LLM_PROVIDERS`, a
    /// `TRADEGRAPH_LLM_SELECTION` other than `priority` or `weighted`, or an `OLLAMA_HOST`
    /// whose port is not a port.
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
                    ProviderKind::Ollama => ["OLLAMA_BASE_URL", "OLLAMA_HOST", "OLLAMA_MODEL"]
                        .into_iter()
                        .any(|v| get(v).is_some()),
                    k => k.key_vars().iter().any(|v| get(v).is_some()),
                })
                .collect(),
        };
        let providers = kinds
            .into_iter()
            .map(|kind| {
                let prefix = kind.env_prefix();
                let mut p = ProviderConfig::new(kind);
                p.api_key = kind.key_vars().iter().find_map(|v| get(v)).map(Secret::new);
                p.base_url = match get(&format!("{prefix}_BASE_URL")) {
                    None if kind == ProviderKind::Ollama => {
                        get("OLLAMA_HOST").map(|h| ollama_host(&h)).transpose()?
                    }
                    url => url,
                };
                p.model = get(&format!("{prefix}_MODEL"));
                Ok(p)
            })
            .collect::<Result<_, LlmError>>()?;
        Ok(Self {
            providers,
            selection: env_selection(get)?.unwrap_or_default(),
            ..Self::default()
        })
    }

    /// Fills in the keys a file left out, from `api_key_env` or the provider's
    /// [`key_vars`](ProviderKind::key_vars), read through `var`.
    pub fn resolve_keys(&mut self, var: impl Fn(&str) -> Option<String>) {
        for p in &mut self.providers {
            if p.has_key() {
                continue;
            }
            let key = |name: &str| {
                var(name)
                    .map(Secret::new)
                    .filter(crate::keys::KeyRing::holds_a_key)
            };
            p.api_key = match &p.api_key_env {
                Some(name) => key(name),
                None => p.kind.key_vars().iter().find_map(|name| key(name)),
            };
        }
    }
}

/// The LLM section of the `.env.*.example` files: every provider's variables with the
/// defaults of [`ProviderKind::defaults`], in the order the chain takes them.
///
/// ```
/// let text = tradegraph_llm::config::env_example();
/// assert!(text.contains("# OPENAI_MODEL=gpt-4.1-mini\n"));
/// assert!(text.contains("# OLLAMA_HOST=127.0.0.1:11434"));
/// ```
pub fn env_example() -> String {
    let order: Vec<&str> = ProviderKind::ENV_ORDER.iter().map(|k| k.as_str()).collect();
    let mut out = String::from(
        "# --- LLM providers (any subset; the chain is the order of TRADEGRAPH_LLM_PROVIDERS, primary first;\n\
         # unset, every provider with a key joins in this order) ---\n",
    );
    out += &format!("# {PROVIDERS_VAR}={}\n", order.join(","));
    out += &format!("# {SELECTION_VAR}=priority    # or weighted: by recent success and latency\n");
    out += "# Each *_API_KEY takes several keys separated by commas: a key refused (401/403) or out of\n\
            # quota (429) hands the call to the next.\n";
    for kind in ProviderKind::ENV_ORDER {
        let prefix = kind.env_prefix();
        let defaults = kind.defaults();
        if kind == ProviderKind::Ollama {
            out += &format!(
                "# OLLAMA_HOST={}    # as Ollama's own clients read it; OLLAMA_BASE_URL wins\n",
                defaults.base_url.trim_start_matches("http://")
            );
        } else {
            let keys = kind.key_vars();
            out += &format!("{prefix}_API_KEY=\n");
            for other in keys.iter().filter(|k| **k != format!("{prefix}_API_KEY")) {
                out += &format!(
                    "# {other}=    # read first when set, as the vendor's own clients do\n"
                );
            }
            out += &format!("# {prefix}_BASE_URL={}\n", defaults.base_url);
        }
        out += &format!("# {prefix}_MODEL={}\n", defaults.model);
    }
    out
}

/// The base URL of an `OLLAMA_HOST` value, in the shapes Ollama's own clients accept:
/// `[scheme://]host[:port][/path]`, quotes around it ignored, the scheme `http` unless given,
/// the host `127.0.0.1` when empty, the port 11434 unless given (80 or 443 when the scheme is
/// written out, as Ollama reads it), a bare IPv6 address bracketed. Where Ollama falls back to
/// its default on a port it cannot read, this refuses the value, saying so. Errors never
/// repeat the value (it may hold a proxy's password); an address with credentials is refused.
///
/// ```
/// use tradegraph_llm::config::ollama_host;
/// assert_eq!(ollama_host("gpu-box")?, "http://gpu-box:11434");
/// assert_eq!(ollama_host("0.0.0.0:8080")?, "http://0.0.0.0:8080");
/// assert_eq!(ollama_host(":11500")?, "http://127.0.0.1:11500");
/// assert_eq!(ollama_host("https://ollama.example.com")?, "https://ollama.example.com:443");
/// assert_eq!(ollama_host("[::1]:11434/ollama")?, "http://[::1]:11434/ollama");
/// assert!(ollama_host("gpu-box:port").unwrap_err().to_string().contains("OLLAMA_HOST: the port"));
/// let secret = ollama_host("http://me:s3cret@gpu-box").unwrap_err().to_string();
/// assert!(!secret.contains("s3cret"));
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
///
/// # Errors
/// [`LlmError::Config`], naming `OLLAMA_HOST` and what is wrong (never the value): a scheme
/// other than `http` and `https`, credentials, a host that is not a name or an address, a
/// port that is not a number from 0 to 65535.
pub fn ollama_host(value: &str) -> Result<String, LlmError> {
    // Whitespace, then quotes, then whitespace the quotes held in (`"/ '"` is `/`).
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let bad = |what: &str| LlmError::Config(format!("OLLAMA_HOST: {what}"));
    let (scheme, rest, default_port) = match value.split_once("://") {
        None => ("http", value, "11434"),
        Some(("http", rest)) => ("http", rest, "80"),
        Some(("https", rest)) => ("https", rest, "443"),
        Some(_) => return Err(bad("the scheme is not http or https")),
    };
    let (hostport, path) = match rest.split_once('/') {
        Some((hostport, path)) => (hostport, Some(path)),
        None => (rest, None),
    };
    if hostport.contains('@') {
        return Err(bad(
            "an address with credentials is not read (a key goes in OLLAMA_API_KEY)",
        ));
    }
    // `[v6]:port`, `[v6]`, `host:port`, `host`, `:port`, or nothing.
    let v6 = |text: &str| {
        text.parse::<std::net::Ipv6Addr>()
            .map(|_| format!("[{text}]"))
            .map_err(|_| bad("the host is not an IPv6 address"))
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let Some((address, tail)) = inner.split_once(']') else {
            return Err(bad("an IPv6 address without its closing `]`"));
        };
        match tail {
            "" => (v6(address)?, None),
            _ => match tail.strip_prefix(':') {
                Some(port) => (v6(address)?, Some(port)),
                None => return Err(bad("text after the IPv6 address that is not `:port`")),
            },
        }
    } else if hostport.matches(':').count() > 1 {
        // A bare IPv6 address: no port can be told apart from it.
        (v6(hostport)?, None)
    } else {
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        };
        let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if !host.chars().all(name) {
            return Err(bad("the host is not a host name or an address"));
        }
        (host.to_owned(), port)
    };
    let host = if host.is_empty() {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => default_port,
        Some(port) => {
            if !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
                return Err(bad("the port is not a number from 0 to 65535"));
            }
            port
        }
    };
    Ok(match path.filter(|p| !p.is_empty()) {
        Some(path) => format!("{scheme}://{host}:{port}/{path}"),
        None => format!("{scheme}://{host}:{port}"),
    })
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

    /// What Ollama's own clients read: `OLLAMA_HOST` alone brings Ollama into the chain at the
    /// server it names (the CLI tells users to set it); `OLLAMA_BASE_URL` wins when both are set.
    #[test]
    fn ollama_host_is_read_as_ollamas_clients_read_it() {
        let config = LlmConfig::from_env(env(&[("OLLAMA_HOST", "gpu-box")])).unwrap();
        let names: Vec<_> = config.providers.iter().map(ProviderConfig::name).collect();
        assert_eq!(names, ["ollama"]);
        assert_eq!(
            config.providers[0].base_url.as_deref(),
            Some("http://gpu-box:11434")
        );
        let config = LlmConfig::from_env(env(&[
            ("OLLAMA_HOST", "gpu-box"),
            ("OLLAMA_BASE_URL", "http://proxy:8080"),
        ]))
        .unwrap();
        assert_eq!(
            config.providers[0].base_url.as_deref(),
            Some("http://proxy:8080")
        );
        let err = LlmConfig::from_env(env(&[("OLLAMA_HOST", "gpu-box:ollama")])).unwrap_err();
        assert!(err.to_string().contains("OLLAMA_HOST: the port"), "{err}");
    }

    /// Gemini's key from `GOOGLE_API_KEY` or `GEMINI_API_KEY`, Google's first when both are set,
    /// in the environment and for a provider of the file; other vendors keep their one name.
    #[test]
    fn gemini_takes_googles_key_names() {
        let config = LlmConfig::from_env(env(&[("GOOGLE_API_KEY", "g1")])).unwrap();
        assert_eq!(config.providers[0].name(), "gemini");
        assert_eq!(config.providers[0].api_key, Some(Secret::new("g1")));
        let both = [("GOOGLE_API_KEY", "g1"), ("GEMINI_API_KEY", "g2")];
        let config = LlmConfig::from_env(env(&both)).unwrap();
        assert_eq!(config.providers[0].api_key, Some(Secret::new("g1")));
        let mut file = LlmConfig {
            providers: vec![
                ProviderConfig::new(ProviderKind::Gemini),
                ProviderConfig::new(ProviderKind::Compatible),
            ],
            ..LlmConfig::default()
        };
        file.resolve_keys(env(&[
            ("GEMINI_API_KEY", "g2"),
            ("OPENAI_COMPATIBLE_API_KEY", "c"),
        ]));
        assert_eq!(file.providers[0].api_key, Some(Secret::new("g2")));
        assert_eq!(file.providers[1].api_key, Some(Secret::new("c")));
    }

    #[test]
    fn the_selection_comes_from_the_environment() {
        let config = LlmConfig::from_env(env(&[(SELECTION_VAR, " Weighted ")])).unwrap();
        assert_eq!(config.selection, Selection::Weighted);
        let config = LlmConfig::from_env(env(&[])).unwrap();
        assert_eq!(config.selection, Selection::Priority);
        let err = LlmConfig::from_env(env(&[(SELECTION_VAR, "fastest")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("TRADEGRAPH_LLM_SELECTION: `fastest`"),
            "{err}"
        );
    }
}
