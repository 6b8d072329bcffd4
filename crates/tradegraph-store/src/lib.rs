#![doc = include_str!("docs/lib.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod behind;
mod error;
mod event;
pub mod history;
pub mod hot;
pub mod journal;
mod lock;
pub mod metrics;
#[cfg(feature = "mongodb")]
pub mod mongo;
mod query;
pub mod queue;
pub mod record;
#[cfg(feature = "redis")]
pub mod redis;
pub mod state;
mod stores;
pub mod url;

pub use behind::{
    replay_rejected, Record, RecordSink, ReplayReport, Versioned, WriteBehind, WriteBehindConfig,
};
pub use error::StoreError;
pub use event::{Alerts, StoreEvent};
pub use history::{CandleHistory, MemoryHistory};
pub use hot::{HotCache, HotLimits, LatestPrice, MemoryHotCache};
pub use journal::{
    AlertLog, DecisionLog, LessonLog, MemoryJournal, OperatorLog, PromptLog, TradeLog,
};
pub use lock::in_use;
pub use query::Query;
pub use record::{
    ActionOutcome, AgentDecision, AlertRecord, DecisionRecord, Lesson, OperatorAction,
    PromptRecord, RunId, Situation, TradeRecord, TradeStatus, CLASHING_EXTRA,
};
pub use state::host_name;
pub use state::{
    BotStateStore, FileState, IntentLog, IntentRecord, IntentStatus, MemoryState, Saved, StateDoc,
    StateKey, StatePart,
};
pub use stores::{Stores, StoresConfig};
