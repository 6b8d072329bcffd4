//! Batched, idempotent, versioned writes: each record is a conditional upsert on its unique key,
//! sent as one unordered `update` command per run of records of the same collection (MongoDB 4.0
//! has no cross-collection bulk write).
//!
//! The filter is the unique key and a stored version (`_v`) lower than the record's, or none: a
//! record whose key holds a version as high matches nothing, its insert hits the unique index
//! (duplicate key, 11000), and it is tried once more (the duplicate may be another writer's
//! insert of an older version, racing ours); a second duplicate means a version as high is
//! stored: done, nothing to write (counted, [`MongoStore::superseded`], and logged at warn).
//! Since versions order the writes, the updates of a command need no order among themselves:
//! one round trip writes a batch even when some of it is stale.
//!
//! Per-record errors the server answers "not now" (shutting down, stepping down, not primary)
//! fail the whole call, so that the queue writes the batch again later; other per-record errors
//! are refusals for good. A write concern error is read the same way: "not now" codes (and 64,
//! `wtimeout`) fail the call, others refuse each record sent.

use super::document::{self, candle_doc, candle_key, to_doc, VERSION};
use super::{
    transient_code, MongoStore, AGENT_DECISIONS, ALERTS, LESSONS, OHLC_HISTORY, OPERATOR_ACTIONS,
    PROMPTS, TRADES_EXECUTED,
};
use crate::behind::{Record, RecordSink, Rejected, Versioned};
use crate::{RunId, StoreError};
use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

/// Keeps each command well under MongoDB's 16 MB limit.
const MAX_COMMAND_BYTES: usize = 8 * 1024 * 1024;

/// The duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

struct Upsert {
    collection: &'static str,
    /// The unique key.
    key: Document,
    filter: Document,
    doc: Document,
    bytes: usize,
}

fn upsert(versioned: &Versioned) -> Result<Upsert, StoreError> {
    let record = &versioned.record;
    let what = record.describe();
    let (collection, mut filter, mut doc) = match record {
        Record::Candle { instrument, candle } => (
            OHLC_HISTORY,
            candle_key(instrument, candle.timeframe, candle.open_time),
            candle_doc(instrument, candle)?,
        ),
        Record::Decision(d) => (
            AGENT_DECISIONS,
            run_key(&d.run_id, "decision_id", &d.decision_id),
            to_doc(d, &what, &document::DECISION)?,
        ),
        Record::Trade(t) => (
            TRADES_EXECUTED,
            run_key(&t.run_id, "trade_id", &t.trade_id),
            to_doc(t, &what, &document::TRADE)?,
        ),
        Record::Lesson(l) => (
            LESSONS,
            run_key(&l.run_id, "lesson_id", &l.lesson_id),
            to_doc(l, &what, &document::LESSON)?,
        ),
        Record::Prompt(p) => (
            PROMPTS,
            doc! {"prompt_hash": &p.prompt_hash},
            to_doc(p, &what, &document::PROMPT)?,
        ),
        Record::OperatorAction(a) => (
            OPERATOR_ACTIONS,
            doc! {"action_id": &a.action_id},
            to_doc(a, &what, &document::OPERATOR_ACTION)?,
        ),
        Record::Alert(a) => (
            ALERTS,
            doc! {"alert_id": &a.alert_id},
            to_doc(a, &what, &document::ALERT)?,
        ),
    };
    let key = filter.clone();
    filter.insert("$or", older_than(versioned.version));
    doc.insert(VERSION, versioned.version);
    let bytes = mongodb::bson::to_vec(&doc).map_or(0, |v| v.len()) * 2;
    Ok(Upsert {
        collection,
        key,
        filter,
        doc,
        bytes,
    })
}

/// The key of a record kept per run: its run and its id. A record without a run matches only
/// documents without one (written before runs existed, or by a writer that sets none), and an
/// upsert from this filter inserts none.
fn run_key(run: &RunId, field: &str, id: &str) -> Document {
    if run.is_unset() {
        doc! {"run_id": {"$exists": false}, field: id}
    } else {
        doc! {"run_id": run.as_str(), field: id}
    }
}

/// Stored documents that `version` may replace: a lower version, or none (written before
/// versions existed). A record of unknown version (0, spilled before versions existed) replaces
/// only those, as the last write of them did.
fn older_than(version: i64) -> Bson {
    let lower = if version > 0 {
        doc! {"$lt": version}
    } else {
        doc! {"$lte": 0_i64}
    };
    Bson::Array(vec![
        Bson::Document(doc! {VERSION: lower}),
        Bson::Document(doc! {VERSION: {"$exists": false}}),
    ])
}

/// The first write error of an `update` reply: `(index, code, message)`.
pub(super) fn first_write_error(reply: &Document) -> Option<(usize, i32, String)> {
    write_errors(reply).into_iter().next()
}

