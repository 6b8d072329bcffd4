//! [`NewsSettings`] and [`MacroSettings`]: where the agents' news and macro figures come from
//! (`[news]`, `[macro]`), and the sources they open.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::redact::Secret;
use tradegraph_core::Currency;
use tradegraph_market::news::{
    CachedMacro, CachedNews, EodhdNews, FileMacro, FinnhubNews, FixtureNews, FredMacro,
    FredSeriesSet, MacroSource, NewsError, NewsSource,
};

/// Where news comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewsProvider {
    /// None: the sentiment analyst reads no news.
    None,
    /// The bundled stories (crypto, or Indian markets for an instrument in rupees): the
    /// offline default.
    Fixture,
    /// Finnhub's market news (`FINNHUB_API_KEY`): a crypto bot's live news.
    Finnhub {
        /// The key.
        key: Secret,
        /// `FINNHUB_BASE_URL` (Finnhub's own unless set).
        base_url: Option<String>,
        /// The category (`[news] category`, `crypto`).
        category: String,
    },
    /// EODHD's financial news (`EODHD_API_KEY`): an Indian bot's live news.
    Eodhd {
        /// The key.
        key: Secret,
        /// `EODHD_BASE_URL` (EODHD's own unless set).
        base_url: Option<String>,
        /// The ticker the news is about (`[news] symbol`; `NSEBANK.INDX` for Bank Nifty,
        /// `NSEI.INDX` for Nifty 50).
        symbol: String,
    },
}

/// `[news]`: the news provider and how often a live one is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsSettings {
    /// Where news comes from.
    pub provider: NewsProvider,
    /// A live provider is asked at most this often (`refresh_secs`, 300); its stories are
    /// kept and deduplicated in between ([`CachedNews`]).
    pub refresh: Duration,
}

/// Where macro figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroProvider {
    /// None: the macro analyst reads no figures.
    None,
    /// The bundled Indian figures (RBI repo rate, CPI; October 2024 to April 2025).
    Fixture,
    /// Dated snapshots from a JSON file of your own (`[macro] file`, `TRADEGRAPH_MACRO_FILE`;
    /// the format of [`FileMacro`]): the RBI's announcements as you record them.
    File(PathBuf),
    /// FRED series (`FRED_API_KEY`), as known at each cycle's time.
    Fred {
        /// The key.
        key: Secret,
        /// `FRED_BASE_URL` (FRED's own unless set).
        base_url: Option<String>,
        /// The series ([`FredSeriesSet::india`] for an instrument in rupees,
        /// [`FredSeriesSet::us`] otherwise).
        series: Box<FredSeriesSet>,
    },
}

/// `[macro]`: the macro figures' provider and how often a live one is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroSettings {
    /// Where the figures come from.
    pub provider: MacroProvider,
    /// A live provider is asked at most this often (`refresh_secs`, 3600; [`CachedMacro`]).
    pub refresh: Duration,
}

/// A source opened, with a line saying what it is.
pub struct Opened<S: ?Sized> {
    /// The source (`None`: none).
    pub source: Option<Arc<S>>,
    /// What it is, for the start-up lines (`news: Finnhub (crypto), asked at most every 300 s`).
    pub description: String,
}

/// How long a running bot waits for a live provider's answer: a decision cycle waits at most
/// this for its news and its macro figures (asked at once; FRED's series too), and a provider
/// slower than that is skipped for the cycle (the stories and figures kept are served).
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a live provider is not used: a backtest or a replay reads the past, which these
/// providers answer only as of now.
const BACKTEST_NOTE: &str = "a backtest or a replay reads the bundled data: live providers \
                             answer as of now, not as of a past cycle";

