//! The bot as a service: an HTTP API over a running bot ([`Service`]), on axum.
//!
//! - **Read API** under `/api/v1` (JSON): `status`, `positions`, `orders` (paged, working and
//!   finished), `trades` (paged), `equity`, `pnl/daily`, `decisions` (paged) and
//!   `decisions/{id}` (and `decisions/{id}/replay`, the decision's prompts and answers),
//!   `candles` with the indicators, `llm/usage` (by agent, provider and day), `alerts`,
//!   `lessons`, `approvals`, `operator-actions` (paged), `reconciliation` (the last one with
//!   the broker), `graph` (the decision graph), `overview` (the bots of the dashboard's
//!   overview), `prompts/{hash}` and `prompts/versions`. `GET /api/v1` lists every endpoint.
//! - **Event stream**: `GET /api/v1/events`, server-sent events numbered by the [`EventHub`],
//!   each `id` `<run>:<n>` (the run: 12 hex digits drawn at each start; `n` from 1 in each run):
//!   `?types=` keeps some types; a client that reconnects with `Last-Event-ID` gets every event
//!   after it that is still kept (the newest 2,048 by default), then the live ones; with an id
//!   of another run (the bot restarted), a `reset` event and every event kept.
//! - **Control** (`POST`, `Authorization: Bearer <token>` required, 401 and nothing done
//!   otherwise): `kill-switch`, `pause`, `close-all`, `cancel-all`,
//!   `approvals/{id}/approve`, `approvals/{id}/reject`, `reconciliation/confirm`,
//!   `decisions/{id}/replay` (its prompts asked again), and the prompt
//!   versions' `approve`, `withdraw` and `rollback`. Each is a
//!   [`Command`](crate::engine::Command) the engine carries out and records in the operator
//!   log with the caller's address.
//! - **Health**: `GET /healthz` (alive), `GET /readyz` (ready to trade, 503 with the failing
//!   checks named) from the engine's checks (`engine`, `feed`, `broker`, `state_store`) and the
//!   [`HealthBoard`], on which the periodic [`checks`] (`redis`, `mongodb`, `llm`, every 10 s)
//!   record theirs; each change of a check's state is a `health` event.
//!
//! Paged endpoints take `?limit=` (50 unless set, at most 500) and `?before=` (a time, RFC
//! 3339 or Unix milliseconds) or `?cursor=` (the previous page's `next_cursor`), and answer
//! `{"items": [...newest first...], "next_cursor": "..." | null}`. Errors are JSON:
//! `{"error": "<what failed and what to do>", "status": <code>}`.
//!
//! [`Service::router`] is an axum [`Router`]: add routes with [`Router::merge`] (metrics, a
//! dashboard) before serving it yourself, or let [`Service::serve`] serve it.
//!
//! ```no_run
//! use tradegraph::engine::{backtest, paper_broker, BotConfig, Engine, Mode};
//! use tradegraph::service::{ApiToken, EventHub, Service};
//! # async fn demo(mut config: BotConfig, engine_parts: ()) -> Result<(), Box<dyn std::error::Error>> {
//! let hub = EventHub::start(2_048);
//! config.events = Some(hub.sender());
//! # let (clock, feed) = (tradegraph::market::SimulatedClock::default(), futures::stream::empty());
//! let broker = paper_broker(&config)?;
//! let (stores, instrument) = (config.stores.clone(), config.instrument.clone());
//! let engine = Engine::start(config, clock, feed, broker).await?;
//! let (token, text) = ApiToken::generate();
//! println!("API token: {text}");
//! let service = Service::new(engine.handle(), stores, instrument, token, hub);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
//! tokio::spawn(service.serve(listener, std::future::pending()));
//! engine.run(std::future::pending(), |_| {}).await?;
//! # Ok(()) }
//! ```

mod api;
pub(crate) mod auth;
pub mod checks;
mod control;
mod dashboard;
pub(crate) mod error;
mod events;
mod health;
mod params;
pub(crate) mod router;
pub mod usage;

pub use auth::ApiToken;
pub use events::{EventHub, Stamped, Subscription};
pub use health::HealthBoard;
pub use usage::UsageBook;

use crate::engine::BotHandle;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tradegraph_core::Instrument;
use tradegraph_llm::Llm;
use tradegraph_store::Stores;

/// Events kept for clients that reconnect, unless set.
pub const DEFAULT_EVENTS_KEPT: usize = 2_048;

