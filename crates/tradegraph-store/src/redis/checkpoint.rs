//! Graph checkpoints in Redis.

use super::Conn;
use super::{run, Keys, RedisConfig};
use crate::StoreError;
use async_trait::async_trait;
use redis::Script;
use std::marker::PhantomData;
use std::sync::LazyLock;
use std::time::Duration;
use tradegraph_graph::checkpoint::{codec, CheckpointError, PendingWrite};
use tradegraph_graph::{Checkpoint, CheckpointId, Checkpointer, GraphState};

/// Saves a checkpoint as the thread's newest (a per-thread counter orders them) and returns the
/// ids beyond the newest `ARGV[3]` (0: keep all), oldest first, for the caller to delete. KEYS:
/// checkpoint, index, counter. ARGV: data, id, keep.
static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local seq = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], seq, ARGV[2])
local keep = tonumber(ARGV[3])
if keep > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - keep
  if excess > 0 then return redis.call('ZRANGE', KEYS[2], 0, excess - 1) end
end
return {}
",
    )
});

/// Records pending writes by task, if the checkpoint exists. KEYS: checkpoint, writes.
/// ARGV: task, write, task, write, ... Returns 0 when the checkpoint is unknown.
static PUT_WRITES: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
",
    )
});

/// Deletes a thread whose counter is still `ARGV[1]` (else returns 0: a checkpoint was written
/// since the caller read the index). KEYS: index, counter, then each checkpoint and its writes.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
for start = 1, #KEYS, 1000 do
  redis.call('DEL', unpack(KEYS, start, math.min(start + 999, #KEYS)))
end
return 1
",
    )
});

/// How often `delete_thread` reads the index again when checkpoints keep arriving.
const DELETE_ATTEMPTS: usize = 5;

type Stored = (Vec<u8>, Vec<(u32, Vec<u8>)>);

/// A checkpoint as read by key: its data, when it still exists, and its writes.
type Found = (Option<Vec<u8>>, Vec<(u32, Vec<u8>)>);

/// Graph checkpoints in Redis, passing the engine's conformance suite. Each checkpoint is one
/// key (`checkpoint:{<thread>}:<id>`, the engine's JSON codec), with its pending writes in a hash
/// beside it and the thread's order in a sorted set (`checkpoints:{<thread>}`). The thread is the
/// keys' hash tag and every script names the keys it touches in `KEYS`, so the checkpointer runs
/// unchanged on a Redis Cluster. A put is one round trip (two when it drops the oldest beyond
/// the limit), reading the newest or the history two. Cloning shares the connection. Keeps the
/// newest 1024 checkpoints per thread unless told otherwise.
///
/// ```no_run
/// # async fn demo<S: tradegraph_graph::GraphState>(graph: tradegraph_graph::CompiledGraph<S>) -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::redis::{RedisCheckpointer, RedisConfig};
/// let checkpoints = RedisCheckpointer::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let graph = graph.with_checkpointer(checkpoints.keep_last(100));
/// # Ok(()) }
/// ```
pub struct RedisCheckpointer<S> {
    conn: Conn,
    keys: Keys,
    timeout: Duration,
    keep_last: usize,
    _state: PhantomData<fn() -> S>,
}

impl<S> Clone for RedisCheckpointer<S> {
    fn clone(&self) -> Self {
        Self {
            conn: self.conn.clone(),
            keys: self.keys.clone(),
            timeout: self.timeout,
            keep_last: self.keep_last,
            _state: PhantomData,
        }
    }
}

impl<S: GraphState> RedisCheckpointer<S> {
    /// A checkpointer on `config.url` (with its key prefix and time limit). Fails only for a bad
    /// URL. Must be called inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            conn: config.connection()?,
            keys: Keys::new(config.key_prefix.clone()),
            timeout: config.timeout,
            keep_last: 1024,
            _state: PhantomData,
        })
    }

    /// Keeps the newest `n` checkpoints per thread (0: all).
    #[must_use]
    pub fn keep_last(mut self, n: usize) -> Self {
        self.keep_last = n;
        self
    }

    async fn history_raw(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Stored>, CheckpointError> {
        self.history_read(thread_id, limit, false).await
    }

    async fn history_read(
        &self,
        thread_id: &str,
        limit: usize,
        retried: bool,
    ) -> Result<Vec<Stored>, CheckpointError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let read = |e: StoreError| e.into_checkpoint("redis", "read checkpoints");
        let last = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let ids: Vec<String> = run(
            "checkpoint history",
            self.timeout,
            redis::cmd("ZREVRANGE")
                .arg(self.keys.checkpoints(thread_id))
                .arg(0)
                .arg(last)
                .query_async(&mut conn),
        )
        .await
        .map_err(read)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.get(self.keys.checkpoint(thread_id, id))
                .hgetall(self.keys.checkpoint_writes(thread_id, id));
        }
        let found: Vec<Found> = run(
            "checkpoint history",
            self.timeout,
            pipe.query_async(&mut conn),
        )
        .await
        .map_err(read)?;
        // A checkpoint dropped between the two reads (by a put beyond the limit) is skipped;
        // when that leaves nothing of a thread that has checkpoints, the index is read again.
        let kept: Vec<Stored> = found
            .into_iter()
            .filter_map(|(data, writes)| data.map(|data| (data, writes)))
            .collect();
        if kept.is_empty() && !retried {
            return Box::pin(self.history_read(thread_id, limit, true)).await;
        }
        Ok(kept)
    }

    /// Deletes the checkpoints `ids` and their writes, then their index entries.
    async fn drop_checkpoints(&self, thread: &str, ids: &[String]) -> Result<(), StoreError> {
        let mut keys = Vec::with_capacity(ids.len() * 2);
        for id in ids {
            keys.push(self.keys.checkpoint(thread, id));
            keys.push(self.keys.checkpoint_writes(thread, id));
        }
        let mut conn = self.conn.clone();
        run(
            "checkpoint trim",
            self.timeout,
            redis::pipe()
                .del(keys)
                .ignore()
                .zrem(self.keys.checkpoints(thread), ids)
                .ignore()
                .query_async::<()>(&mut conn),
        )
        .await
    }
}