/// Every write error of an `update` reply: `(index, code, message)`.
fn write_errors(reply: &Document) -> Vec<(usize, i32, String)> {
    let Ok(errors) = reply.get_array("writeErrors") else {
        return Vec::new();
    };
    errors
        .iter()
        .filter_map(|error| {
            let error = error.as_document()?;
            let index = error
                .get_i32("index")
                .ok()
                .and_then(|i| usize::try_from(i).ok())?;
            let code = error.get_i32("code").unwrap_or(0);
            let message = error.get_str("errmsg").unwrap_or("").to_owned();
            Some((index, code, message))
        })
        .collect()
}

/// How long a write command is made again while a reply says the primary is stepping down (an
/// election takes a few seconds).
const STEPDOWN_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// The stepdown code in a reply's `writeErrors` or `writeConcernError`, if any.
fn stepdown_in(reply: &Document) -> Option<i32> {
    let concern = reply
        .get_document("writeConcernError")
        .ok()
        .and_then(|c| c.get_i32("code").ok());
    write_errors(reply)
        .into_iter()
        .map(|(_, code, _)| code)
        .chain(concern)
        .find(|code| super::stepdown_code(*code))
}

/// The write concern error code of a `wtimeout`: replication did not catch up in time.
const WRITE_CONCERN_FAILED: i32 = 64;

/// The `writeConcernError` of a write's reply, read as [`reply_errors`] says: a transient code
/// (or 64, `wtimeout`) is [`StoreError::Unavailable`] for `record`; any other is its code and
/// reason (`write concern: ...`), a refusal; `None` without one.
pub(crate) fn concern_error(
    reply: &Document,
    record: &str,
) -> Result<Option<(i32, String)>, StoreError> {
    let Ok(wce) = reply.get_document("writeConcernError") else {
        return Ok(None);
    };
    let code = wce.get_i32("code").unwrap_or(0);
    // Each record's reason is prefixed with the code where it is refused.
    let reason = format!("write concern: {}", wce.get_str("errmsg").unwrap_or(""));
    if code == WRITE_CONCERN_FAILED || transient_code(code) {
        return Err(StoreError::Unavailable {
            backend: "mongodb",
            record: record.to_owned(),
            reason: format!("code {code}: {reason}"),
        });
    }
    Ok(Some((code, reason)))
}

/// The per-record errors of an `update` reply of `sent` updates to `collection`: its write
/// errors, and, when the write concern could not be satisfied (`writeConcernError`):
/// - for a transient code (those of the write errors, and 64, `WriteConcernFailed` or
///   `wtimeout`), [`StoreError::Unavailable`]: the batch is written again later;
/// - for any other (79 `UnknownReplWriteConcern`, 100 `UnsatisfiableWriteConcern`, ...), that
///   code for every record sent without its own write error, so that each is refused with the
///   reason.
fn reply_errors(
    reply: &Document,
    collection: &str,
    sent: usize,
) -> Result<Vec<(usize, i32, String)>, StoreError> {
    let mut errors = write_errors(reply);
    let Some((code, reason)) = concern_error(reply, collection)? else {
        return Ok(errors);
    };
    let own: Vec<usize> = errors.iter().map(|e| e.0).collect();
    errors.extend(
        (0..sent)
            .filter(|i| !own.contains(i))
            .map(|i| (i, code, reason.clone())),
    );
    errors.sort_by_key(|e| e.0);
    Ok(errors)
}

/// What a per-record write error means.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Not now (shutting down, stepping down, not primary): the batch is written again later.
    Transient,
    /// The unique key holds a version as high, or another writer's insert raced ours.
    Duplicate,
    /// Refused for good.
    Refused,
}

fn outcome(code: i32) -> Outcome {
    if code == DUPLICATE_KEY {
        Outcome::Duplicate
    } else if transient_code(code) {
        Outcome::Transient
    } else {
        Outcome::Refused
    }
}

