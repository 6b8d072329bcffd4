//! An in-memory cache.

use super::{CacheKey, CacheRecord, LlmCache};
use crate::LlmError;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// Records in memory, oldest evicted first beyond the capacity.
///
/// ```
/// use tradegraph_llm::cache::MemoryCache;
///
/// let cache = MemoryCache::new().with_capacity(10_000);
/// assert!(cache.is_empty());
/// ```
#[derive(Debug)]
pub struct MemoryCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<CacheKey, CacheRecord>,
    order: VecDeque<CacheKey>,
}

impl MemoryCache {
    /// An unbounded cache.
    pub fn new() -> Self {
        Self {
            capacity: usize::MAX,
            inner: Mutex::default(),
        }
    }

    /// Keeps at most `capacity` records.
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record, oldest first (for tests and exports).
    pub fn records(&self) -> Vec<CacheRecord> {
        let inner = self.lock();
        inner
            .order
            .iter()
            .filter_map(|k| inner.map.get(k).cloned())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl LlmCache for MemoryCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<CacheRecord>, LlmError> {
        Ok(self.lock().map.get(key).cloned())
    }

    async fn put(&self, record: CacheRecord) -> Result<(), LlmError> {
        let mut inner = self.lock();
        let key = record.key.clone();
        if inner.map.insert(key.clone(), record).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.map.remove(&old);
        }
        Ok(())
    }
}
