//! The run queue on Redis Streams: a stream per instrument read by a consumer group, a lease
//! key per instrument, scripts that name every key they touch.

use super::{commands, run, Conn, Keys, RedisConfig};
use crate::queue::{
    DeadLetter, Job, JobId, Lease, Next, QueueConfig, RunQueue, WorkerId, WorkerInfo,
};
use crate::{Alerts, StoreError, StoreEvent};
use async_trait::async_trait;
use rand::seq::SliceRandom;
use redis::{Script, Value};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tradegraph_core::{Symbol, Timestamp};

mod cancel;

/// Appends a job, creating the stream and its consumer group when missing. KEYS: stream.
/// ARGV: group, payload. Returns the entry id.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
return redis.call('XADD', KEYS[1], '*', 'payload', ARGV[2])
",
    )
});

/// Takes the instrument when it has jobs and no owner. KEYS: lease, lease counter, stream.
/// ARGV: worker, lease (ms). Returns the fencing token, or nil. A worker that holds the lease
/// already gets its token again (a request sent twice by a client that lost the answer).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = redis.call('GET', KEYS[1])
if held then
  local prefix = ARGV[1] .. '#'
  if string.sub(held, 1, #prefix) == prefix then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(held, #prefix + 1))
  end
  return false
end
if redis.call('EXISTS', KEYS[3]) == 0 or redis.call('XLEN', KEYS[3]) == 0 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. token, 'PX', ARGV[2])
return token
",
    )
});

/// Extends the lease if held. KEYS: lease. ARGV: holder, lease (ms). Returns 1 or 0.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
",
    )
});

/// Extends the lease and hands out the next job: the oldest taken and not acknowledged
/// (`XAUTOCLAIM`, whoever took it), else a new one (`XREADGROUP ... >`, not blocking), both
/// under the lease. KEYS: lease, stream. ARGV: holder, lease (ms), group, consumer. Returns `{0}`
/// when the lease is not held, `{1, last}` when nothing waits (`last`: the stream's newest id,
/// to wait for a newer one from), else `{1, id, payload, deliveries}`.
static NEXT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local function payload_of(fields)
  for i = 1, #fields, 2 do
    if fields[i] == 'payload' then return fields[i + 1] end
  end
  return ''
end
local claimed = redis.call('XAUTOCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, '0-0', 'COUNT', 1)
local entries = claimed[2]
if #entries > 0 and entries[1] then
  local id = entries[1][1]
  local pending = redis.call('XPENDING', KEYS[2], ARGV[3], id, id, 1)
  return {1, id, payload_of(entries[1][2]), pending[1][4]}
end
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[4], 'COUNT', 1, 'STREAMS', KEYS[2], '>')
if fresh and fresh[1] and #fresh[1][2] > 0 then
  local entry = fresh[1][2][1]
  return {1, entry[1], payload_of(entry[2]), 1}
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then return {1, last[1][1]} end
return {1, '0-0'}
",
    )
});

/// Acknowledges and deletes a job if the lease is held and the job was handed out (and not
/// acknowledged yet). KEYS: lease, stream. ARGV: holder, group, id. Returns 1 or 0.
static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('XACK', KEYS[2], ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
",
    )
});

/// Moves a job to the dead letters if the lease is held. KEYS: lease, stream, dead letters.
/// ARGV: holder, group, id, payload, deliveries. Returns 1 or 0.
static DEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'job', ARGV[3], 'payload', ARGV[4], 'deliveries', ARGV[5])
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
",
    )
});

/// Gives the lease back if held; the jobs this worker took and did not acknowledge go back
/// without counting as a delivery (their count is lowered by one: the next owner's claim raises
/// it again). KEYS: lease, stream. ARGV: holder, group, consumer.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  for _, p in ipairs(redis.call('XPENDING', KEYS[2], ARGV[2], '-', '+', 100, ARGV[3])) do
    redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, p[1], 'RETRYCOUNT', math.max(0, p[4] - 1), 'JUSTID')
  end
