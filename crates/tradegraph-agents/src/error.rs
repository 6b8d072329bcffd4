//! Errors of the agents.

/// What went wrong in an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A prompt template does not parse or render.
    #[error("prompt `{agent}`: {}", with_causes(.source))]
    Prompt {
        /// Which agent's template.
        agent: String,
        /// Why.
        source: minijinja::Error,
    },
    /// A rendered prompt put text from a model or from outside where instructions go.
    #[error("prompt `{agent}`: template `{template}` puts `{field}` {problem}")]
    PromptFrame {
        /// Which agent's prompt.
        agent: String,
        /// The agent's template (`bull.j2`).
        template: String,
        /// The untrusted field (`lessons[0].text`).
        field: String,
        /// Where it went, and what to do.
        problem: String,
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

/// An engine error with the errors it wraps (an error inside an included template is the cause
/// of the include's error, and says which field and line).
fn with_causes(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
