//! Graph checkpoints in MongoDB.

use super::document::date;
use super::{MongoConfig, MongoStore, CHECKPOINTS, CHECKPOINT_THREADS};
use crate::StoreError;
use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;
use std::marker::PhantomData;
use tradegraph_core::Timestamp;
use tradegraph_graph::checkpoint::{codec, CheckpointError, PendingWrite};
use tradegraph_graph::{Checkpoint, CheckpointId, Checkpointer, GraphState};

/// Graph checkpoints in MongoDB, passing the engine's conformance suite.
///
/// One document per checkpoint in `checkpoints`: the checkpoint itself in `data` (the engine's
/// JSON codec, as a string, so that any state round-trips exactly), pending writes in `writes`
/// by task index, and readable fields beside them (`thread_id`, `checkpoint_id`, `seq`,
/// `parent`, `run_id`, `graph`, `source`, `step`, `created_at`, `finished`). A per-thread
/// counter in `checkpoint_threads` orders them. Keeps every checkpoint unless told otherwise.
/// Cloning shares the connection pool.
///
/// ```no_run
/// # async fn demo<S: tradegraph_graph::GraphState>(graph: tradegraph_graph::CompiledGraph<S>) -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::mongo::{MongoCheckpointer, MongoConfig};
/// let checkpoints = MongoCheckpointer::connect(&MongoConfig::new("mongodb://127.0.0.1:27017")).await?;
/// let graph = graph.with_checkpointer(checkpoints);
/// # Ok(()) }
/// ```
pub struct MongoCheckpointer<S> {
    store: MongoStore,
    keep_last: Option<u64>,
    _state: PhantomData<fn() -> S>,
}

impl<S> Clone for MongoCheckpointer<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            keep_last: self.keep_last,
            _state: PhantomData,
        }
    }
}

fn backend(operation: &'static str) -> impl Fn(StoreError) -> CheckpointError {
    move |e| e.into_checkpoint("mongodb", operation)
}

impl<S: GraphState> MongoCheckpointer<S> {
    /// A checkpointer on `config.uri` and database. Makes no connection yet.
    pub async fn connect(config: &MongoConfig) -> Result<Self, StoreError> {
        Ok(Self::new(MongoStore::connect(config).await?))
    }

    /// A checkpointer sharing `store`'s connection and database.
    pub fn new(store: MongoStore) -> Self {
        Self {
            store,
            keep_last: None,
            _state: PhantomData,
        }
    }

    /// Keeps the newest `n` checkpoints per thread (at least 1).
    #[must_use]
    pub fn keep_last(mut self, n: u64) -> Self {
        self.keep_last = Some(n.max(1));
        self
    }

    fn collection(&self) -> mongodb::Collection<Document> {
        self.store.db.collection(CHECKPOINTS)
    }

    async fn find(
        &self,
        filter: Document,
        limit: i64,
    ) -> Result<Vec<Checkpoint<S>>, CheckpointError> {
        self.store
            .ready()
            .await
            .map_err(backend("read checkpoints"))?;
        let coll = self.collection();
        let docs: Vec<Document> = self
            .store
            .run("find checkpoints", || async {
                let mut cursor = coll
                    .find(filter.clone())
                    .sort(doc! {"seq": -1})
                    .limit(limit)
                    .await?;
                let mut docs = Vec::new();
                while cursor.advance().await? {
                    docs.push(cursor.deserialize_current()?);
                }
                Ok(docs)
            })
            .await
            .map_err(backend("read checkpoints"))?;
        docs.iter().map(decode).collect()
    }
}

fn decode<S: GraphState>(doc: &Document) -> Result<Checkpoint<S>, CheckpointError> {
    let id = doc.get_str("checkpoint_id").unwrap_or("?").to_owned();
    let data = doc.get_str("data").map_err(|e| CheckpointError::Decode {
        id: id.clone(),
        message: e.to_string(),
    })?;
    let mut checkpoint: Checkpoint<S> = codec::decode(data.as_bytes())?;
    if let Ok(writes) = doc.get_document("writes") {
        for (task, json) in writes {
            let Bson::String(json) = json else { continue };
            let write: PendingWrite<S::Update> =
                serde_json::from_str(json).map_err(|e| CheckpointError::Decode {
                    id: id.clone(),
                    message: format!("pending write of task {task}: {e}"),
                })?;
            checkpoint.pending_writes.retain(|w| w.task != write.task);
            checkpoint.pending_writes.push(write);
        }
    }
    checkpoint.pending_writes.sort_by_key(|w| w.task);
    Ok(checkpoint)
}