end
redis.call('DEL', KEYS[1])
return 1
",
    )
});

/// Reports a worker, timed by the server's clock. KEYS: reports hash, beats sorted set.
/// ARGV: worker, report (JSON), how long it counts as alive (ms). Forgets reports not renewed
/// for a day.
static BEAT: LazyLock<Script> = LazyLock::new(|| {
    commands::at_server_time(
        r"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - 86400000)
if #old > 0 then
  redis.call('HDEL', KEYS[1], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
return 1
",
    )
});

/// The reports of the workers still alive by the server's clock. KEYS: reports hash, beats
/// sorted set.
static ALIVE: LazyLock<Script> = LazyLock::new(|| {
    commands::at_server_time(
        r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], now, '+inf')
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(ids))
",
    )
});

/// The longest a [`RunQueue::next`] waits for a job to be published (and never more than half
/// the lease).
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// Decision cycles queued on Redis Streams (a [`RunQueue`]), on one server or a Redis Cluster.
///
/// | key | what |
/// |---|---|
/// | `queue:cycles:{BTCUSDT}` | stream of the instrument's jobs not yet acknowledged (field `payload`), read by the consumer group `cycles` |
/// | `queue:cycles:{BTCUSDT}:lease` | `<worker>#<token>` of the instrument's owner, expiring after the lease |
/// | `queue:cycles:{BTCUSDT}:lease_seq` | the last fencing token |
/// | `queue:cycles:{BTCUSDT}:dead` | stream of the dead letters (`job`, `payload`, `deliveries`), the newest 10,000 or so |
/// | `queue:cycles:{meta}:instruments` | set of the instruments with a queue |
/// | `queue:cycles:{meta}:workers` | hash of the workers' last reports (JSON) |
/// | `queue:cycles:{meta}:beats` | sorted set of the workers, scored by when (server time) their last report stops counting |
///
/// An instrument's keys share its hash tag, and every script names the keys it touches, so it
/// runs on a Redis Cluster as on one server. Jobs are handed out only by a script that checks
/// the lease; waiting for one is an `XREAD BLOCK` (no group: it hands nothing out) on a
/// connection of its own, from a small pool, so that it never holds up other commands. A job is
/// acknowledged and deleted together, so a stream holds only the jobs still to do. Workers are
/// alive by the server's clock, not their own. Needs Redis 7.0 or later (`XAUTOCLAIM` as 7.0
/// answers it). Cloning shares the connections.
///
/// ```no_run
/// # async fn demo() -> Result<(), tradegraph_store::StoreError> {
/// use std::time::Duration;
/// use tradegraph_core::Symbol;
/// use tradegraph_store::queue::{Next, QueueConfig, RunQueue, WorkerId};
/// use tradegraph_store::redis::{RedisConfig, RedisRunQueue};
/// let queue = RedisRunQueue::connect(RedisConfig::new("redis://127.0.0.1:6379"), QueueConfig::default())?;
/// queue.publish(&Symbol::new("BTCUSDT"), b"cycle 1").await?;
/// let worker = WorkerId::unique();
/// if let Some(lease) = queue.acquire(&worker).await? {
///     while let Next::Job(job) = queue.next(&lease, Duration::from_millis(500)).await? {
///         // ... run the cycle ...
///         queue.ack(&lease, &job.id).await?;
///     }
///     queue.release(&lease).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRunQueue {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Conn,
    redis: RedisConfig,
    keys: Keys,
    config: QueueConfig,
    /// Connections for blocking reads, each used by one wait at a time.
    blocking: Mutex<Vec<Conn>>,
    alerts: Alerts,
}

