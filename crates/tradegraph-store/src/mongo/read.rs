//! The store traits on MongoDB: direct writes (one upsert each) and queries.

use super::document::{self, candle_from, date, from_doc, Shape};
use super::{
    MongoStore, AGENT_DECISIONS, ALERTS, LESSONS, OHLC_HISTORY, OPERATOR_ACTIONS, PROMPTS,
    TRADES_EXECUTED,
};
use crate::behind::{Record, RecordSink, Versioned};
use crate::{
    AlertLog, AlertRecord, CandleHistory, DecisionLog, DecisionRecord, Lesson, LessonLog,
    OperatorAction, OperatorLog, PromptLog, PromptRecord, Query, StoreError, TradeLog, TradeRecord,
};
use async_trait::async_trait;
use mongodb::bson::{doc, Document};
use serde::de::DeserializeOwned;
use tradegraph_core::{Candle, Symbol, Timeframe};

impl MongoStore {
    /// Writes one record now, versioned as of now.
    async fn write_one(&self, record: Record) -> Result<(), StoreError> {
        let records = [Versioned::new(record)];
        match self.write_records(&records).await?.pop() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// Documents matching `filter`, sorted by `time_field` (newest first when limited), as
    /// documents oldest first.
    async fn find(
        &self,
        collection: &str,
        mut filter: Document,
        time_field: &str,
        query: &Query,
    ) -> Result<Vec<Document>, StoreError> {
        if query.limit == Some(0) {
            return Ok(Vec::new());
        }
        self.ready().await?;
        filter.insert(
            time_field,
            doc! {"$gte": date(query.from), "$lt": date(query.to)},
        );

        let newest_first = query.limit.is_some();
        let direction = if newest_first { -1 } else { 1 };
        let coll = self.db.collection::<Document>(collection);
        let mut docs = self
            .run("find", || async {
                let mut find = coll
                    .find(filter.clone())
                    .sort(doc! {time_field: direction, "_id": direction});
                if let Some(n) = query.limit {
                    find = find.limit(i64::try_from(n).unwrap_or(i64::MAX));
                }
                let mut cursor = find.await?;
                let mut docs = Vec::new();
                while cursor.advance().await? {
                    docs.push(cursor.deserialize_current()?);
                }
                Ok(docs)
            })
            .await?;
        if newest_first {
            docs.reverse();
        }
        Ok(docs)
    }

    async fn find_records<T: DeserializeOwned>(
        &self,
        collection: &str,
        time_field: &str,
        query: &Query,
        shape: &Shape,
    ) -> Result<Vec<T>, StoreError> {
        let mut filter = doc! {"instrument": query.instrument.as_str()};
        // Decisions and trades are kept per run; the other logs have none.
        let per_run = collection == AGENT_DECISIONS || collection == TRADES_EXECUTED;
        match query.run.as_ref().filter(|_| per_run) {
            None => {}
            Some(run) if run.is_unset() => {
                filter.insert("run_id", doc! {"$exists": false});
            }
            Some(run) => {
                filter.insert("run_id", run.as_str());
            }
        }
        self.find(collection, filter, time_field, query)
            .await?
            .into_iter()
            .map(|d| from_doc(d, collection, shape))
            .collect()
    }
}

#[async_trait]
impl CandleHistory for MongoStore {
    async fn upsert_candles(
        &self,
        instrument: &Symbol,
        candles: &[Candle],
    ) -> Result<(), StoreError> {
        let records: Vec<Versioned> = candles
            .iter()
            .map(|c| {
                Versioned::new(Record::Candle {
                    instrument: instrument.clone(),
                    candle: c.clone(),
                })
            })
            .collect();
        match self.write_records(&records).await?.pop() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    async fn candles(
        &self,
        query: &Query,
        timeframe: Timeframe,
    ) -> Result<Vec<Candle>, StoreError> {
        let filter = doc! {"instrument": query.instrument.as_str(), "timeframe": timeframe.key()};
        self.find(OHLC_HISTORY, filter, "timestamp", query)
            .await?
            .iter()
            .map(candle_from)
            .collect()
    }
}

#[async_trait]
impl DecisionLog for MongoStore {
    async fn record_decision(&self, decision: &DecisionRecord) -> Result<(), StoreError> {
        self.write_one(Record::Decision(decision.clone())).await
    }

