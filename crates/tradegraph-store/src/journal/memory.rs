use super::{AlertLog, DecisionLog, LessonLog, OperatorLog, TradeLog};
use crate::{AlertRecord, DecisionRecord, Lesson, OperatorAction, Query, StoreError, TradeRecord};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tradegraph_core::Symbol;

#[derive(Default)]
struct Logs {
    decisions: HashMap<String, DecisionRecord>,
    trades: HashMap<String, TradeRecord>,
    lessons: HashMap<String, Lesson>,
    actions: HashMap<String, OperatorAction>,
    alerts: HashMap<String, AlertRecord>,
}

/// Decisions, trades, lessons, operator actions and alerts in memory (unbounded: for tests, backtests and short runs).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_core::Timestamp;
/// use tradegraph_store::{DecisionLog, DecisionRecord, MemoryJournal, Query};
/// let log = MemoryJournal::new();
/// let d = DecisionRecord::new("BTCUSDT".into(), Timestamp::from_secs(60)).action("HOLD");
/// log.record_decision(&d).await?;
/// log.record_decision(&d).await?; // a retry: still one
/// assert_eq!(log.decisions(&Query::new("BTCUSDT")).await?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct MemoryJournal {
    logs: Mutex<Logs>,
}

impl MemoryJournal {
    /// Empty logs.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Logs> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl DecisionLog for MemoryJournal {
    async fn record_decision(&self, decision: &DecisionRecord) -> Result<(), StoreError> {
        self.lock()
            .decisions
            .insert(decision.decision_id.clone(), decision.clone());
        Ok(())
    }

    async fn decisions(&self, query: &Query) -> Result<Vec<DecisionRecord>, StoreError> {
        let mut found: Vec<DecisionRecord> = self
            .lock()
            .decisions
            .values()
            .filter(|d| d.instrument == query.instrument && query.contains(d.timestamp))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.timestamp, &a.decision_id).cmp(&(b.timestamp, &b.decision_id)));
        Ok(query.keep_newest(found))
    }
}

#[async_trait]
impl TradeLog for MemoryJournal {
    async fn record_trade(&self, trade: &TradeRecord) -> Result<(), StoreError> {
        self.lock()
            .trades
            .insert(trade.trade_id.clone(), trade.clone());
        Ok(())
    }

    async fn trade(&self, trade_id: &str) -> Result<Option<TradeRecord>, StoreError> {
        Ok(self.lock().trades.get(trade_id).cloned())
    }

    async fn trades(&self, query: &Query) -> Result<Vec<TradeRecord>, StoreError> {
        let mut found: Vec<TradeRecord> = self
            .lock()
            .trades
            .values()
            .filter(|t| t.instrument == query.instrument && query.contains(t.entry_timestamp))
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.entry_timestamp, &a.trade_id).cmp(&(b.entry_timestamp, &b.trade_id))
        });
        Ok(query.keep_newest(found))
    }
}

#[async_trait]
impl LessonLog for MemoryJournal {
    async fn record_lesson(&self, lesson: &Lesson) -> Result<(), StoreError> {
        self.lock()
            .lessons
            .insert(lesson.lesson_id.clone(), lesson.clone());
        Ok(())
    }

    async fn recent_lessons(
        &self,
        instrument: &Symbol,
        agent: Option<&str>,
        n: usize,
    ) -> Result<Vec<Lesson>, StoreError> {
        let mut found: Vec<Lesson> = self
            .lock()
            .lessons
            .values()
            .filter(|l| &l.instrument == instrument && agent.is_none_or(|a| l.agent == a))
            .cloned()
            .collect();
        found.sort_by(|a, b| (b.timestamp, &b.lesson_id).cmp(&(a.timestamp, &a.lesson_id)));
        found.truncate(n);
        Ok(found)
    }
}

#[async_trait]
impl OperatorLog for MemoryJournal {
    async fn record_action(&self, action: &OperatorAction) -> Result<(), StoreError> {
        self.lock()
            .actions
            .insert(action.action_id.clone(), action.clone());
        Ok(())
    }

    async fn actions(&self, query: &Query) -> Result<Vec<OperatorAction>, StoreError> {
        let mut found: Vec<OperatorAction> = self
            .lock()
            .actions
            .values()
            .filter(|a| a.instrument == query.instrument && query.contains(a.timestamp))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.timestamp, &a.action_id).cmp(&(b.timestamp, &b.action_id)));
        Ok(query.keep_newest(found))
    }
}

#[async_trait]
impl AlertLog for MemoryJournal {
    async fn record_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.lock()
            .alerts
            .insert(alert.alert_id.clone(), alert.clone());
        Ok(())
    }

    async fn alerts(&self, query: &Query) -> Result<Vec<AlertRecord>, StoreError> {
        let mut found: Vec<AlertRecord> = self
            .lock()
            .alerts
            .values()
            .filter(|a| a.instrument == query.instrument && query.contains(a.timestamp))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.timestamp, &a.alert_id).cmp(&(b.timestamp, &b.alert_id)));
        Ok(query.keep_newest(found))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ActionOutcome;
    use tradegraph_core::Timestamp;

    #[tokio::test]
    async fn operator_actions_come_back_by_instrument_and_time_newest_kept() {
        let log = MemoryJournal::new();
        let at = |s: i64| Timestamp::from_secs(1_704_103_200 + s);
        for (n, s) in [(1, 0), (2, 60), (3, 120)] {
            let a = OperatorAction::new("BTCUSDT".into(), at(s), n, "kill_switch.engage")
                .source("127.0.0.1:4000")
                .outcome(ActionOutcome::Done, "engaged");
            log.record_action(&a).await.unwrap();
            log.record_action(&a).await.unwrap();
        }
        let other = OperatorAction::new("NIFTY50".into(), at(0), 1, "entries.pause");
        log.record_action(&other).await.unwrap();
        let all = log.actions(&Query::new("BTCUSDT")).await.unwrap();
        assert_eq!(all.len(), 3, "one per action_id, this instrument only");
        let page = log
            .actions(&Query::new("BTCUSDT").before(at(120)).limit(1))
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].timestamp, at(60));
        assert_eq!(page[0].source.as_deref(), Some("127.0.0.1:4000"));
    }
}
