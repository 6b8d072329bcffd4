//! `tradegraph providers check`.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_llm::config::{LlmConfig, PROVIDERS_VAR};
use tradegraph_llm::health::{self, CheckResult};
use tradegraph_llm::{LlmError, Provider};

#[derive(Debug, Subcommand)]
pub(super) enum ProvidersCommand {
    /// Send a tiny structured request to every configured provider and print a table:
    /// provider, model, ok or the error in words (bad key, rate limited, unreachable, schema
    /// not supported, ...), latency, and the error message.
    ///
    /// Providers come from --config (an LLM configuration, TOML or YAML; keys from each
    /// provider's `api_key_env`, else `<PROVIDER>_API_KEY`), or else as the bot resolves its
    /// chain (`tradegraph run --instrument NAME`): the environment, `.env.<name>`, `.env` and
    /// the configuration file's `[llm]`, with OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY,
    /// GROQ_API_KEY, TOGETHER_API_KEY, OPENROUTER_API_KEY (each with <PROVIDER>_BASE_URL and
    /// <PROVIDER>_MODEL), OLLAMA_BASE_URL / OLLAMA_MODEL, and TRADEGRAPH_LLM_PROVIDERS to order
    /// the chain. Exit code 1 when the primary (the first provider) fails, 2 when nothing is
    /// configured or the configuration is invalid.
    Check {
        /// An LLM configuration file (TOML or YAML), instead of the bot's settings.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The bot whose chain is checked (its `.env.<name>`) [env: TRADEGRAPH_INSTRUMENT].
        #[arg(long, value_name = "NAME", conflicts_with = "config")]
        instrument: Option<String>,
        /// Only check that each key is accepted (lists the models; spends no tokens).
        #[arg(long)]
        keys_only: bool,
        /// Seconds each provider may take (unless its configuration sets a timeout).
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        timeout: u64,
    },
}

pub(super) fn run(command: ProvidersCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        ProvidersCommand::Check {
            config,
            instrument,
            keys_only,
            timeout,
        } => check(config, instrument, keys_only, timeout, out, err),
    }
}

/// A provider that could not be built: its name, its model and why.
type Misconfigured = (String, String, LlmError);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn check(
    config: Option<PathBuf>,
    instrument: Option<String>,
    keys_only: bool,
    timeout: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let loaded = match &config {
        Some(path) => LlmConfig::from_file(path).map(|mut c| {
            c.resolve_keys(env);
            c
        }),
        None => {
            // The bot's chain, as `run` resolves it (a synthetic feed: no data file needed).
            let flags = crate::config::Flags {
                instrument,
                feed: Some(crate::config::FeedKind::Synthetic),
                ..crate::config::Flags::default()
            };
            match super::bot::settings("providers check", &flags, super::bot::LiveUse::None, err) {
                Ok(settings) => Ok(settings.llm),
                // 1 is this command's "the primary failed": settings it cannot use are 2.
                Err(_) => return EXIT_USAGE,
            }
        }
    };
    let mut config_value = match loaded {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            return EXIT_USAGE;
        }
    };
    if config_value.providers.is_empty() {
        let _ = writeln!(
            err,
            "tradegraph: no LLM provider is configured. Set a key (OPENAI_API_KEY, ANTHROPIC_API_KEY, \
             GEMINI_API_KEY or GOOGLE_API_KEY, GROQ_API_KEY, TOGETHER_API_KEY or OPENROUTER_API_KEY), or \
             OLLAMA_HOST (or OLLAMA_BASE_URL) for a local Ollama; order them with {PROVIDERS_VAR}=openai,anthropic,...; \
             or pass --config FILE."
        );
        return EXIT_USAGE;
    }
    let timeout = Duration::from_secs(timeout.max(1));
    // Each provider on its own, so one misconfigured provider is a row, not a failure of all.
    let providers: Vec<Result<Arc<dyn Provider>, Misconfigured>> = config_value
        .providers
        .iter_mut()
        .map(|p| {
            p.timeout = p.timeout.or(Some(timeout));
            let model = p.model_asked().to_owned();
            p.provider().map_err(|e| (p.name().to_owned(), model, e))
        })
        .collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let results: Vec<CheckResult> = runtime.block_on(futures::future::join_all(
        providers.into_iter().map(|p| async move {
            match p {
                Ok(provider) if keys_only => health::check_key(provider.as_ref()).await,
                Ok(provider) => health::probe(provider.as_ref()).await,
                Err((provider, model, error)) => CheckResult {
                    provider,
                    model,
                    latency: Duration::ZERO,
                    error: Some(error),
                },
            }
        }),
    ));
    let _ = write!(out, "{}", table(&results));
    if results.first().is_some_and(CheckResult::ok) {
        EXIT_OK
    } else {
        let _ = writeln!(err, "tradegraph: the primary provider failed");
        EXIT_INVALID
    }
}

/// The results as an aligned table.
fn table(results: &[CheckResult]) -> String {
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            let status = match &r.error {
                Some(LlmError::Config(_)) => "configuration".to_owned(),
                _ => r.status().to_owned(),
            };
            [
                r.provider.clone(),
                if r.model.is_empty() {
                    "-".to_owned()
                } else {
                    r.model.clone()
                },
                status,
                if r.latency.is_zero() {
                    "-".to_owned()
                } else {
                    format!("{} ms", r.latency.as_millis())
                },
                r.error
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string),
            ]
        })
        .collect();
    let header = ["PROVIDER", "MODEL", "STATUS", "LATENCY", "ERROR"].map(str::to_owned);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i < 4 {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