impl RedisRunQueue {
    /// A queue on `redis.url` (one server or a cluster, with its key prefix). Fails only for a
    /// bad URL; the connection is made by the first operation.
    pub fn connect(redis: RedisConfig, config: QueueConfig) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner {
                conn: redis.connection()?,
                keys: Keys::new(redis.key_prefix.clone()),
                alerts: redis.alerts.clone(),
                redis,
                config,
                blocking: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The queue's settings.
    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    fn lease_ms(&self) -> u64 {
        u64::try_from(self.inner.config.lease.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn timeout(&self) -> Duration {
        self.inner.redis.timeout
    }

    fn group(&self) -> &str {
        &self.inner.config.name
    }

    /// Moves `job` to the dead letters; `false` when the lease is gone.
    async fn dead_letter(&self, lease: &Lease, job: &Job) -> Result<bool, StoreError> {
        let (keys, queue) = (&self.inner.keys, self.group());
        let mut call = DEAD.key(keys.lease(queue, &lease.instrument));
        call.key(keys.jobs(queue, &lease.instrument))
            .key(keys.dead_jobs(queue, &lease.instrument))
            .arg(lease.holder())
            .arg(queue)
            .arg(job.id.as_str())
            .arg(job.payload.as_slice())
            .arg(job.deliveries);
        let mut conn = self.inner.conn.clone();
        let moved: u8 = run(
            "queue dead_letter",
            self.timeout(),
            call.invoke_async(&mut conn),
        )
        .await?;
        if moved == 1 {
            self.inner.alerts.raise(StoreEvent::DeadLettered {
                backend: "redis",
                instrument: lease.instrument.to_string(),
                job: job.id.to_string(),
                deliveries: job.deliveries,
            });
        }
        Ok(moved == 1)
    }

    /// The next job under the lease (see [`NEXT`]): `Ok(Err(last))` when none waits, `last`
    /// being the stream's newest id.
    async fn next_step(&self, lease: &Lease) -> Result<Result<Next, String>, StoreError> {
        let (keys, queue) = (&self.inner.keys, self.group());
        let mut call = NEXT.key(keys.lease(queue, &lease.instrument));
        call.key(keys.jobs(queue, &lease.instrument))
            .arg(lease.holder())
            .arg(self.lease_ms())
            .arg(queue)
            .arg(lease.worker.as_str());
        let mut conn = self.inner.conn.clone();
        let reply: Vec<Value> =
            run("queue next", self.timeout(), call.invoke_async(&mut conn)).await?;
        let bad = |what: String| StoreError::decode("queue next", what);
        match reply.as_slice() {
            [Value::Int(0)] => Ok(Ok(Next::Lost)),
            [Value::Int(1), last] => {
                Ok(Err(text(last).ok_or_else(|| {
                    bad(format!("a stream id that is not text: {last:?}"))
                })?))
            }
            [Value::Int(1), id, payload, deliveries] => Ok(Ok(Next::Job(Job {
                id: JobId::new(
                    text(id).ok_or_else(|| bad(format!("an entry id that is not text: {id:?}")))?,
                ),
                instrument: lease.instrument.clone(),
                payload: bytes(payload),
                deliveries: match deliveries {
                    Value::Int(n) => u32::try_from(*n).unwrap_or(u32::MAX),
                    other => return Err(bad(format!("a delivery count of {other:?}"))),
                },
            }))),
            other => Err(bad(format!("unexpected reply {other:?}"))),
        }
    }

    /// Waits up to `wait` for an entry newer than `last` in the lease's stream (`XREAD BLOCK`,
    /// no group: it hands nothing out, the next [`NEXT`] does), on a pooled connection of its
    /// own; whether one came.
    async fn wait_newer(
        &self,
        lease: &Lease,
        last: &str,
        wait: Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = match self
            .inner
            .blocking
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        {
            Some(conn) => conn,
            None => Conn::open(
                &self.inner.redis.topology(),
                self.timeout() + MAX_WAIT,
                self.inner.redis.retry_interval,
            )?,
        };
        let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        let reply = run(
            "queue next",
            self.timeout() + wait,
            redis::cmd("XREAD")
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(millis)
                .arg("STREAMS")
                .arg(self.inner.keys.jobs(self.group(), &lease.instrument))
                .arg(last)
                .query_async::<Value>(&mut conn),
        )
        .await;
        self.inner
            .blocking
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        Ok(!matches!(reply?, Value::Nil))
    }
}

#[async_trait]
impl RunQueue for RedisRunQueue {
    async fn publish(&self, instrument: &Symbol, payload: &[u8]) -> Result<JobId, StoreError> {
        let queue = self.group();
        let mut conn = self.inner.conn.clone();
        // Every time: a set lost (a flush, a failover) is made again by the next publish.
        run(
            "queue publish",
            self.timeout(),
            redis::cmd("SADD")
                .arg(self.inner.keys.queued_instruments(queue))
                .arg(instrument.as_str())
                .query_async::<()>(&mut conn),
        )
        .await?;
        let mut call = PUBLISH.key(self.inner.keys.jobs(queue, instrument));
        call.arg(queue).arg(payload);
        let id: String = run(
            "queue publish",
            self.timeout(),
            call.invoke_async(&mut conn),
        )
        .await?;
        Ok(JobId::new(id))
    }

    async fn acquire(&self, worker: &WorkerId) -> Result<Option<Lease>, StoreError> {
        let queue = self.group();
        let mut conn = self.inner.conn.clone();
        let mut instruments: Vec<String> = run(
            "queue acquire",
            self.timeout(),
            redis::cmd("SMEMBERS")
                .arg(self.inner.keys.queued_instruments(queue))
                .query_async(&mut conn),
        )
        .await?;
        // Workers that start together spread over the instruments.
        instruments.shuffle(&mut rand::rng());
        for name in instruments {
            let instrument = Symbol::new(name);
            let keys = &self.inner.keys;
            let mut call = ACQUIRE.key(keys.lease(queue, &instrument));
            call.key(keys.lease_seq(queue, &instrument))
                .key(keys.jobs(queue, &instrument))
                .arg(worker.as_str())
                .arg(self.lease_ms());
            let token: Option<u64> = run(
                "queue acquire",
                self.timeout(),
                call.invoke_async(&mut conn),
            )
            .await?;
            if let Some(token) = token {
                return Ok(Some(Lease {
                    instrument,
                    worker: worker.clone(),
                    token,
                }));
            }
        }
        Ok(None)
    }

    async fn set_aside(&self, lease: &Lease, job: &Job) -> Result<bool, StoreError> {
        self.dead_letter(lease, job).await
    }

    async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        let mut call = RENEW.key(self.inner.keys.lease(self.group(), &lease.instrument));
        call.arg(lease.holder()).arg(self.lease_ms());
        let mut conn = self.inner.conn.clone();
        let held: u8 = run("queue renew", self.timeout(), call.invoke_async(&mut conn)).await?;
        Ok(held == 1)
    }

    async fn next(&self, lease: &Lease, wait: Duration) -> Result<Next, StoreError> {
        // Never wait past half the lease: the lease is renewed by each look at the queue.
        let wait = wait.min(self.inner.config.lease / 2).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match self.next_step(lease).await? {
                Ok(Next::Job(job)) if job.deliveries > self.inner.config.max_deliveries => {
                    if !self.dead_letter(lease, &job).await? {
                        return Ok(Next::Lost);
                    }
                }
                Ok(found) => return Ok(found),
                Err(last) => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() || !self.wait_newer(lease, &last, left).await? {
                        return Ok(Next::Idle);
                    }
                }
            }
        }
    }

