//! The stores' probes: [`RedisProbe`] (`PING`) and [`MongoProbe`] (the `ping` command and the
//! write-behind queue's spill file).

use super::{Outcome, Probe};
use crate::engine::CheckId;
use async_trait::async_trait;
use std::time::Duration;
use tradegraph_store::Stores;

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `redis`: `PING` on the hot cache's Redis, with the round trip. Add it only when Redis is
/// configured (without one it says so and is ok).
#[derive(Debug, Clone)]
pub struct RedisProbe {
    stores: Stores,
}

impl RedisProbe {
    /// The probe of `stores`' Redis.
    pub fn new(stores: Stores) -> Self {
        Self { stores }
    }
}

#[async_trait]
impl Probe for RedisProbe {
    fn id(&self) -> CheckId {
        CheckId::Redis
    }

    async fn check(&self) -> Outcome {
        match self.stores.ping_redis().await {
            None => Outcome::ok("not configured: the hot cache is in memory"),
            Some(Ok(rtt)) => Outcome::ok(format!("PONG in {}", millis(rtt))),
            Some(Err(e)) => Outcome::failing(format!(
                "PING failed: {e}; hot-cache writes are held in process and retried; check \
                 that Redis runs and that REDIS_URL points at it"
            )),
        }
    }
}

/// `mongodb`: the `ping` command on MongoDB, with the round trip, and the write-behind queue:
/// records waiting in the spill file make it degraded (they are kept on disk and written back
/// when MongoDB takes them), a failed ping failing. Add it only when MongoDB is configured
/// (without one it says so and is ok).
#[derive(Debug, Clone)]
pub struct MongoProbe {
    stores: Stores,
}

impl MongoProbe {
    /// The probe of `stores`' MongoDB.
    pub fn new(stores: Stores) -> Self {
        Self { stores }
    }
}

#[async_trait]
impl Probe for MongoProbe {
    fn id(&self) -> CheckId {
        CheckId::Mongodb
    }

    async fn check(&self) -> Outcome {
        let spilled = self.stores.spilled().unwrap_or(0);
        let kept = if spilled > 0 {
            format!(
                "; {spilled} records wait in the spill file and are written back when it answers"
            )
        } else {
            String::new()
        };
        match self.stores.ping_mongodb().await {
            None => Outcome::ok("not configured: history and logs are in memory"),
            Some(Ok(rtt)) if spilled > 0 => Outcome::degraded(format!(
                "ping answered in {}, but {spilled} records still wait in the spill file \
                 (kept on disk, written back as MongoDB takes them)",
                millis(rtt)
            )),
            Some(Ok(rtt)) => Outcome::ok(format!("ping answered in {}", millis(rtt))),
            Some(Err(e)) => Outcome::failing(format!(
                "ping failed: {e}{kept}; the bot's state cannot be saved meanwhile; check that \
                 mongod runs and that MONGODB_URI points at it"
            )),
        }
    }
}
