//! Errors of the runtime.

/// What stops a bot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// Market data could not be read.
    #[error(transparent)]
    Market(#[from] tradegraph_market::MarketError),
    /// The graph failed to load or run.
    #[error("graph: {0}")]
    Graph(String),
    /// The agents could not be set up.
    #[error(transparent)]
    Agents(#[from] tradegraph_agents::AgentError),
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] tradegraph_broker::BrokerError),
    /// A configuration value cannot work.
    #[error("configuration: {0}")]
    Config(String),
}
