//! Live sources behind a cache: asked at most once per refresh interval, their stories kept
//! and deduplicated, their last good answer served while they are down.

use super::{filter, MacroSnapshot, MacroSource, NewsError, NewsItem, NewsQuery, NewsSource};
use crate::{Clock, SystemClock};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tradegraph_core::Timestamp;

/// The most stories a [`CachedNews`] keeps (the newest).
pub const CACHED_STORIES: usize = 1_000;

/// Two stories with the same headline are one story when published this close together (48
/// hours); a recurring headline ("Crypto market update") on other days is a new story.
pub const SAME_STORY_WITHIN: Duration = Duration::from_secs(48 * 3_600);

/// A news source asked at most once per `refresh` interval (by its clock), whose stories are
/// kept between refreshes and deduplicated, so a decision cycle reads its news from memory:
///
/// - a story is kept once: by its id, and across outlets and providers by its headline
///   (compared in lower case, letters and digits only; a headline without either is never
///   taken for another) when the two were published within [`SAME_STORY_WITHIN`] of each
///   other, at its earliest publication;
/// - a query is answered from what was kept: as of its time (nothing published after it),
///   newest first, at most its limit, for its symbol and topic. A cache is meant for one
///   subject (a bot's): a query for another symbol or topic within the interval is answered
///   from the stories fetched for the first;
/// - when the source fails, the stories already kept are served and the error is logged; the
///   next attempt waits a refresh interval. While nothing was ever fetched, the source is asked
///   again at each query and its error returned.
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
    /// Each kept headline's key, with the publications of the stories kept under it.
    headlines: HashMap<String, Vec<Timestamp>>,
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
        let window = i64::try_from(SAME_STORY_WITHIN.as_millis()).unwrap_or(i64::MAX);
        // Earliest first, so that of two copies the earlier publication is the one kept.
        fresh.sort_by_key(|item| item.published);
        for item in fresh {
            let headline = headline_key(&item.headline);
            let same_story = !headline.is_empty()
                && self.headlines.get(&headline).is_some_and(|kept| {
                    kept.iter()
                        .any(|t| (t.millis() - item.published.millis()).abs() <= window)
                });
            if self.ids.contains(&item.id) || same_story {
                continue;
            }
            self.ids.insert(item.id.clone());
            self.headlines
                .entry(headline)
                .or_default()
                .push(item.published);
            self.stories.push(item);
        }
        self.stories
            .sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id)));
        for dropped in self.stories.drain(CACHED_STORIES.min(self.stories.len())..) {
            self.ids.remove(&dropped.id);
            let key = headline_key(&dropped.headline);
            if let Some(kept) = self.headlines.get_mut(&key) {
                kept.retain(|t| *t != dropped.published);
                if kept.is_empty() {
                    self.headlines.remove(&key);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl<S: NewsSource> NewsSource for CachedNews<S> {
    async fn latest(&self, query: &NewsQuery) -> Result<Vec<NewsItem>, NewsError> {
        let now = self.clock.now();
        let due = {
            let kept = self.lock();
            !kept.fetched || kept.next.is_none_or(|next| now >= next)
        };
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

    fn story(id: &str, secs: i64, headline: &str) -> NewsItem {
        NewsItem {
            id: id.to_owned(),
            published: Timestamp::from_secs(secs),
            source: "s".to_owned(),
            headline: headline.to_owned(),
            summary: String::new(),
            url: String::new(),
            symbols: Vec::new(),
            tags: Vec::new(),
            sentiment: None,
        }
    }

    #[test]
    fn a_headline_is_one_story_within_two_days_only_and_an_empty_one_never() {
        let day = 86_400;
        let mut kept = Kept::default();
        kept.merge(vec![
            story("a", 0, "Crypto market update"),
            story("b", day, "CRYPTO MARKET UPDATE!"),
            story("c", 5 * day, "Crypto market update"),
            story("d", 10, "🚀🚀"),
            story("e", 20, "!!!"),
        ]);
        let ids: Vec<_> = kept.stories.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["c", "e", "d", "a"],
            "b is a's copy; c is a later story; d and e differ"
        );
    }

    #[test]
    fn headlines_compare_without_case_or_punctuation() {
        assert_eq!(
            headline_key("  Bitcoin ETF inflows: $1.2bn — record!"),
            headline_key("bitcoin etf inflows 1 2bn record")
        );
        assert_ne!(headline_key("BTC up"), headline_key("BTC down"));
    }
}