    async fn decisions(&self, query: &Query) -> Result<Vec<DecisionRecord>, StoreError> {
        self.find_records(AGENT_DECISIONS, "timestamp", query, &document::DECISION)
            .await
    }
}

#[async_trait]
impl TradeLog for MongoStore {
    async fn record_trade(&self, trade: &TradeRecord) -> Result<(), StoreError> {
        self.write_one(Record::Trade(trade.clone())).await
    }

    async fn trade(&self, trade_id: &str) -> Result<Option<TradeRecord>, StoreError> {
        self.ready().await?;
        let coll = self.db.collection::<Document>(TRADES_EXECUTED);
        // The latest run's (run ids sort by their start; a trade without one sorts first).
        let found = self
            .run("find_one", || {
                coll.find_one(doc! {"trade_id": trade_id})
                    .sort(doc! {"run_id": -1})
            })
            .await?;
        found
            .map(|d| from_doc(d, TRADES_EXECUTED, &document::TRADE))
            .transpose()
    }

    async fn trades(&self, query: &Query) -> Result<Vec<TradeRecord>, StoreError> {
        self.find_records(TRADES_EXECUTED, "entry_timestamp", query, &document::TRADE)
            .await
    }
}

#[async_trait]
impl LessonLog for MongoStore {
    async fn record_lesson(&self, lesson: &Lesson) -> Result<(), StoreError> {
        self.write_one(Record::Lesson(lesson.clone())).await
    }

    async fn recent_lessons(
        &self,
        instrument: &Symbol,
        agent: Option<&str>,
        n: usize,
    ) -> Result<Vec<Lesson>, StoreError> {
        let mut filter = doc! {"instrument": instrument.as_str()};
        if let Some(agent) = agent {
            filter.insert("agent", agent);
        }
        let query = Query::new(instrument.clone()).limit(n);
        let mut lessons: Vec<Lesson> = self
            .find(LESSONS, filter, "timestamp", &query)
            .await?
            .into_iter()
            .map(|d| from_doc(d, LESSONS, &document::LESSON))
            .collect::<Result<_, _>>()?;
        lessons.reverse();
        Ok(lessons)
    }
}

#[async_trait]
impl OperatorLog for MongoStore {
    async fn record_action(&self, action: &OperatorAction) -> Result<(), StoreError> {
        self.write_one(Record::OperatorAction(action.clone())).await
    }

    async fn actions(&self, query: &Query) -> Result<Vec<OperatorAction>, StoreError> {
        self.find_records(
            OPERATOR_ACTIONS,
            "timestamp",
            query,
            &document::OPERATOR_ACTION,
        )
        .await
    }
}

#[async_trait]
impl AlertLog for MongoStore {
    async fn record_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.write_one(Record::Alert(alert.clone())).await
    }

    async fn alerts(&self, query: &Query) -> Result<Vec<AlertRecord>, StoreError> {
        self.find_records(ALERTS, "timestamp", query, &document::ALERT)
            .await
    }
}

#[async_trait]
impl PromptLog for MongoStore {
    async fn record_prompt(&self, prompt: &PromptRecord) -> Result<(), StoreError> {
        self.write_one(Record::Prompt(prompt.clone())).await
    }

    async fn prompt(&self, prompt_hash: &str) -> Result<Option<PromptRecord>, StoreError> {
        self.ready().await?;
        let coll = self.db.collection::<Document>(PROMPTS);
        let found = self
            .run("find_one", || {
                coll.find_one(doc! {"prompt_hash": prompt_hash})
            })
            .await?;
        found
            .map(|d| from_doc(d, PROMPTS, &document::PROMPT))
            .transpose()
    }
}
