//! EODHD financial news: `GET {base}/news?s=NSEI.INDX&offset=0&limit=N&api_token=KEY&fmt=json`.

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

/// Article text longer than this is cut for [`NewsItem::summary`].
const SUMMARY_CHARS: usize = 1000;

/// EODHD's financial news for a ticker (`s`: `NSEI.INDX`, `NSEBANK.INDX`, `RELIANCE.NSE`) or a
/// topic tag (`t`), with a sentiment polarity per article.
///
/// The query's `symbol` (or the default set with [`Self::with_symbol`]) is sent as `s`, its
/// `topic` as `t`; `from`/`to` carry the dates of `since` and of the as-of cutoff, so a backtest
/// gets the news of its day, and the exact cutoff is applied here. Items come back with the
/// article link as `id`, the link's host as `source`, and the text cut to 1,000 characters as
/// `summary`; items without a title or a readable `date` are skipped and counted. A sentiment
/// polarity outside EODHD's documented -1..1 is dropped (the item is kept with no sentiment,
/// never a clamped or invented one), logged and counted ([`Self::dropped_sentiments`]).
///
/// ```no_run
/// use tradegraph_market::news::{EodhdNews, NewsQuery, NewsSource};
/// # async fn run() -> Result<(), tradegraph_market::news::NewsError> {
/// let eodhd = EodhdNews::new("EODHD_API_KEY value")?.with_symbol("NSEBANK.INDX");
/// let items = eodhd.latest(&NewsQuery::new().limit(10)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EodhdNews {
    http: Http,
    symbol: Option<String>,
    clock: Arc<dyn Clock>,
    skipped: AtomicU64,
    dropped_sentiments: AtomicU64,
}

impl EodhdNews {
    /// EODHD's own API root.
    pub const DEFAULT_BASE_URL: &'static str = "https://eodhd.com/api";

    /// A client for `key`, at [`Self::DEFAULT_BASE_URL`], 10 s timeout, on the system clock.
    pub fn new(key: impl Into<Secret>) -> Result<Self, NewsError> {
        Ok(Self {
            http: Http::new("eodhd", Self::DEFAULT_BASE_URL, key.into(), "api_token")?,
            symbol: None,
            clock: Arc::new(SystemClock),
            skipped: AtomicU64::new(0),
            dropped_sentiments: AtomicU64::new(0),
        })
    }

    /// Another API root (`EODHD_BASE_URL`; a proxy or a local test server).
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, NewsError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }

    /// The timeout of each call (10 s unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The ticker asked for when a query names neither symbol nor topic.
    pub fn with_symbol(mut self, symbol: impl Into<String>) -> Self {
        self.symbol = Some(symbol.into());
        self
    }

    /// The clock that bounds what is returned (a backtest's simulated clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many sentiment polarities outside -1..1 this client has dropped since it was made
    /// (their items were kept, without a sentiment).
    pub fn dropped_sentiments(&self) -> u64 {
        self.dropped_sentiments.load(Ordering::Relaxed)
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
impl NewsSource for EodhdNews {
    async fn latest(&self, query: &NewsQuery) -> Result<Vec<NewsItem>, NewsError> {
        let now = self.clock.now();
        let mut params = Vec::new();
        let symbol = query.symbol.as_ref().or(if query.topic.is_none() {
            self.symbol.as_ref()
        } else {
            None
        });
        if let Some(symbol) = symbol {
            params.push(("s", symbol.clone()));
        }
        if let Some(topic) = &query.topic {
            params.push(("t", topic.clone()));
        }
        if params.is_empty() {
            return Err(NewsError::Config(
                "eodhd: a news query needs a symbol (`s`, e.g. NSEI.INDX) or a topic (`t`); \
                 set one on the query or with EodhdNews::with_symbol"
                    .to_owned(),
            ));
        }
        if let Some(since) = query.since {
            params.push(("from", date(since)));
        }
        params.push(("to", date(filter::cutoff(query, now))));
        params.push(("offset", "0".to_owned()));
        params.push(("limit", query.limit.clamp(1, 1000).to_string()));
        params.push(("fmt", "json".to_owned()));
        let raw = self.http.get_array("news", &params).await?;
        let mut items = Vec::with_capacity(raw.len());
        for (i, value) in raw.iter().enumerate() {
            match parse(value, i) {
                Ok((item, None)) => items.push(item),
                Ok((item, Some(polarity))) => {
                    self.dropped_sentiments.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(provider = "eodhd", path = %format!("$[{i}].sentiment.polarity"), polarity, id = %item.id, "dropped a sentiment polarity outside -1..1; the item is kept without one");
                    items.push(item);
                }
                Err(e) => {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(provider = "eodhd", path = %e.path, reason = %e.reason, "skipped a malformed news item");
                }
            }
        }
        Ok(filter::select(items, query, now))
    }

    fn skipped_items(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

fn date(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d").to_string()
}

/// One EODHD item: `{date, title, content, link, symbols, tags, sentiment{polarity,neg,neu,pos}}`,
/// and the polarity it dropped for lying outside -1..1, if it did.
fn parse(value: &Value, index: usize) -> Result<(NewsItem, Option<f64>), ItemError> {
    let obj = Obj::new(value, format!("$[{index}]"))?;
    let published: Timestamp = obj.text("date")?.parse().map_err(|e| ItemError {
        path: format!("$[{index}].date"),
        reason: format!("{e}"),
    })?;
    let title = obj.text("title")?.trim().to_owned();
    let link = obj.text_or_empty("link").trim().to_owned();
    let source = reqwest::Url::parse(&link)
        .ok()
        .and_then(|url| {
            url.host_str()
                .map(|h| h.trim_start_matches("www.").to_owned())
        })
        .unwrap_or_else(|| "eodhd".to_owned());
    let id = if link.is_empty() {
        format!("eodhd:{published}:{title}")
    } else {
        link.clone()
    };
    let polarity = obj
        .nested_number("sentiment", "polarity")
        .filter(|p| p.is_finite());
    let (sentiment, dropped) = match polarity {
        Some(p) if !(-1.0..=1.0).contains(&p) => (None, Some(p)),
        p => (p, None),
    };
    let item = NewsItem {
        id,
        published,
        source,
        summary: cut(obj.text_or_empty("content").trim()),
        headline: title,
        url: link,
        symbols: obj.strings("symbols")?,
        tags: obj.strings("tags")?,
        sentiment,
    };
    Ok((item, dropped))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(SUMMARY_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
