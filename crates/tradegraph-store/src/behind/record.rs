use crate::{DecisionRecord, Lesson, StoreError, TradeRecord};
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
            Self::Decision(d) => format!("agent_decisions {}", d.decision_id),
            Self::Trade(t) => format!("trades_executed {}", t.trade_id),
            Self::Lesson(l) => format!("lessons {}", l.lesson_id),
        }
    }
}

/// A record refused for good, with its position in the batch.
pub type Rejected = Vec<(usize, StoreError)>;

/// Where the write-behind queue writes: idempotently (writing a record twice leaves one), in
/// order. `MongoStore` is one.
#[async_trait]
pub trait RecordSink: Send + Sync + 'static {
    /// Writes records in order. `Ok` lists the records refused for good (bad values); `Err` means
    /// nothing can be assumed written (the server is away): the batch will be written again.
    async fn write_records(&self, records: &[Record]) -> Result<Rejected, StoreError>;

    /// Whether the sink answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
