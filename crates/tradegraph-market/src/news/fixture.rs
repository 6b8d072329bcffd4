//! News from a JSON Lines file, for offline runs, examples and backtests.

use super::{filter, NewsError, NewsItem, NewsQuery, NewsSource};
use crate::{Clock, SystemClock};
use std::path::Path;
use std::sync::Arc;

const CRYPTO: &str = include_str!("../../fixtures/news/crypto.jsonl");
const INDIA: &str = include_str!("../../fixtures/news/india.jsonl");

/// News items from a JSON Lines file, one [`NewsItem`] per line (its serde form), answered as of
/// the clock: filtered by symbol and topic (case-insensitive, against `symbols` and `tags`).
///
/// Lines that are not valid items are skipped, counted and logged with their `file:line`; blank
/// lines are ignored. Two sets are bundled (fictional stories, some of them prompt-injection
/// attempts on purpose): [`Self::bundled_crypto`] (BTC, 2–5 December 2024) and
/// [`Self::bundled_india`] (NIFTY50 and BANKNIFTY around the RBI cut of 7 February 2025).
///
/// ```
/// use tradegraph_market::news::FixtureNews;
/// let news = FixtureNews::from_jsonl(
///     r#"{"id": "1", "published": "2024-12-02T08:00:00Z", "source": "Example Wire", "headline": "BTC steady"}
/// not json"#,
///     "inline",
/// );
/// assert_eq!(news.items().len(), 1);
/// assert_eq!(news.skipped(), 1);
/// ```
#[derive(Debug)]
pub struct FixtureNews {
    items: Vec<NewsItem>,
    skipped: u64,
    clock: Arc<dyn Clock>,
}

impl FixtureNews {
    /// Items from JSON Lines `text`; `origin` names it in logs (a file name).
    pub fn from_jsonl(text: &str, origin: &str) -> Self {
        let mut items = Vec::new();
        let mut skipped = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<NewsItem>(line) {
                Ok(item) => items.push(item),
                Err(e) => {
                    skipped += 1;
                    tracing::warn!(origin = %format!("{origin}:{}", n + 1), error = %e, "skipped a malformed news item");
                }
            }
        }
        Self {
            items,
            skipped,
            clock: Arc::new(SystemClock),
        }
    }

    /// These `items` (a set built in code, a test's stories).
    pub fn from_items(items: Vec<NewsItem>) -> Self {
        Self {
            items,
            skipped: 0,
            clock: Arc::new(SystemClock),
        }
    }

    /// Items from the JSON Lines file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, NewsError> {
        let path = path.as_ref();
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|source| NewsError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::from_jsonl(&text, &path.display().to_string()))
    }

    /// The bundled crypto set (`fixtures/news/crypto.jsonl`).
    pub fn bundled_crypto() -> Self {
        Self::from_jsonl(CRYPTO, "fixtures/news/crypto.jsonl")
    }

    /// The bundled Indian market set (`fixtures/news/india.jsonl`).
    pub fn bundled_india() -> Self {
        Self::from_jsonl(INDIA, "fixtures/news/india.jsonl")
    }

    /// The clock that bounds what is returned (a backtest's simulated clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every item read, in file order.
    pub fn items(&self) -> &[NewsItem] {
        &self.items
    }

    /// How many lines were skipped as malformed.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[async_trait::async_trait]
impl NewsSource for FixtureNews {
    async fn latest(&self, query: &NewsQuery) -> Result<Vec<NewsItem>, NewsError> {
        let matching = self
            .items
            .iter()
            .filter(|item| filter::matches(item, query))
            .cloned()
            .collect();
        Ok(filter::select(matching, query, self.clock.now()))
    }

    fn skipped_items(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sets_read_cleanly() {
        for (name, news) in [
            ("crypto", FixtureNews::bundled_crypto()),
            ("india", FixtureNews::bundled_india()),
        ] {
            assert_eq!(news.skipped(), 0, "{name}");
            assert!(
                (10..=20).contains(&news.items().len()),
                "{name}: {}",
                news.items().len()
            );
            assert!(
                news.items().iter().any(|i| i
                    .headline
                    .to_lowercase()
                    .contains("ignore previous instructions")
                    || i.summary
                        .to_lowercase()
                        .contains("ignore previous instructions")),
                "{name} carries a prompt-injection item"
            );
        }
    }
}
