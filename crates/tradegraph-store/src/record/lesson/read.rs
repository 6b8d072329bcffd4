//! Reading a lesson in every form one was written in.
//!
//! - a `lessons` document, with or without `situation` and `return_pct` (written as extra fields
//!   of those names before they were typed, so the document is the same);
//! - the learning agent's older lesson, kept in the learner's saved state and in checkpoints:
//!   `ts` for the time, no `lesson_id` and no `agent` (the learning agent's, keyed like
//!   [`Lesson::new`] keys it).

use super::{Lesson, Situation};
use crate::record::Extra;
use serde::Deserialize;
use serde_json::Value;
use tradegraph_core::{Symbol, Timestamp};

/// The agent of the learner's older lessons, which did not name one.
const LEARNING: &str = "learning";

/// A lesson as read, before the missing fields of an older form are filled in.
#[derive(Deserialize)]
pub(super) struct Stored {
    #[serde(default)]
    lesson_id: Option<String>,
    instrument: Symbol,
    #[serde(default)]
    timestamp: Option<Timestamp>,
    /// The older form's time, used only without `timestamp`; next to a `timestamp` it is an
    /// extra field the runtime once flattened into the document, and stays one.
    #[serde(default)]
    ts: Option<Value>,
    #[serde(default)]
    agent: Option<String>,
    text: String,
    #[serde(default)]
    trade_id: Option<String>,
    #[serde(default)]
    run_id: crate::RunId,
    #[serde(default)]
    situation: Option<Situation>,
    #[serde(default)]
    return_pct: Option<f64>,
    #[serde(default)]
    prompt_hash: Option<String>,
    #[serde(default)]
    answer: Option<String>,
    #[serde(flatten, default, deserialize_with = "crate::record::extra::read")]
    extra: Extra,
}

impl TryFrom<Stored> for Lesson {
    type Error = String;

