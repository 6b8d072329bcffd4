//! Bot state and order intents in MongoDB.

use super::document::{date, from_doc, to_doc, Shape};
use super::write::{concern_error, first_write_error};
use super::{MongoConfig, MongoStore, BOT_STATE, ORDER_INTENTS};
use crate::state::{foreign_intent, oldest_first};
use crate::{
    BotStateStore, IntentLog, IntentRecord, IntentStatus, Saved, StateDoc, StateKey, StatePart,
    StoreError,
};
use async_trait::async_trait;
use mongodb::bson::{self, doc, Bson, Document};
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::{Symbol, Timestamp};

/// The dates of an intent document.
const INTENT: Shape = Shape {
    decimals: &[],
    times: &["created_at", "updated_at"],
};

/// Tries of a versioned upsert that lost a race to insert the first document of its key.
const ATTEMPTS: usize = 10;

/// Bot state and order intents in MongoDB, passing the bot-state conformance suite.
///
/// | collection | document | unique key | other indexes |
/// |---|---|---|---|
/// | `bot_state` | `{instrument, part, version, saved_at, body}` | `instrument, part` | |
/// | `order_intents` | `{client_id, instrument, decision_id, status, request, version, created_at, updated_at, order_id, note}` | `client_id` | `instrument, status, created_at` |
///
/// `body` is the state as JSON text (exact for any value: `JSON.parse` it in mongosh); `request`
/// is the order request as a document, its decimals as strings; times are BSON dates.
///
/// Every write is one conditional upsert: the filter is the unique key and `version` lower than
/// the new one, so an older or equal version matches nothing and its insert fails on the unique
/// index, which answers [`Saved::Stale`] with the stored version. Writes are direct (never
/// queued) with a journaled write concern (`j: true`): durable when they return. Cloning shares
/// the connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::mongo::{MongoConfig, MongoState};
/// use tradegraph_core::Symbol;
/// use tradegraph_store::IntentLog;
/// let state = MongoState::connect(&MongoConfig::new("mongodb://127.0.0.1:27017")).await?;
/// let open = state.unsettled_intents(&Symbol::new("BANKNIFTY")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MongoState {
    store: MongoStore,
}

impl MongoState {
    /// A store on `config.uri` and database. Makes no connection yet: fails only for a bad URI.
    pub async fn connect(config: &MongoConfig) -> Result<Self, StoreError> {
        Ok(Self::new(MongoStore::connect(config).await?))
    }

    /// A store sharing `store`'s connection pool and database.
    pub fn new(store: MongoStore) -> Self {
        Self { store }
    }

    /// The store's write concern, journaled.
    fn write_concern(&self) -> Document {
        let mut concern = self.store.write_concern();
        concern.insert("j", true);
        concern
    }

    async fn find_one(
        &self,
        operation: &'static str,
        collection: &str,
        filter: Document,
    ) -> Result<Option<Document>, StoreError> {
        self.store.ready().await?;
        let coll = self.store.db.collection::<Document>(collection);
        self.store
            .run(operation, || coll.find_one(filter.clone()))
            .await
    }

