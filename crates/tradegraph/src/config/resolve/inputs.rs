//! `[news]` and `[macro]`: which provider, its key and endpoint, how often it is asked.

use super::Resolver;
use crate::config::inputs::{MacroProvider, MacroSettings, NewsProvider, NewsSettings};
use crate::config::instrument::Choice;
use crate::config::ConfigError;
use std::time::Duration;
use tradegraph_core::Currency;
use tradegraph_market::news::FredSeriesSet;

/// The news provider's variable (`auto`, `fixture`, `finnhub`, `eodhd`, `none`).
pub const NEWS_VAR: &str = "TRADEGRAPH_NEWS";
/// The macro provider's variable (`auto`, `fixture`, `file`, `fred`, `none`).
pub const MACRO_VAR: &str = "TRADEGRAPH_MACRO";
/// The macro snapshots' file (`[macro] file`).
pub const MACRO_FILE_VAR: &str = "TRADEGRAPH_MACRO_FILE";

const NEWS_CHOICES: [&str; 5] = ["auto", "fixture", "finnhub", "eodhd", "none"];
const MACRO_CHOICES: [&str; 5] = ["auto", "fixture", "file", "fred", "none"];

/// One of `choices`, in lower case.
fn one_of(text: &str, choices: &[&str]) -> Result<String, String> {
    let wanted = text.trim().to_ascii_lowercase();
    if choices.contains(&wanted.as_str()) {
        Ok(wanted)
    } else {
        Err(format!("`{text}` is not one of {}", choices.join(", ")))
    }
}

