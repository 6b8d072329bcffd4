use crate::{
    AlertRecord, DecisionRecord, Lesson, OperatorAction, PromptRecord, RunId, StoreError,
    TradeRecord,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Candle, Symbol};

/// One write for the history and the logs, as queued, spilled and replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum Record {
    /// A candle for `ohlc_history`.
    Candle {
        /// Its instrument.
        instrument: Symbol,
        /// The candle.
        candle: Candle,
    },
    /// A decision for `agent_decisions`.
    Decision(DecisionRecord),
    /// A trade for `trades_executed`.
    Trade(TradeRecord),
    /// A lesson for `lessons`.
    Lesson(Lesson),
    /// An operator's action for `operator_actions`.
    OperatorAction(OperatorAction),
    /// An alert for `alerts`.
    Alert(AlertRecord),
    /// A prompt for `prompts`.
    Prompt(PromptRecord),
}

impl Record {
    /// The collection and the record's unique key, for messages:
    /// `ohlc_history BTCUSDT/1min/2024-01-01T10:00:00Z`.
    pub fn describe(&self) -> String {
        match self {
            Self::Candle { instrument, candle } => format!(
                "ohlc_history {instrument}/{}/{}",
                candle.timeframe, candle.open_time
            ),
            Self::Decision(d) => format!("agent_decisions {}{}", run(&d.run_id), d.decision_id),
            Self::Trade(t) => format!("trades_executed {}{}", run(&t.run_id), t.trade_id),
            Self::Lesson(l) => format!("lessons {}{}", run(&l.run_id), l.lesson_id),
            Self::Prompt(p) => format!("prompts {}", p.prompt_hash),
            Self::OperatorAction(a) => format!("operator_actions {}", a.action_id),
            Self::Alert(a) => format!("alerts {}", a.alert_id),
        }
    }
}

/// `<run>/` before a record's id, nothing without a run.
fn run(id: &RunId) -> String {
    if id.is_unset() {
        String::new()
    } else {
        format!("{id}/")
    }
}

/// A record with its version, as queued, spilled and written: of two writes of the same key,
/// the one with the higher version wins, whatever order they reach the sink in.
///
/// In the spill file a record is one JSON line, `{"kind": ..., "record": {...}, "version": N}`;
/// lines written before versions existed have none and read as version 0, older than any
/// stamped one.
///
/// ```
/// use tradegraph_store::behind::Versioned;
/// use tradegraph_store::{DecisionRecord, Record};
/// let d = DecisionRecord::new("BTCUSDT".into(), "2024-01-01T10:00:00Z".parse()?);
/// let first = Versioned::new(Record::Decision(d.clone()));
/// let second = Versioned::new(Record::Decision(d));
/// assert!(second.version > first.version);
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned {
    /// The record.
    #[serde(flatten)]
    pub record: Record,
    /// Orders the writes of the record's key; stamped when the record is queued (wall-clock
    /// milliseconds and a counter, increasing within a process and across its restarts). 0: not
    /// known (a record spilled before versions existed).
    #[serde(default)]
    pub version: i64,
}

impl Versioned {
    /// `record` with a new version, higher than any this process stamped before.
    pub fn new(record: Record) -> Self {
        Self::with_version(record, super::version::next())
    }

    /// `record` with the given version (a replay keeps the original's).
    pub fn with_version(record: Record, version: i64) -> Self {
        Self { record, version }
    }
}

/// A record refused for good, with its position in the batch.
pub type Rejected = Vec<(usize, StoreError)>;

/// Where the write-behind queue writes: idempotently (writing a record twice leaves one) and
/// versioned (a record never replaces one of the same key with a higher version, so batches may
/// land in any order). `MongoStore` is one.
#[async_trait]
pub trait RecordSink: Send + Sync + 'static {
    /// Writes records. `Ok` lists the records refused for good (bad values); `Err` means
    /// nothing can be assumed written (the server is away, or could not take some records now):
    /// the batch will be written again.
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError>;

    /// Whether the sink answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
