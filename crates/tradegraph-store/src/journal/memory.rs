use super::{AlertLog, DecisionLog, LessonLog, OperatorLog, PromptLog, TradeLog};
use crate::{
    AlertRecord, DecisionRecord, Lesson, OperatorAction, PromptRecord, Query, RunId, StoreError,
    TradeRecord,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tradegraph_core::{Symbol, Timestamp};

/// A decision as the memory journal keeps it: the fields a query filters on, and the record
/// as compact JSON. A backtest writes one decision a cycle (35,040 in a year of 15-minute
/// cycles) and rarely reads them: one string each costs a quarter of the record's tree in
/// memory, and is written and freed as one block. A record reads back as the Redis, MongoDB
/// spill and JSON Lines paths read it: a non-finite `confidence` (JSON has no NaN) as none.
struct StoredDecision {
    instrument: Symbol,
    timestamp: Timestamp,
    json: Box<str>,
}

impl StoredDecision {
    fn encode(decision: &DecisionRecord) -> Result<Self, StoreError> {
        let what = || format!("decision {}", decision.decision_id);
        // a time no reader could parse back is refused here, not at every later read
        if !decision.timestamp.is_representable() {
            return Err(StoreError::encode(
                what(),
                format!(
                    "its time ({} ms since the epoch) is outside years 0000 to 9999",
                    decision.timestamp.millis()
                ),
            ));
        }
        let json = serde_json::to_string(decision).map_err(|e| StoreError::encode(what(), e))?;
        Ok(Self {
            instrument: decision.instrument.clone(),
            timestamp: decision.timestamp,
            json: json.into_boxed_str(),
        })
    }

    fn decode(id: &str, json: &str) -> Result<DecisionRecord, StoreError> {
        serde_json::from_str(json).map_err(|e| StoreError::decode(format!("decision {id}"), e))
    }
}

/// A decision's, trade's or lesson's key: its run and its own id.
type RunKey = (RunId, String);

#[derive(Default)]
struct Logs {
    decisions: HashMap<RunKey, StoredDecision>,
    trades: HashMap<RunKey, TradeRecord>,
    lessons: HashMap<RunKey, Lesson>,
    actions: HashMap<String, OperatorAction>,
    alerts: HashMap<String, AlertRecord>,
    prompts: HashMap<String, PromptRecord>,
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
        let stored = StoredDecision::encode(decision)?;
        self.lock().decisions.insert(
            (decision.run_id.clone(), decision.decision_id.clone()),
            stored,
        );
        Ok(())
    }

    async fn decisions(&self, query: &Query) -> Result<Vec<DecisionRecord>, StoreError> {
        // the page is chosen on the kept fields, and only its records are decoded
        let page: Vec<(String, Box<str>)> = {
            let logs = self.lock();
            let mut found: Vec<(&RunKey, &StoredDecision)> = logs
                .decisions
                .iter()
                .filter(|((run, _), d)| {
                    d.instrument == query.instrument
                        && query.contains(d.timestamp)
                        && query.has_run(run)
                })
                .collect();
            found.sort_by(|a, b| (a.1.timestamp, a.0).cmp(&(b.1.timestamp, b.0)));
            query
                .keep_newest(found)
                .into_iter()
                .map(|((_, id), d)| (id.clone(), d.json.clone()))
                .collect()
        };
        page.iter()
            .map(|(id, json)| StoredDecision::decode(id, json))
            .collect()
    }
}

#[async_trait]
impl TradeLog for MemoryJournal {
    async fn record_trade(&self, trade: &TradeRecord) -> Result<(), StoreError> {
        self.lock().trades.insert(
            (trade.run_id.clone(), trade.trade_id.clone()),
            trade.clone(),
        );
        Ok(())
    }

    async fn trade(&self, trade_id: &str) -> Result<Option<TradeRecord>, StoreError> {
        Ok(self
            .lock()
            .trades
            .iter()
            .filter(|((_, id), _)| id == trade_id)
            .max_by(|a, b| a.0 .0.cmp(&b.0 .0))
            .map(|(_, t)| t.clone()))
    }

    async fn trades(&self, query: &Query) -> Result<Vec<TradeRecord>, StoreError> {
        let mut found: Vec<TradeRecord> = self
            .lock()
            .trades
            .values()
            .filter(|t| {
                t.instrument == query.instrument
                    && query.contains(t.entry_timestamp)
                    && query.has_run(&t.run_id)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.entry_timestamp, &a.trade_id, &a.run_id).cmp(&(
                b.entry_timestamp,
                &b.trade_id,
                &b.run_id,
            ))
        });
        Ok(query.keep_newest(found))
    }
}

#[async_trait]
impl LessonLog for MemoryJournal {
    async fn record_lesson(&self, lesson: &Lesson) -> Result<(), StoreError> {
        self.lock().lessons.insert(
            (lesson.run_id.clone(), lesson.lesson_id.clone()),
            lesson.clone(),
        );
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
        found.sort_by(|a, b| {
            (b.timestamp, &b.lesson_id, &b.run_id).cmp(&(a.timestamp, &a.lesson_id, &a.run_id))
        });
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

#[async_trait]
impl PromptLog for MemoryJournal {
    async fn record_prompt(&self, prompt: &PromptRecord) -> Result<(), StoreError> {
        self.lock()
            .prompts
            .insert(prompt.prompt_hash.clone(), prompt.clone());
        Ok(())
    }

    async fn prompt(&self, prompt_hash: &str) -> Result<Option<PromptRecord>, StoreError> {
        Ok(self.lock().prompts.get(prompt_hash).cloned())
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

    #[tokio::test]
    async fn decisions_come_back_whole_newest_page_kept_and_an_unwritable_time_refused() {
        use crate::AgentDecision;
        let log = MemoryJournal::new();
        let at = |s: i64| Timestamp::from_secs(1_704_103_200 + s);
        let mut written = Vec::new();
        for s in [120, 0, 60] {
            let mut pm = AgentDecision::new("BUY", 0.1 + 0.2, "trend and flows agree");
            pm.extra.insert("size_pct".into(), serde_json::json!(2.5));
            let mut d = DecisionRecord::new("BTCUSDT".into(), at(s))
                .agent("portfolio_manager", pm)
                .action("BUY");
            d.extra.insert("seq".into(), serde_json::json!(s));
            d.extra.insert(
                "debate".into(),
                serde_json::json!([{"round": 1, "stance": "bull"}]),
            );
            log.record_decision(&d).await.unwrap();
            written.push(d);
        }
        let other = DecisionRecord::new("NIFTY50".into(), at(30));
        log.record_decision(&other).await.unwrap();
        written.sort_by_key(|d| d.timestamp);
        let all = log.decisions(&Query::new("BTCUSDT")).await.unwrap();
        assert_eq!(
            all, written,
            "every field back, oldest first, this instrument only"
        );
        let page = log
            .decisions(&Query::new("BTCUSDT").limit(2))
            .await
            .unwrap();
        assert_eq!(page, written[1..], "the newest two");

        let far = DecisionRecord::new("BTCUSDT".into(), Timestamp::from_millis(i64::MAX));
        let err = log.record_decision(&far).await.unwrap_err();
        assert!(
            err.to_string().contains("outside years 0000 to 9999"),
            "{err}"
        );
        assert_eq!(
            log.decisions(&Query::new("BTCUSDT")).await.unwrap().len(),
            3,
            "the refused one is not kept, and the others still read"
        );
    }
}