    /// Writes `document` unless the document of the unique `key` has a version `>= version` or
    /// differs from `also` (for intents: another instrument); then answers the stored document.
    async fn versioned_upsert(
        &self,
        collection: &'static str,
        key: Document,
        also: Document,
        version: i64,
        document: Document,
        what: &str,
    ) -> Result<Option<Document>, StoreError> {
        let operation = "versioned upsert";
        self.store.ready().await?;
        let mut filter = key.clone();
        filter.extend(also.clone());
        filter.insert("version", doc! {"$lt": version});
        // Set once a send may have been applied without our hearing so.
        let mut uncertain = false;
        for _ in 0..ATTEMPTS {
            let command = doc! {
                "update": collection,
                "updates": [{"q": filter.clone(), "u": document.clone(), "upsert": true}],
                "ordered": true,
                "writeConcern": self.write_concern(),
            };
            let (reply, resent) = self
                .store
                .write_command(operation, command, || what.to_owned())
                .await?;
            uncertain |= resent;
            concern_refusal(&reply, what)?;
            match first_write_error(&reply) {
                None => return Ok(None),
                // Nothing matched, and the insert hit the unique key: a version as high is
                // stored, or another writer inserted the first document of this key just before.
                Some((_, 11000, _)) => {
                    let Some(stored) = self.find_one(operation, collection, key.clone()).await?
                    else {
                        continue;
                    };
                    let stored_version = stored.get("version").and_then(Bson::as_i64);
                    // This very write, applied by an attempt whose answer was lost (a stepdown).
                    let ours = uncertain
                        && stored_version == Some(version)
                        && document.iter().all(|(f, v)| stored.get(f) == Some(v));
                    if ours {
                        return Ok(None);
                    }
                    let higher = stored_version.is_none_or(|v| v >= version);
                    let differs = also.iter().any(|(f, v)| stored.get(f) != Some(v));
                    if higher || differs {
                        return Ok(Some(stored));
                    }
                }
                Some((_, code, message)) => {
                    return Err(StoreError::Refused {
                        backend: "mongodb",
                        record: what.to_owned(),
                        reason: format!("code {code}: {message}"),
                    })
                }
            }
        }
        Err(StoreError::Refused {
            backend: "mongodb",
            record: what.to_owned(),
            reason: format!(
                "the write lost {ATTEMPTS} races in a row with writers of the same key; try again"
            ),
        })
    }
}

/// A version as MongoDB stores it.
fn version(what: &str, version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| {
        StoreError::encode(
            what,
            format!("version {version} is above MongoDB's 64-bit integers"),
        )
    })
}

/// The stored version of a document (0 when unreadable).
fn stored_version(stored: &Document) -> u64 {
    stored
        .get("version")
        .and_then(Bson::as_i64)
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0)
}

fn state_filter(key: &StateKey) -> Document {
    doc! {"instrument": key.instrument.as_str(), "part": key.part.as_str()}
}

fn state_doc(doc: &StateDoc) -> Result<Document, StoreError> {
    let what = format!("bot state {}", doc.key);
    let body = serde_json::to_string(&doc.body).map_err(|e| StoreError::encode(&what, e))?;
    Ok(doc! {
        "instrument": doc.key.instrument.as_str(),
        "part": doc.key.part.as_str(),
        "version": version(&what, doc.version)?,
        "saved_at": date(doc.saved_at),
        "body": body,
    })
}

fn state_from(key: &StateKey, stored: &Document) -> Result<StateDoc, StoreError> {
    let what = format!("{BOT_STATE} {key}");
    let bad = |e: &dyn std::fmt::Display| StoreError::decode(&what, e);
    let part: StatePart = bson::from_bson(Bson::String(
        stored.get_str("part").map_err(|e| bad(&e))?.to_owned(),
    ))
    .map_err(|e| bad(&e))?;
    let version = stored.get_i64("version").map_err(|e| bad(&e))?;
    let saved_at = stored.get_datetime("saved_at").map_err(|e| bad(&e))?;
    let body = stored.get_str("body").map_err(|e| bad(&e))?;
    Ok(StateDoc {
        key: StateKey::new(stored.get_str("instrument").map_err(|e| bad(&e))?, part),
        version: u64::try_from(version).map_err(|e| bad(&e))?,
        saved_at: Timestamp::from_millis(saved_at.timestamp_millis()),
        body: serde_json::from_str(body).map_err(|e| bad(&e))?,
    })
}

fn intent_from(stored: Document) -> Result<IntentRecord, StoreError> {
    let what = format!(
        "{ORDER_INTENTS} {}",
        stored.get_str("client_id").unwrap_or("?")
    );
    from_doc(stored, &what, &INTENT)
}

