//! A JSON Lines file cache: one record per line, appended.

use super::{CacheKey, CacheRecord, LlmCache};
use crate::LlmError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Records in a JSON Lines file, loaded into memory when opened and appended to on every new
/// answer (the last record of a key wins). Lines that cannot be read are skipped and counted.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use tradegraph_llm::cache::JsonlCache;
///
/// let path = std::env::temp_dir().join(format!("llm-cache-doc-{}.jsonl", std::process::id()));
/// let cache = JsonlCache::open(&path).await?;
/// assert_eq!((cache.len().await, cache.skipped_lines()), (0, 0));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JsonlCache {
    path: PathBuf,
    skipped: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    map: HashMap<CacheKey, CacheRecord>,
    file: tokio::fs::File,
}

impl JsonlCache {
    /// Opens (or creates, with its directory) the file at `path` and loads its records.
    ///
    /// # Errors
    /// [`LlmError::Cache`] when the file cannot be read or created.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, LlmError> {
        let path = path.as_ref().to_path_buf();
        let fail = |what: &str, e: std::io::Error| {
            LlmError::Cache(format!("{what} {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| fail("cannot create the directory of", e))?;
        }
        let text = match tokio::fs::read(&path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail("cannot read", e)),
        };
        let mut map = HashMap::new();
        let mut skipped = 0;
        // Line by line: a line that is not UTF-8 (a write torn inside a character) is one
        // line skipped, not a cache unread.
        for (n, raw) in text.split(|b| *b == b'\n').enumerate() {
            let line = match std::str::from_utf8(raw) {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => line,
                Err(e) => {
                    skipped += 1;
                    tracing::warn!(path = %path.display(), line = n + 1, error = %e, "skipping a cache line that is not UTF-8");
                    continue;
                }
            };
            match serde_json::from_str::<CacheRecord>(line) {
                Ok(record) => {
                    map.insert(record.key.clone(), record);
                }
                Err(e) => {
                    skipped += 1;
                    tracing::warn!(path = %path.display(), line = n + 1, error = %e, "skipping an unreadable cache line");
                }
            }
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| fail("cannot open", e))?;
        // A last line torn by a write cut short is ended, so the next record starts a line
        // of its own (glued to the torn one, it would be lost at the next open).
        if !text.is_empty() && !text.ends_with(b"\n") {
            file.write_all(b"\n")
                .await
                .map_err(|e| fail("cannot end the torn last line of", e))?;
            file.flush()
                .await
                .map_err(|e| fail("cannot end the torn last line of", e))?;
        }
        Ok(Self {
            path,
            skipped,
            inner: Mutex::new(Inner { map, file }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records held.
    pub async fn len(&self) -> usize {
        self.inner.lock().await.map.len()
    }

    /// Whether it holds nothing.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Lines skipped when the file was loaded.
    pub fn skipped_lines(&self) -> usize {
        self.skipped
    }
}

#[async_trait::async_trait]
impl LlmCache for JsonlCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<CacheRecord>, LlmError> {
        Ok(self.inner.lock().await.map.get(key).cloned())
    }

    async fn put(&self, record: CacheRecord) -> Result<(), LlmError> {
        let mut line = serde_json::to_string(&record)
            .map_err(|e| LlmError::Cache(format!("cannot encode a record: {e}")))?;
        line.push('\n');
        let mut inner = self.inner.lock().await;
        let fail = |e: std::io::Error| {
            LlmError::Cache(format!("cannot write {}: {e}", self.path.display()))
        };
        inner.file.write_all(line.as_bytes()).await.map_err(fail)?;
        inner.file.flush().await.map_err(fail)?;
        inner.map.insert(record.key.clone(), record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Content, Request, Response};

    /// The record the tests put: `{"a": 1}` under `key`.
    fn record_of(key: &CacheKey) -> CacheRecord {
        CacheRecord {
            key: key.clone(),
            response: Response::new("p", "m", Content::Json(serde_json::json!({"a": 1}))),
        }
    }

    #[tokio::test]
    async fn records_survive_a_reopen_and_bad_lines_are_skipped() {
        let dir = std::env::temp_dir().join(format!("tg-llm-jsonl-{}", std::process::id()));
        let path = dir.join("sub/cache.jsonl");
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let key = CacheKey::new("p", "m", &Request::chat("s", "u"));
        {
            let cache = JsonlCache::open(&path).await.unwrap();
            cache.put(record_of(&key)).await.unwrap();
        }
        tokio::fs::write(
            &path,
            format!(
                "{}not json\n",
                tokio::fs::read_to_string(&path).await.unwrap()
            ),
        )
        .await
        .unwrap();
        let cache = JsonlCache::open(&path).await.unwrap();
        assert_eq!((cache.len().await, cache.skipped_lines()), (1, 1));
        let record = cache.get(&key).await.unwrap().unwrap();
        assert_eq!(
            record.response.content,
            Content::Json(serde_json::json!({"a": 1}))
        );
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }

    /// A write torn inside a multi-byte character ("₹" is three bytes) leaves a line that is
    /// not UTF-8: that line is skipped, the records before it are read, and the cache opens.
    #[tokio::test]
    async fn a_line_torn_inside_a_character_is_one_line_skipped() {
        let dir = std::env::temp_dir().join(format!("tg-llm-jsonl-utf8-{}", std::process::id()));
        let path = dir.join("cache.jsonl");
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let key = CacheKey::new("p", "m", &Request::chat("s", "u"));
        {
            let cache = JsonlCache::open(&path).await.unwrap();
            cache.put(record_of(&key)).await.unwrap();
        }
        let mut bytes = tokio::fs::read(&path).await.unwrap();
        bytes.extend_from_slice(b"{\"key\":\"k2\",\"text\":\"\xE2\x82");
        tokio::fs::write(&path, &bytes).await.unwrap();
        let cache = JsonlCache::open(&path).await.unwrap();
        assert_eq!((cache.len().await, cache.skipped_lines()), (1, 1));
        assert!(cache.get(&key).await.unwrap().is_some());
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }

    /// A torn last line (a write cut short) is skipped, and a record put after it is kept:
    /// it starts on a line of its own instead of being glued to the torn one.
    #[tokio::test]
    async fn a_record_put_after_a_torn_line_survives_a_reopen() {
        let dir = std::env::temp_dir().join(format!("tg-llm-jsonl-torn-{}", std::process::id()));
        let path = dir.join("cache.jsonl");
        let _ = tokio::fs::remove_dir_all(&dir).await;
        tokio::fs::create_dir_all(&dir).await.unwrap();
        tokio::fs::write(&path, "{\"key\":").await.unwrap();
        let key = CacheKey::new("p", "m", &Request::chat("s", "u"));
        {
            let cache = JsonlCache::open(&path).await.unwrap();
            assert_eq!((cache.len().await, cache.skipped_lines()), (0, 1));
            cache.put(record_of(&key)).await.unwrap();
        }
        let cache = JsonlCache::open(&path).await.unwrap();
        assert_eq!((cache.len().await, cache.skipped_lines()), (1, 1));
        assert!(cache.get(&key).await.unwrap().is_some());
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }
}