    fn try_from(s: Stored) -> Result<Self, String> {
        let mut extra = s.extra;
        let timestamp = match (s.timestamp, s.ts) {
            (Some(timestamp), ts) => {
                if let Some(ts) = ts {
                    extra.insert("ts".to_owned(), ts);
                }
                timestamp
            }
            (None, Some(ts)) => Timestamp::deserialize(ts).map_err(|e| {
                format!("a lesson's `ts` (its time in the older form) is not a time: {e}")
            })?,
            (None, None) => {
                return Err(
                    "a lesson has no `timestamp` (nor the older form's `ts`): the document is \
                     not a lesson; remove it from `lessons`"
                        .to_owned(),
                )
            }
        };
        let agent = s.agent.unwrap_or_else(|| LEARNING.to_owned());
        Ok(Self {
            lesson_id: s
                .lesson_id
                .unwrap_or_else(|| Lesson::key(&s.instrument, timestamp, &agent)),
            instrument: s.instrument,
            timestamp,
            agent,
            text: s.text,
            trade_id: s.trade_id,
            run_id: s.run_id,
            situation: s.situation,
            return_pct: s.return_pct,
            prompt_hash: s.prompt_hash,
            answer: s.answer,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn situation() -> Situation {
        Situation {
            rsi: 72.0,
            trend_pct: 1.5,
            volatility_pct: 0.4,
            sentiment: 0.3,
        }
    }

    #[test]
    fn a_document_written_with_the_situation_as_extra_fields_reads_them_typed() {
        // What the runtime wrote before: the learner's figures as extra fields of the document.
        let doc = json!({
            "lesson_id": "BTCUSDT@2024-03-04T10:00:00Z#learning",
            "instrument": "BTCUSDT",
            "timestamp": "2024-03-04T10:00:00Z",
            "agent": "learning",
            "text": "wait for the pullback",
            "situation": {"rsi": 72.0, "trend_pct": 1.5, "volatility_pct": 0.4, "sentiment": 0.3},
            "return_pct": -0.8,
            "prompt_version": "v3",
        });
        let l: Lesson = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(l.situation, Some(situation()));
        assert_eq!(l.return_pct, Some(-0.8));
        assert_eq!(l.trade_id, None);
        assert_eq!(l.extra.len(), 1, "only the unknown field stays extra");
        assert_eq!(l.extra["prompt_version"], "v3");
        assert_eq!(
            serde_json::to_value(&l).unwrap(),
            doc,
            "written back the same"
        );
    }

    #[test]
    fn a_document_without_situation_nor_return_reads_with_neither() {
        let doc = json!({
            "lesson_id": "NIFTY50@2024-03-04T10:00:00Z#all",
            "instrument": "NIFTY50",
            "timestamp": "2024-03-04T10:00:00Z",
            "agent": "all",
            "text": "expiry days whipsaw",
            "trade_id": "t-9",
        });
        let l: Lesson = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!((l.situation, l.return_pct), (None, None));
        assert_eq!(l.trade_id.as_deref(), Some("t-9"));
        assert_eq!(l.distance(&situation()), f64::INFINITY);
        assert_eq!(serde_json::to_value(&l).unwrap(), doc);
    }

    #[test]
    fn a_return_written_as_null_reads_as_unknown() {
        // `serde_json::json!` wrote a NaN return as null.
        let doc = json!({
            "lesson_id": "k", "instrument": "BTCUSDT", "timestamp": "2024-03-04T10:00:00Z",
            "agent": "learning", "text": "t", "return_pct": null,
        });
        let l: Lesson = serde_json::from_value(doc).unwrap();
        assert_eq!(l.return_pct, None);
        assert!(l.extra.is_empty());
    }

    #[test]
    fn the_learners_older_lesson_reads_as_the_learning_agents_keyed_like_new() {
        let old = json!({
            "ts": "2024-03-04T10:00:00Z",
            "instrument": "BTCUSDT",
            "situation": {"rsi": 72.0, "trend_pct": 1.5, "volatility_pct": 0.4, "sentiment": 0.3},
            "text": "wait for the pullback",
            "return_pct": -0.8,
        });
        let l: Lesson = serde_json::from_value(old).unwrap();
        let at: Timestamp = "2024-03-04T10:00:00Z".parse().unwrap();
        let expected = Lesson::new(
            Symbol::new("BTCUSDT"),
            at,
            LEARNING,
            "wait for the pullback",
        )
        .with_situation(situation())
        .with_return_pct(-0.8);
        assert_eq!(l, expected);
        assert_eq!(l.lesson_id, "BTCUSDT@2024-03-04T10:00:00Z#learning");
        assert!(l.extra.is_empty(), "`ts` is the time, not an extra field");
    }

    #[test]
    fn a_document_with_both_timestamp_and_an_extra_ts_keeps_the_ts_as_extra() {
        // Before `ts` was read as the older form's time, the runtime flattened the learner's
        // `ts` into the document as an extra field next to `timestamp`.
        let doc = json!({
            "lesson_id": "BTCUSDT@2024-03-04T10:00:00Z#learning",
            "instrument": "BTCUSDT",
            "timestamp": "2024-03-04T10:00:00Z",
            "ts": "2024-03-01T09:00:00Z",
            "agent": "learning",
            "text": "wait for the pullback",
        });
        let l: Lesson = serde_json::from_value(doc).unwrap();
        assert_eq!(l.timestamp, "2024-03-04T10:00:00Z".parse().unwrap());
        assert_eq!(l.extra["ts"], "2024-03-01T09:00:00Z");
        assert_eq!(l.extra.len(), 1);
        let written = serde_json::to_value(&l).unwrap();
        assert_eq!(written["timestamp"], "2024-03-04T10:00:00Z");
        assert_eq!(
            serde_json::from_value::<Lesson>(written).unwrap(),
            l,
            "and reads back the same"
        );
    }

    #[test]
    fn an_older_lesson_whose_ts_is_not_a_time_is_refused_saying_so() {
        let doc = json!({"instrument": "BTCUSDT", "ts": "yesterday", "text": "t"});
        let err = serde_json::from_value::<Lesson>(doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ts"), "{err}");
    }

    #[test]
    fn a_lesson_without_text_or_time_is_refused() {
        for doc in [
            json!({"instrument": "BTCUSDT", "timestamp": "2024-03-04T10:00:00Z"}),
            json!({"instrument": "BTCUSDT", "text": "t"}),
        ] {
            assert!(serde_json::from_value::<Lesson>(doc).is_err());
        }
    }
}
