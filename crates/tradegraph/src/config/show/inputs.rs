//! The `[news]` and `[macro]` sections of `tradegraph config show`.

use super::Section;
use crate::config::{MacroProvider, NewsProvider, Settings};
use serde_json::json;

impl Settings {
    pub(super) fn news_section(&self) -> Section {
        let s = "news";
        let n = &self.news;
        let mut entries = Vec::new();
        let (source, key, base_url) = match &n.provider {
            NewsProvider::None => ("none", None, None),
            NewsProvider::Fixture => ("fixture", None, None),
            NewsProvider::Finnhub {
                base_url, category, ..
            } => {
                entries.push(self.entry(s, "category", Some(json!(category))));
                ("finnhub", Some("finnhub_api_key"), base_url.as_ref())
            }
            NewsProvider::Eodhd {
                base_url, symbol, ..
            } => {
                entries.push(self.entry(s, "symbol", Some(json!(symbol))));
                ("eodhd", Some("eodhd_api_key"), base_url.as_ref())
            }
        };
        entries.insert(0, self.entry(s, "source", Some(json!(source))));
        entries.push(self.entry(s, "refresh_secs", Some(json!(n.refresh.as_secs()))));
        if let Some(key) = key {
            entries.push(self.entry(s, key, Some(json!("***"))));
        }
        if let Some(url) = base_url {
            entries.push(self.entry(
                s,
                "base_url",
                Some(json!(tradegraph_store::url::redact(url))),
            ));
        }
        Section {
            name: s.into(),
            array: false,
            entries,
        }
    }

    pub(super) fn macro_section(&self) -> Section {
        let s = "macro";
        let m = &self.macros;
        let mut entries = Vec::new();
        let source = match &m.provider {
            MacroProvider::None => "none",
            MacroProvider::Fixture => "fixture",
            MacroProvider::File(path) => {
                entries.push(self.entry(s, "file", Some(json!(path.display().to_string()))));
                "file"
            }
            MacroProvider::Fred {
                base_url, series, ..
            } => {
                entries.push(self.entry(s, "region", Some(json!(series.region))));
                entries.push(self.entry(s, "fred_api_key", Some(json!("***"))));
                if let Some(url) = base_url {
                    entries.push(self.entry(
                        s,
                        "base_url",
                        Some(json!(tradegraph_store::url::redact(url))),
                    ));
                }
                "fred"
            }
        };
        entries.insert(0, self.entry(s, "source", Some(json!(source))));
        entries.push(self.entry(s, "refresh_secs", Some(json!(m.refresh.as_secs()))));
        Section {
            name: s.into(),
            array: false,
            entries,
        }
    }
}
