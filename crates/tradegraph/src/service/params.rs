//! Reading requests: path parameters, query strings and JSON bodies with JSON errors, and
//! paging.

use super::error::ApiError;
use axum::extract::{FromRequestParts, Path, Query};
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

/// The path's parameters (`/approvals/{id}`, `/versions/{agent}/{n}`), refused with a JSON
/// error naming the bad segment, with axum's status (its own refusal is plain text).
pub(crate) struct Segments<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| ApiError::new(e.status(), format!("path: {}", e.body_text())))
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
/// Unix milliseconds) or after the last item of the previous page (`cursor`, its
/// `next_cursor`, opaque to clients).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub(crate) fn end(&self) -> Result<Option<PageEnd>, ApiError> {
        match (&self.cursor, &self.before) {
            (Some(c), _) => PageEnd::from_cursor(c).map(Some),
            (None, Some(b)) => Ok(Some(PageEnd {
                at: time("before", b)?,
                key: None,
            })),
            (None, None) => Ok(None),
        }
    }
}

/// Where a page ends (exclusive): before the millisecond `at`, or, with `key`, after the item
/// of that millisecond keyed `key` (the items of one millisecond go by key, highest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageEnd {
    pub(crate) at: Timestamp,
    pub(crate) key: Option<String>,
}

impl PageEnd {
    /// The cursor of the item at `at` keyed `key`: `<ms>.<key in hex>`.
    pub(crate) fn cursor(at: Timestamp, key: &str) -> String {
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{}.{hex}", at.millis())
    }

    /// A cursor as [`PageEnd::cursor`] writes it, or a time (as older cursors were).
    fn from_cursor(text: &str) -> Result<Self, ApiError> {
        let Some((ms, hex)) = text
            .split_once('.')
            .filter(|(ms, _)| ms.parse::<i64>().is_ok())
        else {
            return Ok(Self {
                at: time("cursor", text)?,
                key: None,
            });
        };
        let bad = || {
            ApiError::bad_request(format!(
                "cursor={text}: not a cursor of this API; give the `next_cursor` of the previous page as it came"
            ))
        };
        let at = time("cursor", ms)?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let key = String::from_utf8(bytes).map_err(|_| bad())?;
        Ok(Self { at, key: Some(key) })
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
    /// A page of `items` newest first, `limit` asked, with the `time` and the `key` of each:
    /// when full, its `next_cursor` resumes right after its last item.
    pub(crate) fn new(
        items: Vec<T>,
        limit: usize,
        time: impl Fn(&T) -> Timestamp,
        key: impl Fn(&T) -> &str,
    ) -> Self {
        let next_cursor = (items.len() >= limit)
            .then(|| {
                items
                    .last()
                    .map(|last| PageEnd::cursor(time(last), key(last)))
            })
            .flatten();
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
    fn a_full_page_points_at_its_last_item_and_a_short_one_ends() {
        let at = |s: i64| (Timestamp::from_secs(s), format!("key/{s}é"));
        let full = Page::new(vec![at(3), at(2), at(1)], 3, |t| t.0, |t| &t.1);
        let cursor = full.next_cursor.unwrap();
        let end = PageEnd::from_cursor(&cursor).unwrap();
        assert_eq!(
            end,
            PageEnd {
                at: at(1).0,
                key: Some(at(1).1)
            }
        );
        let last = Page::new(vec![at(1)], 3, |t| t.0, |t| &t.1);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn a_cursor_is_read_back_and_a_time_still_works_as_one() {
        let t: Timestamp = "2024-01-01T10:00:00.5Z".parse().unwrap();
        let end = PageEnd::from_cursor("2024-01-01T10:00:00.5Z").unwrap();
        assert_eq!(end, PageEnd { at: t, key: None });
        let end = PageEnd::from_cursor(&t.millis().to_string()).unwrap();
        assert_eq!(end, PageEnd { at: t, key: None });
        for bad in ["1.zz", "1.abc", "1.ff"] {
            let err = PageEnd::from_cursor(bad).unwrap_err();
            assert!(
                err.message.contains("next_cursor"),
                "{bad}: {}",
                err.message
            );
        }
    }
}
