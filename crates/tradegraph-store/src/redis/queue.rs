//! The run queue on Redis Streams: a stream per instrument read by a consumer group, a lease
//! key per instrument, scripts that name every key they touch.

use super::{run, Conn, Keys, RedisConfig};
use crate::queue::job::now;
use crate::queue::{
    DeadLetter, Job, JobId, Lease, Next, QueueConfig, RunQueue, WorkerId, WorkerInfo,
};
use crate::{Alerts, StoreError, StoreEvent};
use async_trait::async_trait;
use rand::seq::SliceRandom;
use redis::{Script, Value};
use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tradegraph_core::{Symbol, Timestamp};

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
/// ARGV: worker, lease (ms). Returns the fencing token, or nil.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
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

/// Extends the lease and takes over the oldest job taken and not acknowledged (`XAUTOCLAIM`).
/// KEYS: lease, stream. ARGV: holder, lease (ms), group, consumer. Returns `{0}` when the lease
/// is not held, `{1}` when nothing waits, else `{1, id, payload, deliveries}`.
static RECLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local claimed = redis.call('XAUTOCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, '0-0', 'COUNT', 1)
local entries = claimed[2]
if #entries == 0 then return {1} end
local id = entries[1][1]
local fields = entries[1][2]
local payload = ''
for i = 1, #fields, 2 do
  if fields[i] == 'payload' then payload = fields[i + 1] end
end
local pending = redis.call('XPENDING', KEYS[2], ARGV[3], id, id, 1)
return {1, id, payload, pending[1][4]}
",
    )
});

/// Acknowledges and deletes a job if the lease is held. KEYS: lease, stream. ARGV: holder,
/// group, id. Returns 1 or 0.
static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
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
redis.call('XADD', KEYS[3], '*', 'job', ARGV[3], 'payload', ARGV[4], 'deliveries', ARGV[5])
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
",
    )
});

/// Gives the lease back if held. KEYS: lease. ARGV: holder.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
",
    )
});