impl Resolver<'_> {
    fn refresh(
        &mut self,
        key: &str,
        file: Option<u64>,
        default: u64,
    ) -> Result<Duration, ConfigError> {
        let secs = self.pick(key, None, None, |_| Err(String::new()), file, || default)?;
        if secs == 0 {
            return Err(self.invalid(key, "must be at least 1 (seconds)".into()));
        }
        Ok(Duration::from_secs(secs))
    }

    /// `[news]`: `source` (`TRADEGRAPH_NEWS`; `auto` unless set: Finnhub for a bot outside
    /// India when `FINNHUB_API_KEY` is set, EODHD for an Indian index when `EODHD_API_KEY` is,
    /// the bundled stories otherwise), `refresh_secs`, `category`, `symbol`.
    pub(super) fn news(&mut self, choice: &Choice) -> Result<NewsSettings, ConfigError> {
        const KEY: &str = "news.source";
        let section = self.doc().map(|d| &d.news);
        let file = section.and_then(|n| n.source.clone());
        let refresh_file = section.and_then(|n| n.refresh_secs);
        let category_file = section.and_then(|n| n.category.clone());
        let symbol_file = section.and_then(|n| n.symbol.clone());
        let file = file
            .map(|f| one_of(&f, &NEWS_CHOICES).map_err(|m| self.invalid(KEY, m)))
            .transpose()?;
        let source = self.pick(
            KEY,
            None,
            Some(NEWS_VAR),
            |v| one_of(v, &NEWS_CHOICES),
            file,
            || "auto".to_owned(),
        )?;
        let refresh = self.refresh("news.refresh_secs", refresh_file, 300)?;
        let india = choice.instrument.currency == Currency::Inr;
        let symbol = self
            .pick_opt(
                "news.symbol",
                None,
                None,
                |_| Err(String::new()),
                symbol_file,
            )?
            .or_else(|| match choice.name.as_str() {
                "banknifty" => Some("NSEBANK.INDX".to_owned()),
                "nifty" => Some("NSEI.INDX".to_owned()),
                _ => None,
            });
        let finnhub_key = self.secret("news.finnhub_api_key", "FINNHUB_API_KEY");
        let eodhd_key = self.secret("news.eodhd_api_key", "EODHD_API_KEY");
        let finnhub = |r: &mut Self, key| NewsProvider::Finnhub {
            key,
            base_url: r.layers.get("FINNHUB_BASE_URL").map(|(v, _)| v),
            category: category_file.clone().unwrap_or_else(|| "crypto".to_owned()),
        };
        let provider = match source.as_str() {
            "none" => NewsProvider::None,
            "fixture" => NewsProvider::Fixture,
            "finnhub" => match finnhub_key {
                Some(key) => finnhub(self, key),
                None => return Err(self.invalid(KEY, "finnhub needs FINNHUB_API_KEY".into())),
            },
            "eodhd" => match (eodhd_key, symbol) {
                (Some(key), Some(symbol)) => NewsProvider::Eodhd {
                    key,
                    base_url: self.layers.get("EODHD_BASE_URL").map(|(v, _)| v),
                    symbol,
                },
                (None, _) => return Err(self.invalid(KEY, "eodhd needs EODHD_API_KEY".into())),
                (_, None) => {
                    return Err(self.invalid(
                        KEY,
                        format!(
                            "eodhd needs the ticker the news is about for `{}`: set [news] symbol \
                             (e.g. \"RELIANCE.NSE\")",
                            choice.name
                        ),
                    ))
                }
            },
            _ => match (india, finnhub_key, eodhd_key, symbol) {
                (false, Some(key), _, _) => finnhub(self, key),
                (true, _, Some(key), Some(symbol)) => NewsProvider::Eodhd {
                    key,
                    base_url: self.layers.get("EODHD_BASE_URL").map(|(v, _)| v),
                    symbol,
                },
                _ => NewsProvider::Fixture,
            },
        };
        Ok(NewsSettings { provider, refresh })
    }

    /// `[macro]`: `source` (`TRADEGRAPH_MACRO`; `auto` unless set: the `file` when one is set,
    /// else FRED when `FRED_API_KEY` is set, else the bundled Indian figures for a bot in
    /// rupees, else none), `file` (`TRADEGRAPH_MACRO_FILE`), `refresh_secs`.
    pub(super) fn macros(&mut self, choice: &Choice) -> Result<MacroSettings, ConfigError> {
        const KEY: &str = "macro.source";
        let section = self.doc().map(|d| &d.macros);
        let file = section.and_then(|m| m.source.clone());
        let refresh_file = section.and_then(|m| m.refresh_secs);
        let path_file = self.file_path(section.and_then(|m| m.file.as_deref()));
        let file = file
            .map(|f| one_of(&f, &MACRO_CHOICES).map_err(|m| self.invalid(KEY, m)))
            .transpose()?;
        let source = self.pick(
            KEY,
            None,
            Some(MACRO_VAR),
            |v| one_of(v, &MACRO_CHOICES),
            file,
            || "auto".to_owned(),
        )?;
        let refresh = self.refresh("macro.refresh_secs", refresh_file, 3_600)?;
        let cwd = self.cwd.to_owned();
        let path = self.pick_opt(
            "macro.file",
            None,
            Some(MACRO_FILE_VAR),
            |v| Ok(cwd.join(v.trim())),
            path_file,
        )?;
        let fred_key = self.secret("macro.fred_api_key", "FRED_API_KEY");
        let india = choice.instrument.currency == Currency::Inr;
        let fred = |r: &mut Self, key| MacroProvider::Fred {
            key,
            base_url: r.layers.get("FRED_BASE_URL").map(|(v, _)| v),
            series: Box::new(if india {
                FredSeriesSet::india()
            } else {
                FredSeriesSet::us()
            }),
        };
        let provider = match (source.as_str(), path, fred_key) {
            ("none", _, _) => MacroProvider::None,
            ("fixture", _, _) => MacroProvider::Fixture,
            ("file", Some(path), _) => MacroProvider::File(path),
            ("file", None, _) => {
                return Err(
                    self.invalid(KEY, format!("file needs [macro] file or {MACRO_FILE_VAR}"))
                )
            }
            ("fred", _, Some(key)) => fred(self, key),
            ("fred", _, None) => return Err(self.invalid(KEY, "fred needs FRED_API_KEY".into())),
            (_, Some(path), _) => MacroProvider::File(path),
            (_, None, Some(key)) => fred(self, key),
            (_, None, None) => MacroProvider::Fixture,
        };
        Ok(MacroSettings { provider, refresh })
    }
}
