//! The logs: decisions, trades, lessons, operator actions, alerts and prompts. Every record
//! carries its own unique key (`decision_id`, `trade_id` and `lesson_id` within their
//! [`RunId`](crate::RunId); `action_id`, `alert_id`, `prompt_hash`) and writing it again
//! replaces it, so a retry or a replay never duplicates, and a re-run of a period (another run
//! id) never replaces an earlier run's records. [`MemoryJournal`] is the default; `MongoStore`
//! (feature `mongodb`) keeps them in `agent_decisions`, `trades_executed`, `lessons`,
//! `operator_actions`, `alerts` and `prompts`.

mod memory;

pub use memory::MemoryJournal;

use crate::{
    AlertRecord, DecisionRecord, Lesson, OperatorAction, PromptRecord, Query, StoreError,
    TradeRecord,
};
use async_trait::async_trait;
use tradegraph_core::Symbol;

/// The decision log.
#[async_trait]
pub trait DecisionLog: Send + Sync + 'static {
    /// Stores a decision (replacing one with the same `run_id` and `decision_id`).
    async fn record_decision(&self, decision: &DecisionRecord) -> Result<(), StoreError>;

    /// Decisions whose `timestamp` is in the query's range, oldest first.
    async fn decisions(&self, query: &Query) -> Result<Vec<DecisionRecord>, StoreError>;
}

/// The trade log.
#[async_trait]
pub trait TradeLog: Send + Sync + 'static {
    /// Stores a trade (replacing one with the same `run_id` and `trade_id`: status changes,
    /// exits).
    async fn record_trade(&self, trade: &TradeRecord) -> Result<(), StoreError>;

    /// One trade (of any run; when several runs have it, the run whose id sorts last: run ids
    /// begin with their start time, so the latest started, and a trade written without a run
    /// comes first).
    async fn trade(&self, trade_id: &str) -> Result<Option<TradeRecord>, StoreError>;

    /// Trades whose `entry_timestamp` is in the query's range, oldest first.
    async fn trades(&self, query: &Query) -> Result<Vec<TradeRecord>, StoreError>;
}

/// The lessons the learning agent keeps.
#[async_trait]
pub trait LessonLog: Send + Sync + 'static {
    /// Stores a lesson (replacing one with the same `run_id` and `lesson_id`).
    async fn record_lesson(&self, lesson: &Lesson) -> Result<(), StoreError>;

    /// The newest `n` lessons of an instrument (for one agent, or all), newest first.
    async fn recent_lessons(
        &self,
        instrument: &Symbol,
        agent: Option<&str>,
        n: usize,
    ) -> Result<Vec<Lesson>, StoreError>;
}

/// What operators did to the bots: every control action (kill switch, pause, close all, cancel
/// all, approvals), with when, from where and its outcome.
#[async_trait]
pub trait OperatorLog: Send + Sync + 'static {
    /// Stores an action (replacing one with the same `action_id`).
    async fn record_action(&self, action: &OperatorAction) -> Result<(), StoreError>;

    /// Actions whose `timestamp` is in the query's range, oldest first.
    async fn actions(&self, query: &Query) -> Result<Vec<OperatorAction>, StoreError>;
}

/// The alerts the bots raised (circuit breakers, stores down, performance floors crossed, ...)
/// and their recoveries, kept so that they survive a restart.
#[async_trait]
pub trait AlertLog: Send + Sync + 'static {
    /// Stores an alert (replacing one with the same `alert_id`).
    async fn record_alert(&self, alert: &AlertRecord) -> Result<(), StoreError>;

    /// Alerts whose `timestamp` is in the query's range, oldest first.
    async fn alerts(&self, query: &Query) -> Result<Vec<AlertRecord>, StoreError>;
}

/// The prompts the agents sent, each stored once per distinct text and referenced by its hash
/// from the decisions that used it.
#[async_trait]
pub trait PromptLog: Send + Sync + 'static {
    /// Stores a prompt (one with the same `prompt_hash` is the same text: writing it again
    /// replaces only the decision it names, with the later one).
    async fn record_prompt(&self, prompt: &PromptRecord) -> Result<(), StoreError>;

    /// The prompt with this hash.
    async fn prompt(&self, prompt_hash: &str) -> Result<Option<PromptRecord>, StoreError>;
}
