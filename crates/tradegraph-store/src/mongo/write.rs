//! Batched, idempotent writes: each record is an upsert on its unique key, sent as one `update`
//! command per run of records of the same collection (MongoDB 4.0 has no cross-collection bulk
//! write), in order.

use super::document::{self, candle_doc, candle_key, to_doc};
use super::{MongoStore, AGENT_DECISIONS, LESSONS, OHLC_HISTORY, TRADES_EXECUTED};
use crate::behind::{Record, RecordSink, Rejected};
use crate::StoreError;
use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

/// Keeps each command well under MongoDB's 16 MB limit.
const MAX_COMMAND_BYTES: usize = 8 * 1024 * 1024;

struct Upsert {
    collection: &'static str,
    filter: Document,
    doc: Document,
    bytes: usize,
}

fn upsert(record: &Record) -> Result<Upsert, StoreError> {
    let what = record.describe();
    let (collection, filter, doc) = match record {
        Record::Candle { instrument, candle } => (
            OHLC_HISTORY,
            candle_key(instrument, candle.timeframe, candle.open_time),
            candle_doc(instrument, candle)?,
        ),
        Record::Decision(d) => (
            AGENT_DECISIONS,
            doc! {"decision_id": &d.decision_id},
            to_doc(d, &what, &document::DECISION)?,
        ),
        Record::Trade(t) => (
            TRADES_EXECUTED,
            doc! {"trade_id": &t.trade_id},
            to_doc(t, &what, &document::TRADE)?,
        ),
        Record::Lesson(l) => (
            LESSONS,
            doc! {"lesson_id": &l.lesson_id},
            to_doc(l, &what, &document::LESSON)?,
        ),
    };
    let bytes = mongodb::bson::to_vec(&doc).map_or(0, |v| v.len()) * 2;
    Ok(Upsert {
        collection,
        filter,
        doc,
        bytes,
    })
}

/// The first write error of an `update` reply: `(index, code, message)`.
pub(super) fn first_write_error(reply: &Document) -> Option<(usize, i32, String)> {
    let errors = reply.get_array("writeErrors").ok()?;
    let first = errors.first()?.as_document()?;
    let index = first
        .get_i32("index")
        .ok()
        .and_then(|i| usize::try_from(i).ok())?;
    let code = first.get_i32("code").unwrap_or(0);
    let message = first.get_str("errmsg").unwrap_or("").to_owned();
    Some((index, code, message))
}

impl MongoStore {
    /// Upserts records of one collection, in order; refused ones are reported in `rejected`.
    async fn upsert_run(
        &self,
        run: &[(usize, Upsert)],
        records: &[Record],
        rejected: &mut Rejected,
    ) -> Result<(), StoreError> {
        let Some(first) = run.first() else {
            return Ok(());
        };
        let collection = first.1.collection;
        let (mut start, mut retried) = (0, None);
        while start < run.len() {
            let (mut updates, mut size) = (Vec::new(), 0);
            for (_, u) in &run[start..] {
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
                "ordered": true,
                "writeConcern": self.write_concern.clone(),
            };
            let reply = self.run("upsert", self.db.run_command(command)).await?;
            if let Ok(wce) = reply.get_document("writeConcernError") {
                return Err(StoreError::Refused {
                    backend: "mongodb",
                    record: collection.to_owned(),
                    reason: format!("write concern: {wce}"),
                });
            }
            match first_write_error(&reply) {
                None => start += sent,
                // Two writers upserting the same new key at once: the loser retries once.
                Some((i, 11000, _)) if retried != Some(start + i) => {
                    retried = Some(start + i);
                    start += i;
                }
                Some((i, code, message)) => {
                    let (original, _) = &run[start + i];
                    rejected.push((
                        *original,
                        StoreError::Refused {
                            backend: "mongodb",
                            record: records[*original].describe(),
                            reason: format!("code {code}: {message}"),
                        },
                    ));
                    start += i + 1;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl RecordSink for MongoStore {
    async fn write_records(&self, records: &[Record]) -> Result<Rejected, StoreError> {
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
        Ok(rejected)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        MongoStore::ping(self).await
    }
}