/// What every handler reads.
pub(crate) struct Shared {
    pub(crate) bot: BotHandle,
    pub(crate) stores: Stores,
    pub(crate) llm: Option<Llm>,
    /// The agents' model, for asking a stored decision's prompts again.
    pub(crate) model: Option<std::sync::Arc<dyn tradegraph_agents::model::ReportModel>>,
    pub(crate) usage: Option<UsageBook>,
    pub(crate) token: ApiToken,
    pub(crate) hub: EventHub,
    pub(crate) health: HealthBoard,
    pub(crate) instrument: Instrument,
    /// The bots the dashboard's overview lists, as `host:port`.
    pub(crate) peers: Vec<String>,
    /// The overview last asked of the peers (`GET /api/v1/overview`).
    pub(crate) overview: dashboard::OverviewCache,
    /// The alerts this run raised, for `GET /api/v1/alerts` when the store does not answer.
    pub(crate) alerts: Option<crate::alerts::RecentAlerts>,
    /// A venue broker's last answers, shared by the clients.
    pub(crate) venue: api::broker::VenueReads,
    /// One decision's prompts asked again at a time (`POST /api/v1/decisions/{id}/replay`).
    pub(crate) replays: std::sync::Arc<tokio::sync::Semaphore>,
}

/// The handlers' state.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The HTTP service of one bot: the read API, the event stream, the control endpoints and
/// health, over the bot's [`BotHandle`], its stores, its event hub and (optionally) its model
/// chain. See the [module documentation](self).
pub struct Service {
    shared: Shared,
}

impl Service {
    /// A service over `bot` (whose engine publishes on `hub`'s sender), reading `stores`, for
    /// `instrument`, its control endpoints behind `token`.
    pub fn new(
        bot: BotHandle,
        stores: Stores,
        instrument: Instrument,
        token: ApiToken,
        hub: EventHub,
    ) -> Self {
        Self {
            shared: Shared {
                bot,
                stores,
                llm: None,
                model: None,
                usage: None,
                token,
                hub,
                health: HealthBoard::new(),
                instrument,
                peers: crate::config::DEFAULT_DASHBOARD_PEERS
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect(),
                overview: dashboard::OverviewCache::default(),
                alerts: None,
                venue: api::broker::VenueReads::default(),
                replays: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
            },
        }
    }

    /// Reports the model chain's usage and health.
    #[must_use]
    pub fn with_llm(mut self, llm: Llm) -> Self {
        self.shared.llm = Some(llm);
        self
    }

    /// Asks `model` (the agents' own) when a stored decision is replayed with its prompts
    /// asked again (`POST /api/v1/decisions/{id}/replay`).
    #[must_use]
    pub fn with_model(
        mut self,
        model: std::sync::Arc<dyn tradegraph_agents::model::ReportModel>,
    ) -> Self {
        self.shared.model = Some(model);
        self
    }

    /// Reports the model usage by agent, provider and day from `book` (see [`usage`]).
    #[must_use]
    pub fn with_usage(mut self, book: UsageBook) -> Self {
        self.shared.usage = Some(book);
        self
    }

    /// Answers `GET /api/v1/alerts` from `recent` (the alert service's own list) when the
    /// store's alert log does not answer.
    #[must_use]
    pub fn with_alerts(mut self, recent: crate::alerts::RecentAlerts) -> Self {
        self.shared.alerts = Some(recent);
        self
    }

    /// Uses `board` for the checks beyond the engine's own.
    #[must_use]
    pub fn with_health(mut self, board: HealthBoard) -> Self {
        self.shared.health = board;
        self
    }

    /// Lists `peers` (`host:port`) on the dashboard's overview page (`GET /overview`,
    /// `GET /api/v1/overview`); the three standard bots on 8001, 8002 and 8003 unless set.
    #[must_use]
    pub fn with_peers(mut self, peers: Vec<String>) -> Self {
        self.shared.peers = peers;
        self
    }

    /// The board of health checks `/readyz` reads.
    pub fn health(&self) -> &HealthBoard {
        &self.shared.health
    }

    /// The event hub.
    pub fn events(&self) -> &EventHub {
        &self.shared.hub
    }

    /// The routes, as an axum router (merge more into it with [`Router::merge`]).
    pub fn router(self) -> Router {
        router::router(AppState(Arc::new(self.shared)))
    }

    /// Serves the routes on `listener` until `shutdown` completes, then lets requests in flight
    /// finish (event streams end when the hub closes: [`EventHub::close`]).
    ///
    /// # Errors
    /// The listener's I/O error.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.router();
        serve_router(listener, app, shutdown).await
    }
}

/// Serves `app` (a [`Service::router`], with routes added) on `listener` until `shutdown`.
///
/// # Errors
/// The listener's I/O error.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("instrument", &self.shared.instrument.symbol)
            .field("token", &self.shared.token)
            .finish_non_exhaustive()
    }
}
