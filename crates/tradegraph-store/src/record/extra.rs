//! How a record's [`Extra`] fields are written into its document without clashing with the
//! record's own fields.
//!
//! Extra fields are flattened into the document. One named like a field of the record, like
//! a field the store keeps in every document (`_id`, MongoDB's id, and `_v`, the write-behind
//! queue's version), or like [`CLASHING_EXTRA`] itself would be written twice, replace the
//! store's field or be read back as the record's field, so it is written under
//! [`CLASHING_EXTRA`] instead and put back among the extra fields when the record is read:
//! nothing is lost and no documented field changes name.

use super::Extra;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// The document field holding the extra fields named like one of the record's own fields (or
/// like this one), as an object.
///
/// ```
/// use tradegraph_store::{DecisionRecord, CLASHING_EXTRA};
/// let mut d = DecisionRecord::new("BTCUSDT".into(), "2024-01-01T10:00:00Z".parse()?);
/// d.extra.insert("decision_id".into(), "other".into());
/// let doc = serde_json::to_value(&d)?;
/// assert_eq!(doc["decision_id"], "BTCUSDT@2024-01-01T10:00:00Z");
/// assert_eq!(doc[CLASHING_EXTRA]["decision_id"], "other");
/// assert_eq!(serde_json::from_value::<DecisionRecord>(doc)?, d);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const CLASHING_EXTRA: &str = "_extra";

/// The fields the store adds to every document it writes (MongoDB's id, the write-behind
/// queue's version).
const STORE_FIELDS: [&str; 2] = ["_id", "_v"];

/// Writes `extra` flattened, except the keys in `own` (and [`CLASHING_EXTRA`] and the store's
/// own fields), which go under [`CLASHING_EXTRA`].
fn write<S: Serializer>(extra: &Extra, own: &[&str], serializer: S) -> Result<S::Ok, S::Error> {
    let clashes =
        |key: &str| key == CLASHING_EXTRA || STORE_FIELDS.contains(&key) || own.contains(&key);
    let mut map = serializer.serialize_map(None)?;
    for (key, value) in extra.iter().filter(|(key, _)| !clashes(key)) {
        map.serialize_entry(key, value)?;
    }
    let nested: Vec<(&String, &Value)> = extra.iter().filter(|(key, _)| clashes(key)).collect();
    if !nested.is_empty() {
        map.serialize_entry(CLASHING_EXTRA, &Nested(&nested))?;
    }
    map.end()
}

/// The clashing extra fields, as one object.
struct Nested<'a>(&'a [(&'a String, &'a Value)]);

impl serde::Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

/// Reads the extra fields, putting those kept under [`CLASHING_EXTRA`] back among them (a
/// [`CLASHING_EXTRA`] that is not an object is an ordinary extra field).
pub(crate) fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Extra, D::Error> {
    let mut extra = Extra::deserialize(deserializer)?;
    if let Some(Value::Object(nested)) = extra.get(CLASHING_EXTRA) {
        let nested = nested.clone();
        extra.remove(CLASHING_EXTRA);
        extra.extend(nested);
    }
    Ok(extra)
}

/// The document fields of each record type, which extra fields must not take.
macro_rules! own_fields {
    ($($name:ident: [$($field:literal),* $(,)?];)*) => {$(
        pub(crate) fn $name<S: Serializer>(extra: &Extra, serializer: S) -> Result<S::Ok, S::Error> {
            write(extra, &[$($field),*], serializer)
        }
    )*};
}