/// The longest a [`RunQueue::next`] waits for a job to be published.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// Decision cycles queued on Redis Streams (a [`RunQueue`]), on one server or a Redis Cluster.
///
/// | key | what |
/// |---|---|
/// | `queue:cycles:{BTCUSDT}` | stream of the instrument's jobs not yet acknowledged (field `payload`), read by the consumer group `cycles` |
/// | `queue:cycles:{BTCUSDT}:lease` | `<worker>#<token>` of the instrument's owner, expiring after the lease |
/// | `queue:cycles:{BTCUSDT}:lease_seq` | the last fencing token |
/// | `queue:cycles:{BTCUSDT}:dead` | stream of the dead letters (`job`, `payload`, `deliveries`) |
/// | `queue:cycles:{meta}:instruments` | set of the instruments with a queue |
/// | `queue:cycles:{meta}:workers` | hash of the workers' last reports (JSON) |
///
/// An instrument's keys share its hash tag, and every script names the keys it touches, so it
/// runs on a Redis Cluster as on one server. A job is acknowledged and deleted together, so a
/// stream holds only the jobs still to do. Waiting for a job (`XREADGROUP ... BLOCK`) uses a
/// connection of its own, from a small pool, so that it never holds up other commands.
/// Cloning shares the connections.
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
    /// Instruments this process has added to the set of queued instruments.
    registered: Mutex<HashSet<Symbol>>,
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
                registered: Mutex::new(HashSet::new()),
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
                instrument: lease.instrument.to_string(),
                job: job.id.to_string(),
                deliveries: job.deliveries,
            });
        }
        Ok(moved == 1)
    }

    /// A job taken over from an earlier delivery, `None` when none waits; `Err(Lost)` shape as
    /// `Next::Lost`.
    async fn reclaim(&self, lease: &Lease) -> Result<Next, StoreError> {
        let (keys, queue) = (&self.inner.keys, self.group());
        let mut call = RECLAIM.key(keys.lease(queue, &lease.instrument));
        call.key(keys.jobs(queue, &lease.instrument))
            .arg(lease.holder())
            .arg(self.lease_ms())
            .arg(queue)
            .arg(lease.worker.as_str());
        let mut conn = self.inner.conn.clone();
        let reply: Vec<Value> =
            run("queue next", self.timeout(), call.invoke_async(&mut conn)).await?;
        match reply.as_slice() {
            [Value::Int(0)] => Ok(Next::Lost),
            [Value::Int(1)] => Ok(Next::Idle),
            [Value::Int(1), id, payload, deliveries] => {
                let bad = |what: &str| StoreError::decode("queue next", what.to_owned());
                Ok(Next::Job(Job {
                    id: JobId::new(text(id).ok_or_else(|| bad("an entry id that is not text"))?),
                    instrument: lease.instrument.clone(),
                    payload: bytes(payload),
                    deliveries: match deliveries {
                        Value::Int(n) => u32::try_from(*n).unwrap_or(u32::MAX),
                        _ => return Err(bad("a delivery count that is not a number")),
                    },
                }))
            }
            other => Err(StoreError::decode(
                "queue next",
                format!("unexpected reply {other:?}"),
            )),
        }
    }

    /// A new job for `lease`, waiting up to `wait`.
    async fn read_new(&self, lease: &Lease, wait: Duration) -> Result<Option<Job>, StoreError> {
        let wait = wait.min(MAX_WAIT);
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
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(self.group())
            .arg(lease.worker.as_str())
            .arg("COUNT")
            .arg(1);
        if !wait.is_zero() {
            read.arg("BLOCK")
                .arg(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1));
        }
        read.arg("STREAMS")
            .arg(self.inner.keys.jobs(self.group(), &lease.instrument))
            .arg(">");
        let reply = run(
            "queue next",
            self.timeout() + wait,
            read.query_async::<Value>(&mut conn),
        )
        .await;
        self.inner
            .blocking
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        let entry = first_entry(&reply?).ok_or_else(|| {
            StoreError::decode("queue next", "an XREADGROUP reply of another shape")
        })?;
        Ok(entry.map(|(id, payload)| Job {
            id: JobId::new(id),
            instrument: lease.instrument.clone(),
            payload,
            deliveries: 1,
        }))
    }
}

#[async_trait]
impl RunQueue for RedisRunQueue {
    async fn publish(&self, instrument: &Symbol, payload: &[u8]) -> Result<JobId, StoreError> {
        let queue = self.group();
        let mut conn = self.inner.conn.clone();
        let first = !self
            .inner
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(instrument);
        if first {
            run(
                "queue publish",
                self.timeout(),
                redis::cmd("SADD")
                    .arg(self.inner.keys.queued_instruments(queue))
                    .arg(instrument.as_str())
                    .query_async::<()>(&mut conn),
            )
            .await?;
            self.inner
                .registered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(instrument.clone());
        }
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

    async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        let mut call = RENEW.key(self.inner.keys.lease(self.group(), &lease.instrument));
        call.arg(lease.holder()).arg(self.lease_ms());
        let mut conn = self.inner.conn.clone();
        let held: u8 = run("queue renew", self.timeout(), call.invoke_async(&mut conn)).await?;
        Ok(held == 1)
    }