#[async_trait]
impl BotStateStore for MongoState {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.find_one("load bot state", BOT_STATE, state_filter(key))
            .await?
            .map(|stored| state_from(key, &stored))
            .transpose()
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let document = state_doc(doc)?;
        let what = format!("bot state {}", doc.key);
        let stored = self
            .versioned_upsert(
                BOT_STATE,
                state_filter(&doc.key),
                Document::new(),
                version(&what, doc.version)?,
                document,
                &what,
            )
            .await?;
        Ok(stored.map_or(Saved::Written, |stored| Saved::Stale {
            stored: stored_version(&stored),
        }))
    }
}

#[async_trait]
impl IntentLog for MongoState {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        let what = format!("order intent {}", intent.client_id);
        let document = to_doc(intent, &what, &INTENT)?;
        let stored = self
            .versioned_upsert(
                ORDER_INTENTS,
                doc! {"client_id": intent.client_id.as_str()},
                doc! {"instrument": intent.instrument.as_str()},
                version(&what, intent.version)?,
                document,
                &what,
            )
            .await?;
        let Some(stored) = stored else {
            return Ok(Saved::Written);
        };
        let owner = stored.get_str("instrument").unwrap_or_default();
        if owner != intent.instrument.as_str() {
            return Err(foreign_intent("mongodb", intent, &Symbol::new(owner)));
        }
        Ok(Saved::Stale {
            stored: stored_version(&stored),
        })
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        self.find_one(
            "find order intent",
            ORDER_INTENTS,
            doc! {"client_id": client_id.as_str()},
        )
        .await?
        .map(intent_from)
        .transpose()
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        self.store.ready().await?;
        let open = [IntentStatus::Pending, IntentStatus::Submitted].map(IntentStatus::as_str);
        let filter = doc! {"instrument": instrument.as_str(), "status": {"$in": open.to_vec()}};
        let coll = self.store.db.collection::<Document>(ORDER_INTENTS);
        let docs: Vec<Document> = self
            .store
            .run("find unsettled order intents", || async {
                let mut cursor = coll
                    .find(filter.clone())
                    .sort(doc! {"created_at": 1, "client_id": 1})
                    .await?;
                let mut docs = Vec::new();
                while cursor.advance().await? {
                    docs.push(cursor.deserialize_current()?);
                }
                Ok(docs)
            })
            .await?;
        let mut open = docs
            .into_iter()
            .map(intent_from)
            .collect::<Result<Vec<_>, _>>()?;
        oldest_first(&mut open);
        Ok(open)
    }
}

/// A `writeConcernError` in the reply of a state write, read as the batched writes read it:
/// an outage for a transient code or a `wtimeout` (saved again later), else a refusal.
fn concern_refusal(reply: &Document, what: &str) -> Result<(), StoreError> {
    match concern_error(reply, what)? {
        Some((code, reason)) => Err(StoreError::Refused {
            backend: "mongodb",
            record: what.to_owned(),
            reason: format!("code {code}: {reason}"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod concern_tests {
    use super::*;

    /// Replication not caught up in time (`wtimeout`, 64) or a "not now" code is an outage:
    /// the state is saved again later, not refused for good; other codes refuse it.
    #[test]
    fn a_state_write_concern_timeout_is_an_outage_not_a_refusal() {
        for code in [64, 91, 189, 11600, 10107] {
            let reply = doc! {"n": 1, "ok": 1.0,
            "writeConcernError": {"code": code, "errmsg": "waiting for replication timed out"}};
            match concern_refusal(&reply, "bot_state BTCUSDT") {
                Err(e @ StoreError::Unavailable { .. }) => {
                    assert!(e.is_transient());
                    assert!(e.to_string().contains(&format!("code {code}")), "{e}");
                }
                other => panic!("code {code}: {other:?}"),
            }
        }
        for code in [79, 100] {
            let reply = doc! {"n": 1, "ok": 1.0,
            "writeConcernError": {"code": code, "errmsg": "unsatisfiable"}};
            match concern_refusal(&reply, "bot_state BTCUSDT") {
                Err(e @ StoreError::Refused { .. }) => assert!(!e.is_transient()),
                other => panic!("code {code}: {other:?}"),
            }
        }
        assert!(concern_refusal(&doc! {"n": 1, "ok": 1.0}, "bot_state BTCUSDT").is_ok());
    }
}