    async fn ack(&self, lease: &Lease, job: &JobId) -> Result<bool, StoreError> {
        let (keys, queue) = (&self.inner.keys, self.group());
        let mut call = ACK.key(keys.lease(queue, &lease.instrument));
        call.key(keys.jobs(queue, &lease.instrument))
            .arg(lease.holder())
            .arg(queue)
            .arg(job.as_str());
        let mut conn = self.inner.conn.clone();
        let done: u8 = run("queue ack", self.timeout(), call.invoke_async(&mut conn)).await?;
        Ok(done == 1)
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let (keys, queue) = (&self.inner.keys, self.group());
        let mut call = RELEASE.key(keys.lease(queue, &lease.instrument));
        call.key(keys.jobs(queue, &lease.instrument))
            .arg(lease.holder())
            .arg(queue)
            .arg(lease.worker.as_str());
        let mut conn = self.inner.conn.clone();
        run(
            "queue release",
            self.timeout(),
            call.invoke_async::<()>(&mut conn),
        )
        .await
    }

    async fn dead_letter_count(&self, instrument: &Symbol) -> Result<u64, StoreError> {
        let mut conn = self.inner.conn.clone();
        let mut len = redis::cmd("XLEN");
        len.arg(self.inner.keys.dead_jobs(self.group(), instrument));
        run(
            "queue dead_letter_count",
            self.timeout(),
            len.query_async(&mut conn),
        )
        .await
    }

