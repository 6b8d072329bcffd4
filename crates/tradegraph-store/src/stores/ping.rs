//! Pings of the servers behind [`Stores`], for health checks: each answers `None` when its
//! server is not configured, else the round trip or what failed.

use super::Stores;
use crate::StoreError;
use std::time::Duration;

impl Stores {
    /// `PING` on the Redis of the hot cache, within its time limit: the round trip, or what
    /// failed; `None` when no Redis is configured.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use tradegraph_store::Stores;
    /// assert!(Stores::memory().ping_redis().await.is_none());
    /// # });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ping_redis(&self) -> Option<Result<Duration, StoreError>> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            let started = std::time::Instant::now();
            return Some(redis.ping().await.map(|()| started.elapsed()));
        }
        None
    }

    /// The `ping` command on MongoDB, within its time limit: the round trip, or what failed;
    /// `None` when no MongoDB is configured.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use tradegraph_store::Stores;
    /// assert!(Stores::memory().ping_mongodb().await.is_none());
    /// # });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ping_mongodb(&self) -> Option<Result<Duration, StoreError>> {
        #[cfg(feature = "mongodb")]
        if let Some(behind) = &self.behind {
            let started = std::time::Instant::now();
            return Some(behind.sink().ping().await.map(|()| started.elapsed()));
        }
        None
    }

    /// Records of the MongoDB write-behind queue waiting in its spill file (kept on disk until
    /// MongoDB takes them); `None` when no MongoDB is configured.
    ///
    /// ```
    /// use tradegraph_store::Stores;
    /// assert_eq!(Stores::memory().spilled(), None);
    /// ```
    pub fn spilled(&self) -> Option<u64> {
        #[cfg(feature = "mongodb")]
        if let Some(behind) = &self.behind {
            return Some(behind.spilled());
        }
        None
    }
}