    async fn next(&self, lease: &Lease, wait: Duration) -> Result<Next, StoreError> {
        loop {
            match self.reclaim(lease).await? {
                Next::Job(job) if job.deliveries > self.inner.config.max_deliveries => {
                    if !self.dead_letter(lease, &job).await? {
                        return Ok(Next::Lost);
                    }
                }
                Next::Idle => {
                    return Ok(match self.read_new(lease, wait).await? {
                        Some(job) => Next::Job(job),
                        None => Next::Idle,
                    })
                }
                found => return Ok(found),
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
        let mut call = RELEASE.key(self.inner.keys.lease(self.group(), &lease.instrument));
        call.arg(lease.holder());
        let mut conn = self.inner.conn.clone();
        run(
            "queue release",
            self.timeout(),
            call.invoke_async::<()>(&mut conn),
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
        let mut conn = self.inner.conn.clone();
        run(
            "queue beat",
            self.timeout(),
            redis::cmd("HSET")
                .arg(self.inner.keys.queue_workers(self.group()))
                .arg(worker.id.as_str())
                .arg(json)
                .query_async::<()>(&mut conn),
        )
        .await
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError> {
        let key = self.inner.keys.queue_workers(self.group());
        let mut conn = self.inner.conn.clone();
        let all: Vec<(String, Vec<u8>)> = run(
            "queue workers",
            self.timeout(),
            redis::cmd("HGETALL").arg(&key).query_async(&mut conn),
        )
        .await?;
        let now = now();
        let (mut alive, mut gone) = (Vec::new(), Vec::new());
        for (name, json) in all {
            match serde_json::from_slice::<WorkerInfo>(&json) {
                Ok(info) if heard_recently(&info, now) => alive.push(info),
                // Not heard from for three intervals, or unreadable: forgotten.
                _ => gone.push(name),
            }
        }
        if !gone.is_empty() {
            run(
                "queue workers",
                self.timeout(),
                redis::cmd("HDEL")
                    .arg(&key)
                    .arg(gone)
                    .query_async::<()>(&mut conn),
            )
            .await?;
        }
        alive.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(alive)
    }
}

/// Whether `info` was reported within three of its intervals of `now`.
fn heard_recently(info: &WorkerInfo, now: Timestamp) -> bool {
    let window = i64::try_from(info.interval_ms.saturating_mul(3)).unwrap_or(i64::MAX);
    now.millis().saturating_sub(info.beat.millis()) <= window
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

/// The first entry of an `XREADGROUP` reply of one stream: `Some(None)` for none, `None` for a
/// reply of another shape.
fn first_entry(reply: &Value) -> Option<Option<(String, Vec<u8>)>> {
    let streams = match reply {
        Value::Nil => return Some(None),
        Value::Array(streams) => streams,
        _ => return None,
    };
    let Some(Value::Array(stream)) = streams.first() else {
        return Some(None);
    };
    let Some(Value::Array(entries)) = stream.get(1) else {
        return None;
    };
    let Some(Value::Array(entry)) = entries.first() else {
        return Some(None);
    };
    let id = text(entry.first()?)?;
    let Some(Value::Array(fields)) = entry.get(1) else {
        return None;
    };
    let payload = fields
        .chunks_exact(2)
        .find(|kv| text(&kv[0]).as_deref() == Some("payload"))
        .map(|kv| bytes(&kv[1]))
        .unwrap_or_default();
    Some(Some((id, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xreadgroup_reply_gives_its_first_entry() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("queue:cycles:{BTC}"),
            Value::Array(vec![Value::Array(vec![
                bulk("1700000000000-3"),
                Value::Array(vec![bulk("payload"), bulk("cycle")]),
            ])]),
        ])]);
        assert_eq!(
            first_entry(&reply),
            Some(Some(("1700000000000-3".into(), b"cycle".to_vec())))
        );
        assert_eq!(first_entry(&Value::Nil), Some(None));
        assert_eq!(first_entry(&Value::Int(3)), None);
        assert_eq!(entry_time("1700000000000-3").millis(), 1_700_000_000_000);
    }

    #[test]
    fn a_worker_is_alive_for_three_intervals() {
        let info = |beat: i64| WorkerInfo {
            id: WorkerId::new("w"),
            started: Timestamp::from_millis(0),
            beat: Timestamp::from_millis(beat),
            interval_ms: 1_000,
            instruments: Vec::new(),
            capacity: 1,
            done: 0,
        };
        let now = Timestamp::from_millis(10_000);
        assert!(heard_recently(&info(7_000), now));
        assert!(!heard_recently(&info(6_999), now));
    }
}
