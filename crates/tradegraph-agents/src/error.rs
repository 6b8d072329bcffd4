//! Errors of the agents.

use crate::AgentName;
use std::fmt;

/// What went wrong in an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A prompt template does not parse or render.
    #[error("{template}: {}", with_causes(.source))]
    Prompt {
        /// Which template: an agent's, a file of the prompt directory, or the engine's syntax.
        template: PromptTemplate,
        /// Why.
        source: minijinja::Error,
    },
    /// A rendered prompt put text from a model or from outside where instructions go.
    #[error("prompt `{agent}`: template `{template}` puts `{field}` {problem}")]
    PromptFrame {
        /// Which agent's prompt.
        agent: AgentName,
        /// The agent's template (`bull.j2`).
        template: String,
        /// The untrusted field (`lessons[0].text`).
        field: String,
        /// Where it went, and what to do.
        problem: String,
    },
    /// A prompt override directory could not be read (or is not there, or is no directory).
    #[error("prompt directory {path}: {source}")]
    PromptDir {
        /// The directory or file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file in a prompt override directory is named like a template but is none (another
    /// extension, a misspelt name): it would be ignored.
    #[error(
        "prompt directory: {path} is named like no template, so it would be ignored; a template \
         overriding an embedded one is named one of: {known}"
    )]
    PromptName {
        /// The file.
        path: std::path::PathBuf,
        /// The names a template can have.
        known: String,
    },
    /// Bundled fixture data is missing or broken.
    #[error("fixture: {0}")]
    Fixture(String),
    /// An unknown agent name.
    #[error(transparent)]
    UnknownAgent(#[from] crate::UnknownAgent),
    /// A node kind of a user's own has the name of a built-in kind.
    #[error(
        "node kind `{kind}` is built in ({}): register your own node under another kind and name \
         that kind in the graph file",
        .built_in.join(", ")
    )]
    KindTaken {
        /// The kind registered twice.
        kind: String,
        /// Every built-in kind.
        built_in: Vec<String>,
    },
    /// Two of a user's adders register the same name, so the second would replace the first.
    #[error(
        "{what} `{name}` is registered by two of the custom kinds' adders: give each its own name \
         (or register it in one adder only)"
    )]
    NameTwice {
        /// `node kind`, `router`, `condition` or `send`.
        what: &'static str,
        /// The name registered twice.
        name: String,
    },
    /// An amendment's text cannot stand in a prompt.
    #[error("prompt amendment: {0}")]
    Amendment(String),
    /// A prompt version cannot be approved, settled or rolled back to.
    #[error("prompt version {agent} v{number}: {problem}")]
    PromptVersion {
        /// The agent.
        agent: AgentName,
        /// The version's number.
        number: u32,
        /// Why not.
        problem: String,
    },
}

/// The template an [`AgentError::Prompt`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromptTemplate {
    /// An agent's template, as it renders.
    Agent(AgentName),
    /// A template file (`bull.j2`, a shared `_frame.j2`) that does not parse.
    File(String),
    /// The template engine's syntax settings (a build defect: no template is read).
    Syntax,
}

impl fmt::Display for PromptTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Agent(agent) => write!(f, "prompt `{agent}`"),
            Self::File(name) => write!(f, "prompt template `{name}`"),
            Self::Syntax => f.write_str("prompt templates' syntax settings"),
        }
    }
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
