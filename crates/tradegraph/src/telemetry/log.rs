//! Logging: one `tracing` subscriber on stderr, for the binary and the examples.

use crate::config::{LogArgs, LogFormat};
use std::io::IsTerminal;
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Set once the first [`install`] has run.
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the global `tracing` subscriber, writing to stderr as text or JSON lines
/// (`--log-format`), with the alerts' count of error-level lines
/// ([`ErrorCounter`](super::ErrorCounter)). `RUST_LOG`, when set, chooses what is logged; otherwise [`directives`]
/// of `-v`/`-q` do: by default `info` from tradegraph's crates and `warn` from the others, so
/// every warning the crates emit is shown.
///
/// Only the first call does anything (later ones, in tests for example, are no-ops); it
/// returns whether this process's subscriber is ours (false when another one was installed
/// first).
///
/// ```
/// use tradegraph::config::LogArgs;
/// let args = LogArgs::default();
/// let first = tradegraph::telemetry::log::install(&args);
/// assert_eq!(tradegraph::telemetry::log::install(&args), first);
/// ```
pub fn install(args: &LogArgs) -> bool {
    *INSTALLED.get_or_init(|| {
        let rust_log = std::env::var("RUST_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty());
        let default = directives(args);
        let (filter, rejected) = match rust_log.as_deref().map(EnvFilter::try_new) {
            Some(Ok(filter)) => (filter, None),
            Some(Err(e)) => (EnvFilter::new(default), Some(e.to_string())),
            None => (EnvFilter::new(default), None),
        };
        // ERROR-level lines are counted for the `error_rate` alert (super::ErrorCounter).
        let registry = tracing_subscriber::registry()
            .with(filter)
            .with(super::ErrorCounter);
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let installed = match args.log_format {
            LogFormat::Text => registry
                .with(fmt.with_ansi(std::io::stderr().is_terminal()))
                .try_init()
                .is_ok(),
            LogFormat::Json => registry
                .with(fmt.json().with_ansi(false))
                .try_init()
                .is_ok(),
        };
        if let Some(reason) = rejected {
            tracing::warn!(%reason, fallback = default, "RUST_LOG is not a valid filter; using -v/-q");
        }
        installed
    })
}

/// The filter `-v`/`-q` choose when `RUST_LOG` is unset: `-q` errors only; none `info` from
/// tradegraph's crates (`tradegraph` is a prefix of each crate's target) and `warn` from the
/// others; `-v` debug; `-vv` trace (and `info` from the others); `-vvv` everything.
///
/// ```
/// use tradegraph::config::LogArgs;
/// use tradegraph::telemetry::log::directives;
/// assert_eq!(directives(&LogArgs::default()), "warn,tradegraph=info");
/// assert_eq!(directives(&LogArgs { verbose: 1, ..LogArgs::default() }), "warn,tradegraph=debug");
/// assert_eq!(directives(&LogArgs { quiet: true, ..LogArgs::default() }), "error");
/// ```
pub fn directives(args: &LogArgs) -> &'static str {
    match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "warn,tradegraph=info",
        (false, 1) => "warn,tradegraph=debug",
        (false, 2) => "info,tradegraph=trace",
        (false, _) => "trace",
    }
}