impl MongoStore {
    /// Upserts records of one collection; refused ones are reported in `rejected`.
    async fn upsert_run(
        &self,
        run: &[(usize, Upsert)],
        records: &[Versioned],
        rejected: &mut Rejected,
    ) -> Result<(), StoreError> {
        let mut pending: Vec<usize> = (0..run.len()).collect();
        for attempt in 0..2 {
            let mut duplicates = Vec::new();
            let mut rest = pending.as_slice();
            while !rest.is_empty() {
                let (sent, errors) = self.send(run, rest).await?;
                for (i, code, message) in errors {
                    let Some(&at) = rest.get(i) else {
                        continue;
                    };
                    let original = run[at].0;
                    let reason = format!("code {code}: {message}");
                    match outcome(code) {
                        Outcome::Transient => {
                            return Err(StoreError::Unavailable {
                                backend: "mongodb",
                                record: records[original].record.describe(),
                                reason,
                            })
                        }
                        // A version as high is stored: nothing to write; otherwise another
                        // unique index refuses it (one a user added, or an earlier version's
                        // that could not be dropped): rejected, kept to write again.
                        Outcome::Duplicate if attempt > 0 => {
                            if !self.note_superseded(&run[at].1, &records[original]).await {
                                rejected.push((
                                    original,
                                    StoreError::Refused {
                                        backend: "mongodb",
                                        record: records[original].record.describe(),
                                        reason: format!(
                                            "{reason} (no version as high is stored under its \
                                             key: another unique index refuses it)"
                                        ),
                                    },
                                ));
                            }
                        }
                        Outcome::Duplicate => duplicates.push(at),
                        Outcome::Refused => rejected.push((
                            original,
                            StoreError::Refused {
                                backend: "mongodb",
                                record: records[original].record.describe(),
                                reason,
                            },
                        )),
                    }
                }
                rest = &rest[sent..];
            }
            pending = duplicates;
            if pending.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Counts and logs (warn, with both versions) a record not written because its key holds a
    /// higher version. The very version stored is the record itself, written before (a batch
    /// sent again after a stepdown, a spill file written back): nothing to count. `false` when
    /// no version as high is stored under its key (or it cannot be read): the duplicate is
    /// another index's, and the record was not written.
    async fn note_superseded(&self, upsert: &Upsert, record: &Versioned) -> bool {
        let stored = self
            .db
            .collection::<Document>(upsert.collection)
            .find_one(upsert.key.clone())
            .projection(doc! {VERSION: 1})
            .await;
        if let Ok(Some(doc)) = &stored {
            if doc.get_i64(VERSION).ok() == Some(record.version) {
                tracing::debug!(record = %record.record.describe(), "already stored: written by an earlier send");
                return true;
            }
        }
        let as_high = matches!(&stored, Ok(Some(doc)) if doc.get_i64(VERSION).is_ok_and(|v| v >= record.version));
        if !as_high {
            return false;
        }
        self.superseded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stored = match stored {
            Ok(Some(doc)) => doc
                .get_i64(VERSION)
                .map_or_else(|_| "none".to_owned(), |v| v.to_string()),
            Ok(None) => "none".to_owned(),
            Err(e) => format!("unknown ({e})"),
        };
        tracing::warn!(
            record = %record.record.describe(),
            version = record.version,
            stored_version = %stored,
            "write superseded: a version as high is stored; if this run's versions went back \
             (clock stepped back, version file lost), raise `<spill file>.version` above the stored one"
        );
        true
    }

    /// Sends the first updates of `positions` (of `run`) that fit in one command, unordered;
    /// answers how many were sent and the write errors, indexed within those sent.
    async fn send(
        &self,
        run: &[(usize, Upsert)],
        positions: &[usize],
    ) -> Result<(usize, Vec<(usize, i32, String)>), StoreError> {
        let Some(&first) = positions.first() else {
            return Ok((0, Vec::new()));
        };
        let collection = run[first].1.collection;
        let (mut updates, mut size) = (Vec::new(), 0);
        for &at in positions {
            let u = &run[at].1;
            if !updates.is_empty() && size + u.bytes > MAX_COMMAND_BYTES {
                break;
            }
            size += u.bytes;
            updates.push(Bson::Document(
                doc! {"q": u.filter.clone(), "u": u.doc.clone(), "upsert": true},
            ));
        }
        let sent = updates.len();
        let command = doc! {
            "update": collection,
            "updates": updates,
            "ordered": false,
            "writeConcern": self.write_concern(),
        };
        let (reply, _) = self
            .write_command("upsert", command, || collection.to_owned())
            .await?;
        Ok((sent, reply_errors(&reply, collection, sent)?))
    }

    /// Sends an idempotent write command (upserts by key, version-checked), made again while
    /// the primary steps down, whether the driver says so ([`run_counted`](Self::run_counted))
    /// or the reply does (a stepdown code in `writeErrors` or `writeConcernError`), for at most
    /// [`STEPDOWN_WINDOW`]. Answers the reply and whether an earlier send may have been applied
    /// unheard. Still stepping down after the window: [`StoreError::Unavailable`] (transient).
    pub(crate) async fn write_command(
        &self,
        operation: &'static str,
        command: Document,
        what: impl Fn() -> String,
    ) -> Result<(Document, bool), StoreError> {
        let started = tokio::time::Instant::now();
        let mut resent = false;
        let mut round = 0;
        loop {
            round += 1;
            let (reply, attempts) = self
                .run_counted(operation, || self.db.run_command(command.clone()))
                .await?;
            resent |= attempts > 1;
            let Some(code) = stepdown_in(&reply) else {
                return Ok((reply, resent));
            };
            // It may have been applied by the members that still had it.
            resent = true;
            if started.elapsed() >= STEPDOWN_WINDOW {
                return Err(StoreError::Unavailable {
                    backend: "mongodb",
                    record: what(),
                    reason: format!(
                        "the primary was stepping down (code {code}) for {} s of tries",
                        STEPDOWN_WINDOW.as_secs()
                    ),
                });
            }
            tokio::time::sleep(super::STEPDOWN_BACKOFF.delay(round)).await;
        }
    }
}

#[async_trait]
impl RecordSink for MongoStore {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        self.ready().await?;
        let mut rejected = Vec::new();
        let mut upserts = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            match upsert(record) {
                Ok(u) => upserts.push((i, u)),
                Err(e) => rejected.push((i, e)),
            }
        }
        let mut rest = upserts.as_slice();
        while let Some((_, first)) = rest.first() {
            let same = rest
                .iter()
                .take_while(|(_, u)| u.collection == first.collection)
                .count();
            self.upsert_run(&rest[..same], records, &mut rejected)
                .await?;
            rest = &rest[same..];
        }
        rejected.sort_by_key(|(i, _)| *i);
        Ok(rejected)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        MongoStore::ping(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepdown_and_shutdown_codes_are_transient_not_refusals() {
        for code in [91, 189, 10107, 11600, 11602, 13435, 13436] {
            assert_eq!(outcome(code), Outcome::Transient, "code {code}");
        }
        assert_eq!(outcome(11000), Outcome::Duplicate);
        for code in [2, 52, 10334, 17419] {
            assert_eq!(outcome(code), Outcome::Refused, "code {code}");
        }
    }

    #[test]
    fn every_write_error_of_a_reply_is_read() {
        // MongoDB 4.0's answer to an unordered update while its primary steps down.
        let reply = doc! {
            "n": 0, "nModified": 0, "ok": 1.0,
            "writeErrors": [
                {"index": 0, "code": 189, "errmsg": "Not primary while writing to t.c"},
                {"index": 2, "code": 52, "errmsg": "The dollar ($) prefixed field"},
            ],
        };
        assert_eq!(
            write_errors(&reply),
            vec![
                (0, 189, "Not primary while writing to t.c".to_owned()),
                (2, 52, "The dollar ($) prefixed field".to_owned()),
            ]
        );
        assert_eq!(first_write_error(&reply).map(|e| e.1), Some(189));
        assert!(write_errors(&doc! {"n": 3, "ok": 1.0}).is_empty());
    }

    #[test]
    fn a_record_replaces_only_lower_or_missing_versions() {
        assert_eq!(
            older_than(7),
            Bson::Array(vec![
                Bson::Document(doc! {"_v": {"$lt": 7_i64}}),
                Bson::Document(doc! {"_v": {"$exists": false}}),
            ])
        );
        assert_eq!(
            older_than(0),
            Bson::Array(vec![
                Bson::Document(doc! {"_v": {"$lte": 0_i64}}),
                Bson::Document(doc! {"_v": {"$exists": false}}),
            ])
        );
    }

    #[test]
    fn a_transient_write_concern_error_is_retried_not_refused() {
        for code in [64, 91, 189, 10107, 11600, 11602, 13435, 13436] {
            let reply = doc! {
                "n": 2, "nModified": 0, "ok": 1.0,
                "writeConcernError": {"code": code, "errmsg": "waiting for replication timed out"},
            };
            match reply_errors(&reply, "trades_executed", 2) {
                Err(StoreError::Unavailable { reason, .. }) => {
                    assert!(reason.contains(&format!("code {code}")), "{reason}")
                }
                other => panic!("code {code}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_lasting_write_concern_error_refuses_each_record_sent() {
        for code in [79, 100] {
            let reply = doc! {
                "n": 3, "nModified": 0, "ok": 1.0,
                "writeErrors": [{"index": 1, "code": 52, "errmsg": "bad field"}],
                "writeConcernError": {"code": code, "errmsg": "unknown replication write concern"},
            };
            let errors = reply_errors(&reply, "lessons", 3).unwrap();
            let codes: Vec<(usize, i32)> = errors.iter().map(|e| (e.0, e.1)).collect();
            // Each record keeps its own write error; the others carry the write concern's.
            assert_eq!(codes, vec![(0, code), (1, 52), (2, code)], "code {code}");
            assert!(errors[0].2.contains("write concern"), "{}", errors[0].2);
            assert!(errors
                .iter()
                .all(|(_, c, _)| outcome(*c) == Outcome::Refused));
        }
        let fine = doc! {"n": 1, "ok": 1.0};
        assert!(reply_errors(&fine, "lessons", 1).unwrap().is_empty());
    }
}
