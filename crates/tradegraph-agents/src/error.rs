//! Errors of the agents.

/// What went wrong in an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A prompt template does not parse or render.
    #[error("prompt `{agent}`: {source}")]
    Prompt {
        /// Which agent's template.
        agent: String,
        /// Why.
        source: minijinja::Error,
    },
    /// A prompt override directory could not be read.
    #[error("prompt directory {path}: {source}")]
    PromptDir {
        /// The directory or file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Bundled fixture data is missing or broken.
    #[error("fixture: {0}")]
    Fixture(String),
    /// An unknown agent name.
    #[error(transparent)]
    UnknownAgent(#[from] crate::UnknownAgent),
}
