//! The store traits on the write-behind queue: writes queued, reads from the sink.

use super::{Record, RecordSink, WriteBehind};
use crate::{
    AlertLog, AlertRecord, CandleHistory, DecisionLog, DecisionRecord, Lesson, LessonLog,
    OperatorAction, OperatorLog, PromptLog, PromptRecord, Query, StoreError, TradeLog, TradeRecord,
};
use async_trait::async_trait;
use tradegraph_core::{Candle, Symbol, Timeframe};

#[async_trait]
impl<S: RecordSink + CandleHistory> CandleHistory for WriteBehind<S> {
    async fn upsert_candles(
        &self,
        instrument: &Symbol,
        candles: &[Candle],
    ) -> Result<(), StoreError> {
        for candle in candles {
            self.submit(Record::Candle {
                instrument: instrument.clone(),
                candle: candle.clone(),
            })
            .await?;
        }
        Ok(())
    }

    async fn candles(
        &self,
        query: &Query,
        timeframe: Timeframe,
    ) -> Result<Vec<Candle>, StoreError> {
        self.flush().await?;
        self.sink().candles(query, timeframe).await
    }
}

#[async_trait]
impl<S: RecordSink + DecisionLog> DecisionLog for WriteBehind<S> {
    async fn record_decision(&self, decision: &DecisionRecord) -> Result<(), StoreError> {
        self.submit(Record::Decision(decision.clone())).await
    }

    async fn decisions(&self, query: &Query) -> Result<Vec<DecisionRecord>, StoreError> {
        self.flush().await?;
        self.sink().decisions(query).await
    }
}

#[async_trait]
impl<S: RecordSink + TradeLog> TradeLog for WriteBehind<S> {
    async fn record_trade(&self, trade: &TradeRecord) -> Result<(), StoreError> {
        self.submit(Record::Trade(trade.clone())).await
    }

    async fn trade(&self, trade_id: &str) -> Result<Option<TradeRecord>, StoreError> {
        self.flush().await?;
        self.sink().trade(trade_id).await
    }

    async fn trades(&self, query: &Query) -> Result<Vec<TradeRecord>, StoreError> {
        self.flush().await?;
        self.sink().trades(query).await
    }
}

#[async_trait]
impl<S: RecordSink + LessonLog> LessonLog for WriteBehind<S> {
    async fn record_lesson(&self, lesson: &Lesson) -> Result<(), StoreError> {
        self.submit(Record::Lesson(lesson.clone())).await
    }

    async fn recent_lessons(
        &self,
        instrument: &Symbol,
        agent: Option<&str>,
        n: usize,
    ) -> Result<Vec<Lesson>, StoreError> {
        self.flush().await?;
        self.sink().recent_lessons(instrument, agent, n).await
    }
}

#[async_trait]
impl<S: RecordSink + OperatorLog> OperatorLog for WriteBehind<S> {
    async fn record_action(&self, action: &OperatorAction) -> Result<(), StoreError> {
        self.submit(Record::OperatorAction(action.clone())).await
    }

    async fn actions(&self, query: &Query) -> Result<Vec<OperatorAction>, StoreError> {
        self.flush().await?;
        self.sink().actions(query).await
    }
}

#[async_trait]
impl<S: RecordSink + AlertLog> AlertLog for WriteBehind<S> {
    async fn record_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.submit(Record::Alert(alert.clone())).await
    }

    async fn alerts(&self, query: &Query) -> Result<Vec<AlertRecord>, StoreError> {
        self.flush().await?;
        self.sink().alerts(query).await
    }
}

#[async_trait]
impl<S: RecordSink + PromptLog> PromptLog for WriteBehind<S> {
    async fn record_prompt(&self, prompt: &PromptRecord) -> Result<(), StoreError> {
        self.submit(Record::Prompt(prompt.clone())).await
    }

    async fn prompt(&self, prompt_hash: &str) -> Result<Option<PromptRecord>, StoreError> {
        self.flush().await?;
        self.sink().prompt(prompt_hash).await
    }
}
