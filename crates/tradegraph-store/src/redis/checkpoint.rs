//! Graph checkpoints in Redis.

use super::{run, Keys, RedisConfig};
use crate::StoreError;
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;
use std::marker::PhantomData;
use std::sync::LazyLock;
use std::time::Duration;
use tradegraph_graph::checkpoint::{codec, CheckpointError, PendingWrite};
use tradegraph_graph::{Checkpoint, CheckpointId, Checkpointer, GraphState};

/// Saves a checkpoint as the thread's newest (a per-thread counter orders them), then drops the
/// oldest beyond `ARGV[3]` (0: keep all). KEYS: checkpoint, index, counter. ARGV: data, id,
/// keep, checkpoint key stem, writes key stem.
static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local seq = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], seq, ARGV[2])
local keep = tonumber(ARGV[3])
if keep > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - keep
  if excess > 0 then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
      redis.call('DEL', ARGV[4] .. id, ARGV[5] .. id)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  end
end
return seq
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

/// The newest `ARGV[3]` checkpoints with their writes, newest first:
/// `[data, [task, write, ...], ...]`. KEYS: index. ARGV: checkpoint stem, writes stem, limit.
static HISTORY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)) do
  local data = redis.call('GET', ARGV[1] .. id)
  if data then
    out[#out + 1] = data
    out[#out + 1] = redis.call('HGETALL', ARGV[2] .. id)
  end
end
return out
",
    )
});

/// Deletes a thread. KEYS: index, counter. ARGV: checkpoint stem, writes stem.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id, ARGV[2] .. id) end
redis.call('DEL', KEYS[1], KEYS[2])
return #ids
",
    )
});

type Stored = (Vec<u8>, Vec<(u32, Vec<u8>)>);

/// Graph checkpoints in Redis, passing the engine's conformance suite. Each checkpoint is one
/// key (`checkpoint:<thread>:<id>`, the engine's JSON codec), with its pending writes in a hash
/// beside it and the thread's order in a sorted set (`checkpoints:<thread>`); every operation is
/// one round trip. Cloning shares the connection. Keeps the newest 1024 checkpoints per thread unless told otherwise.
///
/// ```no_run
/// # async fn demo<S: tradegraph_graph::GraphState>(graph: tradegraph_graph::CompiledGraph<S>) -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::redis::{RedisCheckpointer, RedisConfig};
/// let checkpoints = RedisCheckpointer::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let graph = graph.with_checkpointer(checkpoints.keep_last(100));
/// # Ok(()) }
/// ```
pub struct RedisCheckpointer<S> {
    conn: ConnectionManager,
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
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let mut call = HISTORY.key(self.keys.checkpoints(thread_id));
        call.arg(self.keys.checkpoint(thread_id, ""))
            .arg(self.keys.checkpoint_writes(thread_id, ""))
            .arg(limit);
        run(
            "checkpoint history",
            self.timeout,
            call.invoke_async(&mut conn),
        )
        .await
        .map_err(|e| e.into_checkpoint("redis", "read checkpoints"))
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
            .arg(self.keep_last)
            .arg(self.keys.checkpoint(thread, ""))
            .arg(self.keys.checkpoint_writes(thread, ""));
        run(
            "checkpoint put",
            self.timeout,
            call.invoke_async::<u64>(&mut conn),
        )
        .await
        .map(drop)
        .map_err(|e| e.into_checkpoint("redis", "put a checkpoint"))
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
        let mut conn = self.conn.clone();
        let mut call = DELETE.key(self.keys.checkpoints(thread_id));
        call.key(self.keys.checkpoint_seq(thread_id))
            .arg(self.keys.checkpoint(thread_id, ""))
            .arg(self.keys.checkpoint_writes(thread_id, ""));
        run(
            "checkpoint delete",
            self.timeout,
            call.invoke_async::<u64>(&mut conn),
        )
        .await
        .map(drop)
        .map_err(|e| e.into_checkpoint("redis", "delete a thread"))
    }
}