impl NewsSettings {
    /// The source a bot on `currency` reads. `live`: a bot on the wall clock; a backtest or a
    /// replay (`false`) reads the bundled stories whatever the provider (a live one answers as
    /// of now only).
    ///
    /// # Errors
    /// A base URL that cannot be used.
    pub fn open(
        &self,
        currency: Currency,
        live: bool,
    ) -> Result<Opened<dyn NewsSource>, NewsError> {
        let fixture = |note: &str| Opened {
            source: Some(Arc::new(bundled_news(currency)) as Arc<dyn NewsSource>),
            description: format!("news: the bundled {} stories{note}", region(currency)),
        };
        let cached = |source: Arc<dyn NewsSource>, what: String| Opened {
            source: Some(Arc::new(CachedNews::new(source, self.refresh)) as Arc<dyn NewsSource>),
            description: format!(
                "news: {what}, asked at most every {} s, stories kept and deduplicated",
                self.refresh.as_secs()
            ),
        };
        Ok(match &self.provider {
            NewsProvider::None => Opened {
                source: None,
                description: "news: none ([news] source = \"none\")".to_owned(),
            },
            NewsProvider::Fixture => fixture(""),
            NewsProvider::Finnhub { .. } | NewsProvider::Eodhd { .. } if !live => {
                fixture(&format!(" ({BACKTEST_NOTE})"))
            }
            NewsProvider::Finnhub {
                key,
                base_url,
                category,
            } => {
                let mut client = FinnhubNews::new(key.clone())?
                    .with_category(category.clone())
                    .with_timeout(LIVE_TIMEOUT);
                if let Some(url) = base_url {
                    client = client.with_base_url(url)?;
                }
                cached(Arc::new(client), format!("Finnhub ({category})"))
            }
            NewsProvider::Eodhd {
                key,
                base_url,
                symbol,
            } => {
                let mut client = EodhdNews::new(key.clone())?
                    .with_symbol(symbol.clone())
                    .with_timeout(LIVE_TIMEOUT);
                if let Some(url) = base_url {
                    client = client.with_base_url(url)?;
                }
                cached(Arc::new(client), format!("EODHD ({symbol})"))
            }
        })
    }
}

impl MacroSettings {
    /// The source a bot reads; as [`NewsSettings::open`], a backtest reads the bundled
    /// figures (or a file) rather than a live provider.
    ///
    /// # Errors
    /// A file that cannot be read or used, a base URL that cannot be used.
    pub async fn open(
        &self,
        currency: Currency,
        live: bool,
    ) -> Result<Opened<dyn MacroSource>, NewsError> {
        let fixture = |note: &str| -> Result<Opened<dyn MacroSource>, NewsError> {
            Ok(match currency {
                Currency::Inr => Opened {
                    source: Some(Arc::new(FileMacro::bundled_india()?)),
                    description: format!("macro: the bundled Indian figures{note}"),
                },
                _ => Opened {
                    source: None,
                    description: format!("macro: none (no bundled figures outside India{note}; FRED_API_KEY reads FRED)"),
                },
            })
        };
        match &self.provider {
            MacroProvider::None => Ok(Opened {
                source: None,
                description: "macro: none ([macro] source = \"none\")".to_owned(),
            }),
            MacroProvider::Fixture => fixture(""),
            MacroProvider::File(path) => Ok(Opened {
                source: Some(Arc::new(FileMacro::open(path).await?)),
                description: format!("macro: {}", path.display()),
            }),
            MacroProvider::Fred { .. } if !live => fixture(&format!(" ({BACKTEST_NOTE})")),
            MacroProvider::Fred {
                key,
                base_url,
                series,
            } => {
                let mut client =
                    FredMacro::new(key.clone(), (**series).clone())?.with_timeout(LIVE_TIMEOUT);
                if let Some(url) = base_url {
                    client = client.with_base_url(url)?;
                }
                Ok(Opened {
                    source: Some(Arc::new(CachedMacro::new(client, self.refresh))),
                    description: format!(
                        "macro: FRED ({}: policy rate {}, CPI {}), as known the day before each cycle, asked at most every {} s",
                        series.region,
                        series.policy_rate.id,
                        series.cpi_yoy.id,
                        self.refresh.as_secs()
                    ),
                })
            }
        }
    }
}

/// The bundled stories for `currency`.
pub fn bundled_news(currency: Currency) -> FixtureNews {
    match currency {
        Currency::Inr => FixtureNews::bundled_india(),
        _ => FixtureNews::bundled_crypto(),
    }
}

fn region(currency: Currency) -> &'static str {
    match currency {
        Currency::Inr => "Indian market",
        _ => "crypto",
    }
}
