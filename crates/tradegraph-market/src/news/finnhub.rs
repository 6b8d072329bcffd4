//! Finnhub market news: `GET {base}/news?category=crypto&token=KEY`.

use super::http::Http;
use super::json::{ItemError, Obj};
use super::{filter, NewsError, NewsItem, NewsQuery, NewsSource};
use crate::{Clock, SystemClock};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::redact::Secret;
use tradegraph_core::Timestamp;

/// Finnhub's market news by category (`crypto` unless set; `general`, `forex`, `merger`).
///
/// The endpoint returns the latest stories of the category (about 100), so a query's `symbol`
/// does not narrow it, `since`, `as_of` and `limit` are applied here, and a backtest far in the
/// past gets nothing (use [`FixtureNews`](super::FixtureNews) there). A query's `topic` replaces
/// the category. Items come back with `id` `finnhub:<id>`, the `related` symbols and the category
/// as a tag; items without a headline or a usable `datetime` are skipped and counted.
///
/// ```no_run
/// use tradegraph_market::news::{FinnhubNews, NewsQuery, NewsSource};
/// # async fn run() -> Result<(), tradegraph_market::news::NewsError> {
/// let finnhub = FinnhubNews::new("FINNHUB_API_KEY value")?
///     .with_timeout(std::time::Duration::from_secs(5));
/// for item in finnhub.latest(&NewsQuery::new().limit(10)).await? {
///     println!("{} {}", item.published, item.headline);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FinnhubNews {
    http: Http,
    category: String,
    clock: Arc<dyn Clock>,
    skipped: AtomicU64,
}

impl FinnhubNews {
    /// Finnhub's own API root.
    pub const DEFAULT_BASE_URL: &'static str = "https://finnhub.io/api/v1";

    /// A client for `key`, at [`Self::DEFAULT_BASE_URL`], 10 s timeout, category `crypto`, on
    /// the system clock.
    pub fn new(key: impl Into<Secret>) -> Result<Self, NewsError> {
        Ok(Self {
            http: Http::new("finnhub", Self::DEFAULT_BASE_URL, key.into(), "token")?,
            category: "crypto".to_owned(),
            clock: Arc::new(SystemClock),
            skipped: AtomicU64::new(0),
        })
    }

    /// Another API root (`FINNHUB_BASE_URL`; a proxy or a local test server).
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, NewsError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }

    /// The timeout of each call (10 s unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The default category.
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = category.into();
        self
    }

    /// The clock that bounds what is returned (a backtest's simulated clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A client of your own (shared connection pool, proxy settings). The timeout and the
    /// body cap still apply. Build it with `.redirect(reqwest::redirect::Policy::none())`, as
    /// the default client is: a client that follows redirects sends the key to whatever host a
    /// 3xx names.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http.set_client(client);
        self
    }
}

#[async_trait::async_trait]
impl NewsSource for FinnhubNews {
    async fn latest(&self, query: &NewsQuery) -> Result<Vec<NewsItem>, NewsError> {
        let category = query.topic.as_deref().unwrap_or(&self.category).to_owned();
        let raw = self
            .http
            .get_array("news", &[("category", category)])
            .await?;
        let mut items = Vec::with_capacity(raw.len());
        for (i, value) in raw.iter().enumerate() {
            match parse(value, i) {
                Ok(item) => items.push(item),
                Err(e) => {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(provider = "finnhub", path = %e.path, reason = %e.reason, "skipped a malformed news item");
                }
            }
        }
        Ok(filter::select(items, query, self.clock.now()))
    }

    fn skipped_items(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// One Finnhub item: `{category, datetime, headline, id, image, related, source, summary, url}`.
fn parse(value: &Value, index: usize) -> Result<NewsItem, ItemError> {
    let obj = Obj::new(value, format!("$[{index}]"))?;
    let secs = obj.integer("datetime")?;
    if secs <= 0 {
        return Err(ItemError {
            path: format!("$[{index}].datetime"),
            reason: format!("{secs} is not a publication time (unix seconds)"),
        });
    }
    let category = obj.text_or_empty("category");
    let source = obj.text_or_empty("source");
    Ok(NewsItem {
        id: format!("finnhub:{}", obj.id("id")?),
        published: Timestamp::from_secs(secs),
        source: if source.is_empty() { "finnhub" } else { source }.to_owned(),
        headline: obj.text("headline")?.trim().to_owned(),
        summary: obj.text_or_empty("summary").trim().to_owned(),
        url: obj.text_or_empty("url").to_owned(),
        symbols: obj
            .text_or_empty("related")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        tags: if category.is_empty() {
            Vec::new()
        } else {
            vec![category.to_owned()]
        },
        sentiment: None,
    })
}