own_fields! {
    agent_decision: ["signal", "confidence", "reasoning"];
    decision: ["timestamp", "instrument", "agent_decisions", "decision_id", "run_id", "action"];
    // `ts`: the learner's older name of `timestamp`. An extra `ts` goes under `_extra`, so a
    // document never holds both (an old one that does still reads: see `lesson::read`).
    lesson: [
        "lesson_id", "instrument", "timestamp", "agent", "text", "trade_id", "run_id",
        "situation", "return_pct", "prompt_hash", "answer", "ts",
    ];
    alert: [
        "alert_id", "instrument", "timestamp", "kind", "key", "severity", "message", "recovered",
    ];
    operator_action: [
        "action_id", "instrument", "timestamp", "action", "source", "outcome", "message",
    ];
    trade: [
        "trade_id", "instrument", "status", "entry_timestamp", "entry_price", "quantity",
        "confidence", "agent_decisions", "side", "decision_id", "run_id", "stop_loss", "take_profit",
        "exit_timestamp", "exit_price", "realized_pnl",
    ];
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{
        AgentDecision, AlertRecord, DecisionRecord, Lesson, OperatorAction, RunId, Situation,
        TradeRecord,
    };
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;
    use tradegraph_core::{Decimal, Side, Symbol, Timestamp};

    /// The document keys of `record` (written with no extra fields).
    fn keys<R: Serialize>(record: &R) -> Vec<String> {
        let mut keys: Vec<String> = match serde_json::to_value(record).unwrap() {
            Value::Object(doc) => doc.keys().cloned().collect(),
            other => panic!("not a document: {other}"),
        };
        keys.sort();
        keys
    }

    fn sorted(fields: &[&str]) -> Vec<String> {
        let mut fields: Vec<String> = fields.iter().map(|&f| f.to_owned()).collect();
        fields.sort();
        fields
    }

    /// Every key of `record` (and `_extra`, and one more) as an extra field survives a round trip.
    fn survives<R: Serialize + DeserializeOwned + PartialEq + Debug>(
        record: &mut R,
        extra: fn(&mut R) -> &mut Extra,
    ) {
        for key in keys(record) {
            extra(record).insert(key.clone(), Value::String(format!("extra {key}")));
        }
        extra(record).insert(CLASHING_EXTRA.to_owned(), Value::from(1));
        // The store's own fields of a document: MongoDB's id, the write-behind's version.
        extra(record).insert("_id".to_owned(), Value::from("extra id"));
        extra(record).insert("_v".to_owned(), Value::from(7));
        extra(record).insert("plain".to_owned(), Value::Bool(true));
        let line = serde_json::to_string(record).unwrap();
        let back: R = serde_json::from_str(&line).unwrap();
        assert_eq!(&back, record, "{line}");
        assert_eq!(serde_json::to_string(&back).unwrap(), line);
    }

    fn at() -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000)
    }

    #[test]
    fn the_lists_are_the_records_fields_and_clashing_extra_fields_survive() {
        let view = || AgentDecision::new("BUY", 0.5, "why");
        let mut a = view();
        assert_eq!(keys(&a), sorted(&["signal", "confidence", "reasoning"]));
        survives(&mut a, |r| &mut r.extra);

        let mut d = DecisionRecord::new(Symbol::new("BTCUSDT"), at())
            .agent("technical", view())
            .action("BUY");
        d.run_id = RunId::new(at());
        assert_eq!(
            keys(&d),
            sorted(&[
                "timestamp",
                "instrument",
                "agent_decisions",
                "decision_id",
                "run_id",
                "action"
            ])
        );
        survives(&mut d, |r| &mut r.extra);

        let mut l = Lesson::new(Symbol::new("BTCUSDT"), at(), "technical", "text")
            .with_trade_id("t")
            .with_situation(Situation::default())
            .with_return_pct(1.5);
        l.run_id = RunId::new(at());
        assert_eq!(
            keys(&l),
            sorted(&[
                "lesson_id",
                "instrument",
                "timestamp",
                "agent",
                "text",
                "trade_id",
                "run_id",
                "situation",
                "return_pct",
            ])
        );
        l.extra.insert("ts".to_owned(), Value::from("extra ts"));
        survives(&mut l, |r| &mut r.extra);

        let mut t = TradeRecord::new(
            "t",
            Symbol::new("BTCUSDT"),
            Side::Buy,
            at(),
            Decimal::ONE,
            Decimal::ONE,
        );
        t.decision_id = Some("d".to_owned());
        t.run_id = RunId::new(at());
        t.stop_loss = Some(Decimal::ONE);
        t.take_profit = Some(Decimal::ONE);
        t.exit_timestamp = Some(at());
        t.exit_price = Some(Decimal::ONE);
        t.realized_pnl = Some(Decimal::ONE);
        assert_eq!(
            keys(&t),
            sorted(&[
                "trade_id",
                "instrument",
                "status",
                "entry_timestamp",
                "entry_price",
                "quantity",
                "confidence",
                "agent_decisions",
                "side",
                "decision_id",
                "run_id",
                "stop_loss",
                "take_profit",
                "exit_timestamp",
                "exit_price",
                "realized_pnl",
            ])
        );
        survives(&mut t, |r| &mut r.extra);

        let mut alert = AlertRecord::new(Symbol::new("BTCUSDT"), at(), 1, "store_down", "k");
        alert.message = "m".to_owned();
        assert_eq!(
            keys(&alert),
            sorted(&[
                "alert_id",
                "instrument",
                "timestamp",
                "kind",
                "key",
                "severity",
                "message",
                "recovered",
            ])
        );
        survives(&mut alert, |r| &mut r.extra);

        let mut action = OperatorAction::new(Symbol::new("BTCUSDT"), at(), 1, "kill_switch.engage")
            .source("127.0.0.1");
        action.message = "m".to_owned();
        assert_eq!(
            keys(&action),
            sorted(&[
                "action_id",
                "instrument",
                "timestamp",
                "action",
                "source",
                "outcome",
                "message",
            ])
        );
        survives(&mut action, |r| &mut r.extra);
    }

    #[test]
    fn a_document_without_clashes_is_written_as_before() {
        let mut d = DecisionRecord::new(Symbol::new("BTCUSDT"), at());
        d.extra.insert("model".to_owned(), Value::from("m"));
        let doc = serde_json::to_value(&d).unwrap();
        assert_eq!(doc["model"], "m");
        assert!(doc.get(CLASHING_EXTRA).is_none());
    }
}
