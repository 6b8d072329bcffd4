//! Live sources behind a cache: asked at most once per refresh interval, their stories kept
//! and deduplicated, their last good answer served while they are down.

use super::{filter, MacroSnapshot, MacroSource, NewsError, NewsItem, NewsQuery, NewsSource};
use crate::{Clock, SystemClock};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tradegraph_core::Timestamp;

/// The most stories a [`CachedNews`] keeps (the newest).
pub const CACHED_STORIES: usize = 1_000;

/// A news source asked at most once per `refresh` interval (by its clock), whose stories are
/// kept between refreshes and deduplicated, so a decision cycle reads its news from memory:
///
/// - a story is kept once: by its id, and across outlets and providers by its headline
///   (compared in lower case, letters and digits only), at its earliest publication;
/// - a query is answered from what was kept: as of its time (nothing published after it),
///   newest first, at most its limit, for its symbol and topic;
/// - when the source fails, the stories already kept are served and the error is logged; the
///   next attempt waits a refresh interval. The error is returned only while nothing was ever
///   fetched.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tradegraph_market::news::{CachedNews, FixtureNews, NewsQuery, NewsSource};
/// use tradegraph_market::SimulatedClock;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let clock = Arc::new(SimulatedClock::new("2024-12-04T00:00:00Z".parse()?));
/// let news = CachedNews::new(FixtureNews::bundled_crypto(), Duration::from_secs(300))
///     .with_clock(clock.clone());
/// let first = news.latest(&NewsQuery::new().limit(5)).await?;
/// assert_eq!(news.refreshes(), 1);
/// let again = news.latest(&NewsQuery::new().limit(5)).await?;
/// assert_eq!((news.refreshes(), first), (1, again)); // from memory
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CachedNews<S> {
    source: S,
    refresh: Duration,
    clock: Arc<dyn Clock>,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Newest first.
    stories: Vec<NewsItem>,
    ids: HashSet<String>,
    headlines: HashSet<String>,
    /// When the source may be asked again (`None`: never asked).
    next: Option<Timestamp>,
    /// Whether an answer ever came.
    fetched: bool,
    refreshes: u64,
    failures: u64,
}

impl<S: NewsSource> CachedNews<S> {
    /// `source`, asked at most once per `refresh`, on the system clock.
    pub fn new(source: S, refresh: Duration) -> Self {
        Self {
            source,
            refresh,
            clock: Arc::new(SystemClock),
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The clock that times refreshes and bounds what is returned.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many times the source answered.
    pub fn refreshes(&self) -> u64 {
        self.lock().refreshes
    }

    /// How many times the source failed.
    pub fn failures(&self) -> u64 {
        self.lock().failures
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A headline as compared across outlets: lower case, letters and digits, single spaces.
fn headline_key(headline: &str) -> String {
    headline
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Kept {
    /// Adds the stories not seen yet, by id or headline; keeps the newest [`CACHED_STORIES`].
    fn merge(&mut self, mut fresh: Vec<NewsItem>) {
        // Earliest first, so that of two copies the earlier publication is the one kept.
        fresh.sort_by_key(|item| item.published);
        for item in fresh {
            let headline = headline_key(&item.headline);
            if self.ids.contains(&item.id) || self.headlines.contains(&headline) {
                continue;
            }
            self.ids.insert(item.id.clone());
            self.headlines.insert(headline);
            self.stories.push(item);
        }
        self.stories
            .sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id)));
        for dropped in self.stories.drain(CACHED_STORIES.min(self.stories.len())..) {
            self.ids.remove(&dropped.id);
            self.headlines.remove(&headline_key(&dropped.headline));
        }
    }
}

#[async_trait::async_trait]
impl<S: NewsSource> NewsSource for CachedNews<S> {
    async fn latest(&self, query: &NewsQuery) -> Result<Vec<NewsItem>, NewsError> {
        let now = self.clock.now();
        let due = self.lock().next.is_none_or(|next| now >= next);
        if due {
            // Everything the source has now for this subject; the query's window is applied
            // to what is kept.
            let mut ask = NewsQuery::new().limit(CACHED_STORIES);
            ask.symbol.clone_from(&query.symbol);
            ask.topic.clone_from(&query.topic);
            let answer = self.source.latest(&ask).await;
            let mut kept = self.lock();
            kept.next = Some(
                now.add_millis(i64::try_from(self.refresh.as_millis()).unwrap_or(i64::MAX / 2)),
            );
            match answer {
                Ok(fresh) => {
                    kept.fetched = true;
                    kept.refreshes += 1;
                    kept.merge(fresh);
                }
                Err(e) if kept.fetched => {
                    kept.failures += 1;
                    tracing::warn!(error = %e, kept = kept.stories.len(), "news source failed; serving the stories kept");
                }
                Err(e) => {
                    kept.failures += 1;
                    return Err(e);
                }
            }
        }
        let kept = self.lock();
        let matching = kept
            .stories
            .iter()
            .filter(|item| filter::matches(item, query))
            .cloned()
            .collect();
        Ok(filter::select(matching, query, now))
    }

    fn skipped_items(&self) -> u64 {
        self.source.skipped_items()
    }
}

/// A macro source asked at most once per `refresh` interval: a snapshot is reused while it is
/// fresh and not dated after the time asked for; when the source fails, the last snapshot is
/// served (if it is not dated after the time asked for) and the error logged.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_market::news::{CachedMacro, FileMacro, MacroSource};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let macros = CachedMacro::new(FileMacro::bundled_india()?, Duration::from_secs(3600));
/// let s = macros.snapshot("2025-03-01T00:00:00Z".parse()?).await?;
/// assert_eq!(s.region, "IN");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CachedMacro<S> {
    source: S,
    refresh: Duration,
    clock: Arc<dyn Clock>,
    last: Mutex<Option<(Timestamp, MacroSnapshot)>>,
}

impl<S: MacroSource> CachedMacro<S> {
    /// `source`, asked at most once per `refresh`, on the system clock.
    pub fn new(source: S, refresh: Duration) -> Self {
        Self {
            source,
            refresh,
            clock: Arc::new(SystemClock),
            last: Mutex::new(None),
        }
    }

    /// The clock that times refreshes.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn last(&self) -> Option<(Timestamp, MacroSnapshot)> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait::async_trait]
impl<S: MacroSource> MacroSource for CachedMacro<S> {
    async fn snapshot(&self, as_of: Timestamp) -> Result<MacroSnapshot, NewsError> {
        let now = self.clock.now();
        let refresh = i64::try_from(self.refresh.as_millis()).unwrap_or(i64::MAX / 2);
        let last = self.last().filter(|(_, s)| s.as_of <= as_of);
        if let Some((at, snapshot)) = &last {
            if now.millis().saturating_sub(at.millis()) < refresh {
                return Ok(snapshot.clone());
            }
        }
        match self.source.snapshot(as_of).await {
            Ok(snapshot) => {
                *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((now, snapshot.clone()));
                Ok(snapshot)
            }
            Err(e) => match last {
                Some((_, snapshot)) => {
                    tracing::warn!(error = %e, as_of = %snapshot.as_of, "macro source failed; serving the last snapshot");
                    // Asked again after a refresh interval, not at every cycle.
                    *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some((now, snapshot.clone()));
                    Ok(snapshot)
                }
                None => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_compare_without_case_or_punctuation() {
        assert_eq!(
            headline_key("  Bitcoin ETF inflows: $1.2bn — record!"),
            headline_key("bitcoin etf inflows 1 2bn record")
        );
        assert_ne!(headline_key("BTC up"), headline_key("BTC down"));
    }
}