fn decode<S: GraphState>((data, writes): Stored) -> Result<Checkpoint<S>, CheckpointError> {
    let mut checkpoint: Checkpoint<S> = codec::decode(&data)?;
    for (task, bytes) in writes {
        let write: PendingWrite<S::Update> =
            serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Decode {
                id: checkpoint.id.to_string(),
                message: format!("pending write of task {task}: {e}"),
            })?;
        checkpoint.pending_writes.retain(|w| w.task != write.task);
        checkpoint.pending_writes.push(write);
    }
    checkpoint.pending_writes.sort_by_key(|w| w.task);
    Ok(checkpoint)
}

#[async_trait]
impl<S: GraphState> Checkpointer<S> for RedisCheckpointer<S> {
    async fn put(&self, checkpoint: Checkpoint<S>) -> Result<(), CheckpointError> {
        let data = codec::encode(&checkpoint)?;
        let (thread, id) = (checkpoint.thread_id.as_str(), checkpoint.id.as_str());
        let mut conn = self.conn.clone();
        let mut call = PUT.key(self.keys.checkpoint(thread, id));
        call.key(self.keys.checkpoints(thread))
            .key(self.keys.checkpoint_seq(thread))
            .arg(data)
            .arg(id)
            .arg(self.keep_last);
        let beyond: Vec<String> = run("checkpoint put", self.timeout, call.invoke_async(&mut conn))
            .await
            .map_err(|e| e.into_checkpoint("redis", "put a checkpoint"))?;
        if !beyond.is_empty() {
            // The checkpoint is saved; the oldest stay listed until deleted, so a failure here
            // is retried by the next put.
            if let Err(e) = self.drop_checkpoints(thread, &beyond).await {
                tracing::warn!(thread, error = %e, "could not drop the oldest checkpoints; the next put tries again");
            }
        }
        Ok(())
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        id: &CheckpointId,
        writes: Vec<PendingWrite<S::Update>>,
    ) -> Result<(), CheckpointError> {
        let mut call = PUT_WRITES.key(self.keys.checkpoint(thread_id, id.as_str()));
        call.key(self.keys.checkpoint_writes(thread_id, id.as_str()));
        for write in &writes {
            let bytes = serde_json::to_vec(write).map_err(|e| CheckpointError::Decode {
                id: id.to_string(),
                message: format!(
                    "cannot encode the pending write of task {}: {e}",
                    write.task
                ),
            })?;
            call.arg(write.task).arg(bytes);
        }
        let mut conn = self.conn.clone();
        let found: u8 = run(
            "checkpoint put_writes",
            self.timeout,
            call.invoke_async(&mut conn),
        )
        .await
        .map_err(|e| e.into_checkpoint("redis", "put pending writes"))?;
        if found == 0 {
            return Err(CheckpointError::UnknownCheckpoint {
                thread: thread_id.to_owned(),
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn latest(&self, thread_id: &str) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        self.history_raw(thread_id, 1)
            .await?
            .into_iter()
            .next()
            .map(decode)
            .transpose()
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &CheckpointId,
    ) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        let mut conn = self.conn.clone();
        let (data, writes): (Option<Vec<u8>>, Vec<(u32, Vec<u8>)>) = run(
            "checkpoint get",
            self.timeout,
            redis::pipe()
                .get(self.keys.checkpoint(thread_id, id.as_str()))
                .hgetall(self.keys.checkpoint_writes(thread_id, id.as_str()))
                .query_async(&mut conn),
        )
        .await
        .map_err(|e| e.into_checkpoint("redis", "read a checkpoint"))?;
        data.map(|data| decode((data, writes))).transpose()
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<S>>, CheckpointError> {
        self.history_raw(thread_id, limit)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError> {
        let failed = |e: StoreError| e.into_checkpoint("redis", "delete a thread");
        let index = self.keys.checkpoints(thread_id);
        for _ in 0..DELETE_ATTEMPTS {
            let mut conn = self.conn.clone();
            // The index and the counter together (one slot): the counter tells a checkpoint
            // written in between, even one whose put dropped another.
            let (ids, seq): (Vec<String>, Option<String>) = run(
                "checkpoint delete",
                self.timeout,
                redis::pipe()
                    .cmd("ZRANGE")
                    .arg(&index)
                    .arg(0)
                    .arg(-1)
                    .get(self.keys.checkpoint_seq(thread_id))
                    .query_async(&mut conn),
            )
            .await
            .map_err(failed)?;
            let mut call = DELETE.key(&index);
            call.key(self.keys.checkpoint_seq(thread_id))
                .arg(seq.unwrap_or_default());
            for id in &ids {
                call.key(self.keys.checkpoint(thread_id, id))
                    .key(self.keys.checkpoint_writes(thread_id, id));
            }
            let deleted: u8 = run(
                "checkpoint delete",
                self.timeout,
                call.invoke_async(&mut conn),
            )
            .await
            .map_err(failed)?;
            if deleted == 1 {
                return Ok(());
            }
        }
        Err(CheckpointError::Backend {
            backend: "redis",
            operation: "delete a thread",
            message: format!(
                "thread `{thread_id}` kept receiving checkpoints while it was being deleted \
                 ({DELETE_ATTEMPTS} attempts)"
            ),
        })
    }
}
