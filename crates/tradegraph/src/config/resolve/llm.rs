//! The LLM chain: the file's `[llm]` table (the format of `tradegraph_llm::config`), with the
//! environment's keys, models and base URLs over it.

use super::Resolver;
use crate::config::{ConfigError, Origin};
use tradegraph_llm::config::{
    env_selection, ollama_host, LlmConfig, ProviderConfig, ProviderKind, PROVIDERS_VAR,
    SELECTION_VAR,
};

/// The keys of `[llm]` other than the chain and the budget.
const SETTINGS: [&str; 6] = [
    "selection",
    "repair_turns",
    "breaker",
    "cache",
    "prices",
    "max_queue_wait",
];

/// The chain comes from `TRADEGRAPH_LLM_PROVIDERS` (any layer) when it is set, else from the
/// file's `[[llm.providers]]` when there are any, else from the providers whose keys the
/// environment's layers hold. A file's provider takes its key from `api_key_env` (or its
/// `ProviderKind::key_vars`: `<PROVIDER>_API_KEY`, and `GOOGLE_API_KEY` for Gemini) unless the
/// file holds it, and `<PROVIDER>_MODEL` and `<PROVIDER>_BASE_URL` (for Ollama, else
/// `OLLAMA_HOST`) override the file's model and base URL (providers without a custom `name`
/// only).
pub(super) fn llm(r: &mut Resolver<'_>) -> Result<LlmConfig, ConfigError> {
    let file = r.file.and_then(|f| f.doc.llm.clone());
    let file_keys = r.file.map(|f| f.llm_keys.clone()).unwrap_or_default();
    for key in SETTINGS
        .into_iter()
        .chain(["budget", "cycle_budget", "day_budget"])
    {
        let origin = if file_keys.iter().any(|k| k == key) {
            Origin::File
        } else {
            Origin::Default
        };
        r.origins.set(format!("llm.{key}"), origin);
    }
    let from_file = file.as_ref().is_some_and(|f| !f.providers.is_empty());
    let mut config = file.unwrap_or_default();
    let chain = r.layers.get(PROVIDERS_VAR);
    let lookup = |k: &str| layered(r, k);
    let chain_origin = if chain.is_some() || !from_file {
        config.providers = LlmConfig::from_env(lookup)?.providers;
        match chain {
            Some((_, origin)) => origin,
            None => config
                .providers
                .first()
                .and_then(|p| env_origin(r, p))
                .unwrap_or(Origin::Default),
        }
    } else {
        let in_file: Vec<bool> = config
            .providers
            .iter()
            .map(ProviderConfig::has_key)
            .collect();
        config.resolve_keys(lookup);
        for (p, in_file) in config.providers.iter_mut().zip(in_file) {
            let prefix = p.kind.env_prefix();
            let id = format!("llm.providers.{}", p.name());
            if in_file {
                r.origins.set(format!("{id}.api_key"), Origin::File);
            }
            if p.name.is_none() {
                for (field, value) in [("model", &mut p.model), ("base_url", &mut p.base_url)] {
                    let var = format!("{prefix}_{}", field.to_ascii_uppercase());
                    if let Some((v, origin)) = r.layers.get(&var) {
                        *value = Some(v);
                        r.origins.set(format!("{id}.{field}"), origin);
                    }
                }
                // `OLLAMA_HOST` (often set for the server itself) only where the file and
                // `OLLAMA_BASE_URL` give no URL.
                if p.kind == ProviderKind::Ollama && p.base_url.is_none() {
                    if let Some((host, origin)) = r.layers.get("OLLAMA_HOST") {
                        p.base_url = Some(ollama_host(&host)?);
                        r.origins.set(format!("{id}.base_url"), origin);
                    }
                }
            }
        }
        Origin::File
    };
    r.origins.set("llm.providers", chain_origin.clone());
    if let Some((_, origin)) = r.layers.get(SELECTION_VAR) {
        if let Some(selection) = env_selection(|k| r.layers.var(k))? {
            config.selection = selection;
            r.origins.set("llm.selection", origin);
        }
    }
    for p in &config.providers {
        let id = format!("llm.providers.{}", p.name());
        let prefix = p.kind.env_prefix();
        let key_var = p
            .api_key_env
            .clone()
            .or_else(|| {
                // The name whose value the key came from (the higher layer's, as `layered`).
                let used = p.kind.key_vars().iter().find(|v| layered(r, v).is_some());
                used.map(|v| (*v).to_owned())
            })
            .unwrap_or_else(|| format!("{prefix}_API_KEY"));
        let base_var = match p.kind {
            ProviderKind::Ollama if layered(r, "OLLAMA_BASE_URL").is_none() => {
                "OLLAMA_HOST".to_owned()
            }
            _ => format!("{prefix}_BASE_URL"),
        };
        let fields = [
            ("api_key", key_var, p.api_key.is_some()),
            ("model", format!("{prefix}_MODEL"), p.model.is_some()),
            ("base_url", base_var, p.base_url.is_some()),
        ];
        for (field, var, set) in fields {
            let key = format!("{id}.{field}");
            if r.origins.get(&key).is_some() {
                continue;
            }
            let origin = match r.layers.seen(&var) {
                Some(origin) if set => origin,
                _ if set && chain_origin == Origin::File => Origin::File,
                _ => Origin::Default,
            };
            r.origins.set(key, origin);
        }
    }
    Ok(config)
}

/// The layer that made an environment-configured provider join the chain.
fn env_origin(r: &Resolver<'_>, p: &ProviderConfig) -> Option<Origin> {
    let prefix = p.kind.env_prefix();
    let host = (p.kind == ProviderKind::Ollama).then_some("OLLAMA_HOST");
    p.kind
        .key_vars()
        .iter()
        .map(|v| (*v).to_owned())
        .chain(["BASE_URL", "MODEL"].map(|suffix| format!("{prefix}_{suffix}")))
        .chain(host.map(str::to_owned))
        .find_map(|var| r.layers.seen(&var))
}

/// Variables that stand for one setting, the first preferred within a layer.
const ALIASES: [&[&str]; 2] = [
    &["GOOGLE_API_KEY", "GEMINI_API_KEY"],
    &["OLLAMA_BASE_URL", "OLLAMA_HOST"],
];

/// `key` from the layers, unless another name of the same setting is set in a higher layer
/// (the process environment over `.env.<instrument>` over `.env`): a `GEMINI_API_KEY` exported
/// in the shell wins over a `GOOGLE_API_KEY` in `.env`.
fn layered(r: &Resolver<'_>, key: &str) -> Option<String> {
    if let Some(names) = ALIASES.iter().find(|names| names.contains(&key)) {
        let best = names
            .iter()
            .filter_map(|name| r.layers.get(name).map(|(_, origin)| (rank(&origin), *name)))
            .min_by_key(|(rank, _)| *rank);
        if best.is_some_and(|(_, name)| name != key) {
            return None;
        }
    }
    r.layers.var(key)
}

/// A layer's precedence: lower wins.
fn rank(origin: &Origin) -> u8 {
    match origin {
        Origin::Flag => 0,
        Origin::Env => 1,
        Origin::InstrumentEnvFile(_) => 2,
        Origin::EnvFile => 3,
        Origin::File => 4,
        Origin::Default => 5,
    }
}
