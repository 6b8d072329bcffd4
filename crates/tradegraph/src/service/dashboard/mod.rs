//! The dashboard, served by the bot: `GET /` (the bot's dashboard), `GET /overview` (the bots
//! of `[dashboard] peers` at a glance), `GET /assets/<version>/...` (the files, embedded in the
//! binary), and the two endpoints only the dashboard needed: `GET /api/v1/graph` (the compiled
//! trading graph's nodes and edges) and `GET /api/v1/overview` (each peer's status, asked by
//! this bot, so the browser talks to one origin).
//!
//! Every page and file carries a `Content-Security-Policy` that allows only this origin (no
//! inline script or style, no third party), `X-Content-Type-Options: nosniff` and an `ETag`;
//! the files' URLs carry their version (a hash of every embedded file), so they are cached for
//! a year, while the pages are revalidated (`no-cache`).

mod assets;
mod graph;
mod overview;

pub(crate) use assets::VERSION;
pub(crate) use overview::OverviewCache;

use super::error::ApiError;
use super::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The policy of every dashboard response: this origin only, no inline script, no inline
/// style but the one rule the chart library adds for its TradingView attribution logo (allowed
/// by its hash; a test checks it against the vendored file).
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'";

/// How long a versioned file may be cached.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `body` as `content_type` with the dashboard's headers, or 304 when `request` already has
/// `etag`.
fn respond(
    request: &HeaderMap,
    content_type: &'static str,
    cache: &'static str,
    etag: &str,
    body: impl IntoResponse,
) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let headers = response.headers_mut();
    if !fresh {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(tag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn page(request: &HeaderMap, source: &str) -> Response {
    let page = assets::page(source);
    respond(
        request,
        "text/html; charset=utf-8",
        "no-cache",
        &page.etag,
        page.html,
    )
}

/// `GET /`: the bot's dashboard.
async fn dashboard(request: HeaderMap) -> Response {
    page(&request, assets::DASHBOARD_PAGE)
}

/// `GET /overview`: the bots of `[dashboard] peers`.
async fn overview_page(request: HeaderMap) -> Response {
    page(&request, assets::OVERVIEW_PAGE)
}

/// `GET /assets/<version>/<path>`: an embedded file of this version.
async fn asset(
    request: HeaderMap,
    Path((version, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if version != *VERSION {
        return Err(ApiError::not_found(format!(
            "no dashboard files of version `{version}` here (this bot serves {}): reload the page",
            *VERSION
        )));
    }
    let found = assets::find(&path).ok_or_else(|| {
        ApiError::not_found(format!("no dashboard file `{path}`; reload the page"))
    })?;
    let etag = format!("\"{}-{}\"", *VERSION, found.bytes.len());
    Ok(respond(
        &request,
        found.content_type,
        IMMUTABLE,
        &etag,
        found.bytes,
    ))
}

/// The dashboard's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/overview", get(overview_page))
        .route("/assets/{version}/{*path}", get(asset))
        .route("/api/v1/graph", get(graph::graph))
        .route("/api/v1/overview", get(overview::overview))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The style element the vendored chart library inserts for its attribution logo.
    pub(crate) const ATTRIBUTION_STYLE: &str = "a#tv-attr-logo{--fill:#131722;--stroke:#fff;\
         position:absolute;left:10px;bottom:10px;height:19px;width:35px;margin:0;padding:0;border:0;\
         z-index:3;}a#tv-attr-logo[data-dark]{--fill:#D1D4DC;--stroke:#131722;}";

    fn base64(bytes: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn the_policy_allows_exactly_the_chart_librarys_attribution_style() {
        let library = assets::find("vendor/lightweight-charts.standalone.production.mjs").unwrap();
        let text = std::str::from_utf8(library.bytes).unwrap();
        assert!(
            text.contains(&format!("innerText=\"{ATTRIBUTION_STYLE}\"")),
            "the vendored library's style"
        );
        let hash = base64(&Sha256::digest(ATTRIBUTION_STYLE.as_bytes()));
        assert!(
            CONTENT_SECURITY_POLICY.contains(&format!("'sha256-{hash}'")),
            "{hash}"
        );
        assert_eq!(base64(b"hi"), "aGk=");
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
    }
}
