//! What can be wrong with a bot's configuration.

use super::Origin;
use std::path::PathBuf;

/// A configuration that cannot be used. Every message names where the problem is (the file and
/// line, the variable and the layer it came from, or the flag) and never shows a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file named by the configuration cannot be read.
    #[error("{}: cannot read it: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML file is malformed, has an unknown key or a value of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong (the key is named; values of secrets are not shown).
        message: String,
    },
    /// A line of a `.env` file is not `KEY=VALUE`.
    #[error("{}:{line}: {message}", path.display())]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong (the line itself is not shown: it may hold a key).
        message: String,
    },
    /// A setting has a value that cannot work.
    #[error("{key} (from {origin}): {message}")]
    Invalid {
        /// The setting: a variable (`TRADEGRAPH_FEED`), a flag (`--listen`) or a file key
        /// (`bot.cash`).
        key: String,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong and what to do.
        message: String,
    },
    /// A custom instrument of the file cannot work.
    #[error("{}:{line}: instrument `{name}`, {field}: {message}", path.display())]
    Instrument {
        /// The file.
        path: PathBuf,
        /// The line of its `[[instruments]]` entry.
        line: usize,
        /// Its name.
        name: String,
        /// The field (`tick_size`, `session.open`, ...).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The instrument asked for is neither built in nor declared in the file.
    #[error("instrument `{name}` (from {origin}) is unknown: use {known}, or declare it in the configuration file's [[instruments]]")]
    UnknownInstrument {
        /// What was asked for.
        name: String,
        /// Where it was asked for.
        origin: Origin,
        /// The names that exist.
        known: String,
    },
    /// The LLM part of the configuration is invalid.
    #[error("LLM configuration: {0}")]
    Llm(#[from] tradegraph_llm::LlmError),
}

impl ConfigError {
    /// Whether the problem is a file that could not be read (rather than invalid content): the
    /// command line exits with 2 for these and 1 for the others.
    pub fn is_unreadable(&self) -> bool {
        matches!(self, Self::Read { .. })
    }
}
