//! Reading requests: query strings and JSON bodies with JSON errors, and paging.

use super::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// A query string, refused with a JSON error naming the bad parameter.
pub(crate) struct Params<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::bad_request(format!("query string: {}", e.body_text())))
    }
}

/// A JSON body; an empty body is the default value.
pub(crate) fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("JSON body: {e}")))
}

/// `?limit=&before=&cursor=`: the newest `limit` items before `before` (a time, RFC 3339 or
/// Unix milliseconds) or `cursor` (the `next_cursor` of the previous page).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    pub(crate) limit: Option<usize>,
    pub(crate) before: Option<String>,
    pub(crate) cursor: Option<String>,
}

/// Items per page unless `limit` says otherwise, and the most a page holds.
pub(crate) const DEFAULT_LIMIT: usize = 50;
pub(crate) const MAX_LIMIT: usize = 500;

impl PageQuery {
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        limit(self.limit, DEFAULT_LIMIT, MAX_LIMIT)
    }

    /// The end (exclusive) of the page: the cursor, else `before`, else none.
    pub(crate) fn end(&self) -> Result<Option<Timestamp>, ApiError> {
        match (&self.cursor, &self.before) {
            (Some(c), _) => time("cursor", c).map(Some),
            (None, Some(b)) => time("before", b).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// `given`, else `default`, checked against 1..=`max`.
pub(crate) fn limit(given: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    let n = given.unwrap_or(default);
    if n == 0 || n > max {
        return Err(ApiError::bad_request(format!("limit={n}: give 1 to {max}")));
    }
    Ok(n)
}

/// A time: RFC 3339 (`2024-01-01T10:00:00Z`) or Unix milliseconds.
pub(crate) fn time(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Timestamp::try_from_millis(ms)
            .map_err(|e| ApiError::bad_request(format!("{name}={text}: {e}")));
    }
    text.parse::<Timestamp>().map_err(|_| {
        ApiError::bad_request(format!(
            "{name}={text}: give a time as RFC 3339 (2024-01-01T10:00:00Z) or Unix milliseconds"
        ))
    })
}

/// One page of a log, newest first; `next_cursor` asks for the page after it (`null` on the
/// last page).
#[derive(Debug, Serialize)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from items oldest first (as the stores return them), `limit` asked, `time` of
    /// each item.
    pub(crate) fn newest_first(
        mut items: Vec<T>,
        limit: usize,
        time: impl Fn(&T) -> Timestamp,
    ) -> Self {
        let next_cursor = (items.len() >= limit)
            .then(|| {
                items
                    .first()
                    .map(|oldest| time(oldest).millis().to_string())
            })
            .flatten();
        items.reverse();
        Self { items, next_cursor }
    }
}

/// A list that is not paged.
#[derive(Debug, Serialize)]
pub(crate) struct Items<T> {
    pub(crate) items: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_milliseconds_and_bad_ones_say_how() {
        let t: Timestamp = "2024-01-01T10:00:00Z".parse().unwrap();
        assert_eq!(time("before", "2024-01-01T10:00:00Z").unwrap(), t);
        assert_eq!(time("before", &t.millis().to_string()).unwrap(), t);
        let err = time("before", "yesterday").unwrap_err();
        assert!(err.message.contains("before=yesterday") && err.message.contains("RFC 3339"));
        assert!(limit(Some(0), 50, 500).is_err() && limit(Some(501), 50, 500).is_err());
        assert_eq!(limit(None, 50, 500).unwrap(), 50);
    }

    #[test]
    fn a_full_page_points_at_its_oldest_item_and_a_short_one_ends() {
        let at = |s: i64| Timestamp::from_secs(s);
        let full = Page::newest_first(vec![at(1), at(2), at(3)], 3, |t| *t);
        assert_eq!(full.items, vec![at(3), at(2), at(1)]);
        assert_eq!(full.next_cursor, Some("1000".to_owned()));
        let last = Page::newest_first(vec![at(1)], 3, |t| *t);
        assert_eq!(last.next_cursor, None);
    }
}
