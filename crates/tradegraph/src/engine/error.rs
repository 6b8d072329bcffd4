//! What stops a bot.

use tradegraph_store::StatePart;

/// The errors of the engine and the bot built on it: each crate's error, composed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Market data could not be read.
    #[error(transparent)]
    Market(#[from] tradegraph_market::MarketError),
    /// The graph failed to load or run.
    #[error(transparent)]
    Graph(#[from] tradegraph_graph::GraphError),
    /// The graph file is invalid (every problem, with file, line and column).
    #[error(transparent)]
    GraphFile(#[from] tradegraph_graph::yaml::YamlErrors),
    /// The agents could not be set up.
    #[error(transparent)]
    Agents(#[from] tradegraph_agents::AgentError),
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] tradegraph_broker::BrokerError),
    /// A store failed where the bot cannot go on without it (its saved state).
    #[error(transparent)]
    Store(#[from] tradegraph_store::StoreError),
    /// The alerts could not start (their webhooks' HTTP client).
    #[error(transparent)]
    #[cfg(feature = "service")]
    Alerts(#[from] crate::alerts::AlertError),
    /// A domain rule was broken (risk limits that cannot work, decimal overflow).
    #[error(transparent)]
    Core(#[from] tradegraph_core::CoreError),
    /// Another process saved a newer version of this bot's state: two bots are running on the
    /// same instrument and store. This one stops rather than trade on a state it does not own.
    #[error(
        "{part:?} state of {instrument}: version {stored} is stored, newer than this bot's {ours}; \
         another bot runs on this instrument and store — stop one of them"
    )]
    StateConflict {
        /// The instrument.
        instrument: String,
        /// Which part of the state.
        part: StatePart,
        /// The version in the store.
        stored: u64,
        /// The version this bot tried to write.
        ours: u64,
    },
    /// Another instance of this bot holds its claim on the instrument in the shared state
    /// store (see [`BotConfig::instance`](super::BotConfig::instance)): this one
    /// does not start, or stops, rather than trade beside it.
    #[error(
        "another instance of the {instrument} bot holds its state ({holder}): stop it first, or give this one another state store"
    )]
    AnotherInstance {
        /// The instrument.
        instrument: String,
        /// The instance holding the claim, as it describes itself (process, host, start).
        holder: String,
    },
    /// A lock was poisoned by a panic elsewhere.
    #[error("{0}'s lock was poisoned by a panic; restart the bot")]
    Poisoned(&'static str),
    /// A configuration value cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// A cycle's state could not be saved, and the engine was told to stop then
    /// ([`BotConfig::strict_saves`](super::BotConfig::strict_saves): a worker, whose job must be
    /// delivered again rather than acknowledged).
    #[error("the state of the cycle at {at} was not saved ({why}): stopping, so that the cycle runs again from the saved state")]
    Unsaved {
        /// The cycle's decision time.
        at: tradegraph_core::Timestamp,
        /// What failed.
        why: String,
        /// The last save that failed met a store that did not answer (down, slow or
        /// restarting), not a refusal (a value the store takes never, another bot's state): the
        /// same cycle may be saved later.
        transient: bool,
    },
    /// The bot has stopped: it takes no more commands.
    #[error("the bot has stopped and takes no more commands; start it again (`tradegraph run`)")]
    Stopped,
}

impl EngineError {
    /// True when the engine failed because a store did not answer (a server down, slow or
    /// restarting, or a save it did not take in time), so that the same work may succeed
    /// later unchanged, as opposed to a refusal, a configuration, a conflict with another bot
    /// or a bug.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) => e.is_transient(),
            Self::Unsaved { transient, .. } => *transient,
            _ => false,
        }
    }
}
