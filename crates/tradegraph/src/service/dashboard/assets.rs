//! The dashboard's files, embedded in the binary: the two pages, the style sheet, the ES
//! modules (one a panel), the icon, and the vendored chart library with its license and notice.

use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub(crate) struct Asset {
    /// Its path under `/assets/<version>/`.
    pub(crate) path: &'static str,
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Its bytes.
    pub(crate) bytes: &'static [u8],
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! asset {
    ($path:literal, $kind:expr) => {
        Asset {
            path: $path,
            content_type: $kind,
            bytes: include_bytes!(concat!("assets/", $path)),
        }
    };
}

/// The pages, served at `/` and `/overview` (with `%ASSETS%` replaced by the assets' base).
pub(crate) const DASHBOARD_PAGE: &str = include_str!("assets/index.html");
/// The overview page.
pub(crate) const OVERVIEW_PAGE: &str = include_str!("assets/overview.html");

/// Every file served under `/assets/<version>/`.
pub(crate) const ASSETS: &[Asset] = &[
    asset!("style.css", CSS),
    asset!("icon.svg", SVG),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/events.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/panels/alerts.js", JS),
    asset!("js/panels/book.js", JS),
    asset!("js/panels/chart.js", JS),
    asset!("js/panels/controls.js", JS),
    asset!("js/panels/curves.js", JS),
    asset!("js/panels/decision.js", JS),
    asset!("js/panels/graph.js", JS),
    asset!("js/panels/health.js", JS),
    asset!("js/panels/llm.js", JS),
    asset!("js/panels/theme.js", JS),
    asset!("vendor/lightweight-charts.standalone.production.mjs", JS),
    asset!("vendor/LICENSE", TEXT),
    asset!("vendor/NOTICE", TEXT),
];

/// The assets' version: the start of the SHA-256 of every embedded file, so that a changed
/// file has a new URL and the old ones may be cached for good.
pub(crate) static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for page in [DASHBOARD_PAGE, OVERVIEW_PAGE] {
        hash.update(page.as_bytes());
    }
    for asset in ASSETS {
        hash.update(asset.path.as_bytes());
        hash.update(asset.bytes);
    }
    hex(&hash.finalize()[..8])
});

/// A page with its assets' base filled in, and its ETag.
pub(crate) struct Page {
    pub(crate) html: String,
    pub(crate) etag: String,
}

/// The page `source` as served.
pub(crate) fn page(source: &str) -> Page {
    let base = format!("/assets/{}", *VERSION);
    let html = source.replace("%ASSETS%", &base);
    let etag = format!("\"{}\"", hex(&Sha256::digest(html.as_bytes())[..8]));
    Page { html, etag }
}

/// The asset at `path`, if there is one.
pub(crate) fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_a_page_or_module_imports_is_embedded() {
        let sources = ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js"))
            .map(|a| (a.path, std::str::from_utf8(a.bytes).unwrap()));
        for (path, text) in sources {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line
                    .rsplit_once(" from '")
                    .map(|(_, t)| t.trim_end_matches("';"));
                let Some(target) = target else { continue };
                let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                for piece in target.split('/') {
                    match piece {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        other => parts.push(other),
                    }
                }
                let resolved = parts.join("/");
                assert!(
                    find(&resolved).is_some(),
                    "{path} imports {target}: {resolved} is not embedded"
                );
            }
        }
        for page in [DASHBOARD_PAGE, OVERVIEW_PAGE] {
            for piece in page.split("%ASSETS%/").skip(1) {
                let path = piece.split('"').next().unwrap();
                assert!(
                    find(path).is_some(),
                    "a page links {path}, which is not embedded"
                );
            }
        }
    }

    #[test]
    fn the_version_and_the_etag_follow_the_content() {
        assert_eq!(VERSION.len(), 16);
        let a = page("<p>%ASSETS%/x</p>");
        assert_eq!(a.html, format!("<p>/assets/{}/x</p>", *VERSION));
        assert_ne!(a.etag, page("<p>other</p>").etag);
    }
}
