//! Errors of the alert sinks, composed into [`EngineError`](crate::engine::EngineError).

/// What went wrong delivering an alert. Messages never carry a webhook's URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// A webhook could not be reached or answered with an error status.
    #[error("alerts: webhook {index} ({format}) failed: {reason}; check the receiver and the `url` of [[alerts.webhook]] number {index} in tradegraph.toml")]
    Webhook {
        /// Its position in `[[alerts.webhook]]`, from 1.
        index: usize,
        /// `json`, `slack` or `telegram`.
        format: &'static str,
        /// Why, without the URL.
        reason: String,
    },
    /// The webhooks' TLS configuration could not be made (no usable protocol version).
    #[error("alerts: the webhooks' TLS setup failed: {0}; report it, with the build's features")]
    Tls(#[source] tradegraph_llm::LlmError),
    /// The HTTP client could not be built (the error holds no URL).
    #[error("alerts: the webhook HTTP client cannot be built: {0}; report it, with the build's features")]
    Client(#[source] reqwest::Error),
    /// The alert log in the store refused the alert.
    #[error("alerts: the alert was not written to the store: {0}; it is still in the log and on the event stream")]
    Store(#[from] tradegraph_store::StoreError),
}