    async fn dead_letters(&self, instrument: &Symbol) -> Result<Vec<DeadLetter>, StoreError> {
        let mut conn = self.inner.conn.clone();
        let entries: Vec<(String, Vec<(String, Vec<u8>)>)> = run(
            "queue dead_letters",
            self.timeout(),
            redis::cmd("XRANGE")
                .arg(self.inner.keys.dead_jobs(self.group(), instrument))
                .arg("-")
                .arg("+")
                .query_async(&mut conn),
        )
        .await?;
        entries
            .into_iter()
            .map(|(entry, fields)| {
                let field = |name: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let deliveries = String::from_utf8_lossy(&field("deliveries"))
                    .parse::<u32>()
                    .map_err(|e| StoreError::decode("queue dead_letters", e))?;
                Ok(DeadLetter {
                    job: Job {
                        id: JobId::new(String::from_utf8_lossy(&field("job"))),
                        instrument: instrument.clone(),
                        payload: field("payload"),
                        deliveries,
                    },
                    at: entry_time(&entry),
                })
            })
            .collect()
    }

    async fn pending(&self, instrument: &Symbol) -> Result<u64, StoreError> {
        let mut conn = self.inner.conn.clone();
        run(
            "queue pending",
            self.timeout(),
            redis::cmd("XLEN")
                .arg(self.inner.keys.jobs(self.group(), instrument))
                .query_async(&mut conn),
        )
        .await
    }

    async fn beat(&self, worker: &WorkerInfo) -> Result<(), StoreError> {
        let json =
            serde_json::to_vec(worker).map_err(|e| StoreError::encode("a worker's report", e))?;
        let keys = &self.inner.keys;
        let mut call = BEAT.key(keys.queue_workers(self.group()));
        call.key(keys.queue_beats(self.group()))
            .arg(worker.id.as_str())
            .arg(json)
            .arg(worker.interval_ms.saturating_mul(3));
        let mut conn = self.inner.conn.clone();
        run(
            "queue beat",
            self.timeout(),
            call.invoke_async::<()>(&mut conn),
        )
        .await
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError> {
        let keys = &self.inner.keys;
        let mut call = ALIVE.key(keys.queue_workers(self.group()));
        call.key(keys.queue_beats(self.group()));
        let mut conn = self.inner.conn.clone();
        let reports: Vec<Option<Vec<u8>>> = run(
            "queue workers",
            self.timeout(),
            call.invoke_async(&mut conn),
        )
        .await?;
        let mut alive = reports
            .into_iter()
            .flatten()
            .map(|json| {
                serde_json::from_slice::<WorkerInfo>(&json)
                    .map_err(|e| StoreError::decode("a worker's report", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        alive.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(alive)
    }
}

/// The time in a stream entry id `<ms>-<n>`.
fn entry_time(id: &str) -> Timestamp {
    Timestamp::from_millis(
        id.split('-')
            .next()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0),
    )
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_id_gives_its_time() {
        assert_eq!(entry_time("1700000000000-3").millis(), 1_700_000_000_000);
    }
}