#[async_trait]
impl<S: GraphState> Checkpointer<S> for MongoCheckpointer<S> {
    async fn put(&self, checkpoint: Checkpoint<S>) -> Result<(), CheckpointError> {
        let data = codec::encode(&checkpoint)?;
        let data = String::from_utf8(data).map_err(|e| CheckpointError::Decode {
            id: checkpoint.id.to_string(),
            message: e.to_string(),
        })?;
        self.store
            .ready()
            .await
            .map_err(backend("put a checkpoint"))?;
        let thread = checkpoint.thread_id.as_str();
        let counters = self.store.db.collection::<Document>(CHECKPOINT_THREADS);
        let counter = self
            .store
            .run(
                "count checkpoints",
                // A retry after a stepdown may count twice: ids stay in order, with a gap.
                || {
                    counters
                        .find_one_and_update(doc! {"_id": thread}, doc! {"$inc": {"seq": 1_i64}})
                        .upsert(true)
                        .return_document(ReturnDocument::After)
                },
            )
            .await
            .map_err(backend("put a checkpoint"))?;
        let seq = counter.and_then(|d| d.get_i64("seq").ok()).unwrap_or(0);
        let created =
            Timestamp::from_millis(i64::try_from(checkpoint.created_at_ms).unwrap_or(i64::MAX));
        let document = doc! {
            "thread_id": thread,
            "checkpoint_id": checkpoint.id.as_str(),
            "seq": seq,
            "parent": checkpoint.parent.as_ref().map(|p| p.as_str()),
            "run_id": &checkpoint.run_id,
            "graph": &checkpoint.graph,
            "source": serde_json::to_value(checkpoint.source).ok().and_then(|v| v.as_str().map(str::to_owned)),
            "step": i64::try_from(checkpoint.progress.steps).unwrap_or(i64::MAX),
            "created_at": date(created),
            "finished": checkpoint.is_finished(),
            "data": data,
            "writes": {},
        };
        let coll = self.collection();
        let filter = doc! {"thread_id": thread, "checkpoint_id": checkpoint.id.as_str()};
        self.store
            .run("put a checkpoint", || {
                coll.replace_one(filter.clone(), document.clone())
                    .upsert(true)
            })
            .await
            .map_err(backend("put a checkpoint"))?;
        if let Some(keep) = self.keep_last {
            let below = seq - i64::try_from(keep).unwrap_or(i64::MAX);
            self.store
                .run("trim checkpoints", || {
                    coll.delete_many(doc! {"thread_id": thread, "seq": {"$lte": below}})
                })
                .await
                .map_err(backend("trim checkpoints"))?;
        }
        Ok(())
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        id: &CheckpointId,
        writes: Vec<PendingWrite<S::Update>>,
    ) -> Result<(), CheckpointError> {
        let mut set = Document::new();
        for write in &writes {
            let json = serde_json::to_string(write).map_err(|e| CheckpointError::Decode {
                id: id.to_string(),
                message: format!(
                    "cannot encode the pending write of task {}: {e}",
                    write.task
                ),
            })?;
            set.insert(format!("writes.{}", write.task), json);
        }
        self.store
            .ready()
            .await
            .map_err(backend("put pending writes"))?;
        let filter = doc! {"thread_id": thread_id, "checkpoint_id": id.as_str()};
        let coll = self.collection();
        let update = if set.is_empty() {
            doc! {"$set": {"thread_id": thread_id}}
        } else {
            doc! {"$set": set}
        };
        let result = self
            .store
            .run("put pending writes", || {
                coll.update_one(filter.clone(), update.clone())
            })
            .await
            .map_err(backend("put pending writes"))?;
        if result.matched_count == 0 {
            return Err(CheckpointError::UnknownCheckpoint {
                thread: thread_id.to_owned(),
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn latest(&self, thread_id: &str) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        Ok(self
            .find(doc! {"thread_id": thread_id}, 1)
            .await?
            .into_iter()
            .next())
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &CheckpointId,
    ) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        let filter = doc! {"thread_id": thread_id, "checkpoint_id": id.as_str()};
        Ok(self.find(filter, 1).await?.into_iter().next())
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<S>>, CheckpointError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.find(
            doc! {"thread_id": thread_id},
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await
    }

    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError> {
        let coll = self.collection();
        self.store
            .run("delete a thread", || {
                coll.delete_many(doc! {"thread_id": thread_id})
            })
            .await
            .map_err(backend("delete a thread"))?;
        let counters = self.store.db.collection::<Document>(CHECKPOINT_THREADS);
        self.store
            .run("delete a thread", || {
                counters.delete_one(doc! {"_id": thread_id})
            })
            .await
            .map_err(backend("delete a thread"))?;
        Ok(())
    }
}
