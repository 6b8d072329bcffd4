//! The feed and what it needs.

use super::{Resolver, DATA_VAR, FEED_VAR, SPEED_VAR};
use crate::config::instrument::Choice;
use crate::config::{ConfigError, FeedKind, FeedSettings, Flags, Origin, Venue};
use clap::ValueEnum;
use std::path::Path;
use tradegraph_broker::live::binance::{BINANCE_WS_API_URL, TESTNET_WS_API_URL};
use tradegraph_core::Symbol;
use tradegraph_market::feed::binance::BinanceConfig;
use tradegraph_market::feed::kite::KiteConfig;

/// Binance's REST endpoint.
const BINANCE_API_URL: &str = "https://api.binance.com";
/// Kite Connect's REST endpoint.
const KITE_API_URL: &str = "https://api.kite.trade";

/// The feed: `--feed`, `TRADEGRAPH_FEED`, `[bot] feed`, else replay when there is a file to
/// replay (the built-in instruments have a bundled sample) and synthetic data otherwise.
pub(super) fn feed(
    r: &mut Resolver<'_>,
    flags: &Flags,
    choice: &Choice,
    data_dir: &Path,
) -> Result<FeedSettings, ConfigError> {
    let cwd = r.cwd;
    let file_data = r.file_path(r.file.and_then(|f| f.doc.bot.data.as_deref()));
    let mut data = r.pick_opt(
        "bot.data",
        flags.data.as_ref().map(|p| cwd.join(p)),
        Some(DATA_VAR),
        |v| Ok(cwd.join(v)),
        file_data,
    )?;
    if data.is_none() {
        if let Some(sample) = choice.sample {
            r.origins.set("bot.data", Origin::Default);
            data = Some(cwd.join(sample));
        }
    }
    let file_kind = r.file.and_then(|f| f.doc.bot.feed);
    let kind = r.pick(
        "bot.feed",
        flags.feed,
        Some(FEED_VAR),
        |v| {
            FeedKind::from_str(v, true)
                .map_err(|_| format!("`{v}` is not a feed: use binance, kite, replay or synthetic"))
        },
        file_kind,
        || {
            if data.is_some() {
                FeedKind::Replay
            } else {
                FeedKind::Synthetic
            }
        },
    )?;
    let needs = match kind {
        FeedKind::Binance => Some(Venue::Binance),
        FeedKind::Kite => Some(Venue::Kite),
        _ => None,
    };
    if let Some(venue) = needs.filter(|v| *v != choice.venue) {
        return Err(ConfigError::Invalid {
            key: "bot.feed".into(),
            origin: r.origin("bot.feed"),
            message: format!(
                "instrument `{}` is not on {}: its venue is {}; use the {} feed, replay or \
                 synthetic",
                choice.name,
                venue.as_str(),
                choice.venue.as_str(),
                choice.venue.as_str(),
            ),
        });
    }
    match kind {
        FeedKind::Replay => {
            let path = data.ok_or_else(|| ConfigError::Invalid {
                key: "bot.data".into(),
                origin: Origin::Default,
                message: format!(
                    "the replay feed needs a file for `{}`: --data FILE, {DATA_VAR} or [bot] data",
                    choice.name
                ),
            })?;
            if !path.exists() {
                r.notices.push(format!(
                    "the replay file {} does not exist (yet)",
                    path.display()
                ));
            }
            Ok(FeedSettings::Replay { path })
        }
        FeedKind::Synthetic => {
            let file = r.file.and_then(|f| f.doc.bot.seed);
            let seed = r.pick("bot.seed", None, None, |_| Err(String::new()), file, || 1)?;
            let file = r.file.and_then(|f| f.doc.bot.speed);
            let speed = r.pick(
                "bot.speed",
                None,
                Some(SPEED_VAR),
                |text| {
                    text.trim()
                        .parse::<f64>()
                        .map_err(|e| format!("`{text}` is not a number: {e}"))
                },
                file,
                || 1.0,
            )?;
            if !(speed.is_finite() && speed > 0.0) {
                return Err(ConfigError::Invalid {
                    key: "bot.speed".into(),
                    origin: r.origin("bot.speed"),
                    message: format!(
                        "the synthetic feed's speed must be a positive multiple of real time (1 is real time, 60 a minute a second); {speed} is not"
                    ),
                });
            }
            Ok(FeedSettings::Synthetic { seed, speed })
        }
        FeedKind::Binance => binance(r),
        FeedKind::Kite => kite(r, choice, data_dir),
    }
}

fn binance(r: &mut Resolver<'_>) -> Result<FeedSettings, ConfigError> {
    let (ws, api, ws_api) = match r.file {
        Some(f) => (
            f.doc.feeds.binance.ws_url.clone(),
            f.doc.feeds.binance.api_url.clone(),
            f.doc.feeds.binance.ws_api_url.clone(),
        ),
        None => (None, None, None),
    };
    let text = |v: &str| Ok(v.to_owned());
    let api_url = r.pick(
        "feeds.binance.api_url",
        None,
        Some("BINANCE_API_URL"),
        text,
        api,
        || BINANCE_API_URL.to_owned(),
    )?;
    // The market streams follow the REST endpoint too: the testnet's prices for the testnet.
    let testnet = binance_environment(&api_url) == Some("testnet");
    let ws_url = r.pick(
        "feeds.binance.ws_url",
        None,
        Some("BINANCE_WS_URL"),
        text,
        ws,
        || {
            if testnet {
                BinanceConfig::TESTNET_URL.to_owned()
            } else {
                BinanceConfig::DEFAULT_URL.to_owned()
            }
        },
    )?;
    // The user data stream's WebSocket API follows the REST endpoint: Binance's own, or the
    // testnet's; another (a local venue) names its own.
    let ws_api_url = match r.pick_opt(
        "feeds.binance.ws_api_url",
        None,
        Some("BINANCE_WS_API_URL"),
        text,
        ws_api,
    )? {
        Some(url) => Some(url),
        None => {
            r.origins.set("feeds.binance.ws_api_url", Origin::Default);
            match binance_environment(&api_url) {
                Some("production") => Some(BINANCE_WS_API_URL.to_owned()),
                Some(_) => Some(TESTNET_WS_API_URL.to_owned()),
                None => None,
            }
        }
    };
    Ok(FeedSettings::Binance {
        ws_url,
        api_url,
        ws_api_url,
        api_key: r.secret("feeds.binance.api_key", "BINANCE_API_KEY"),
        api_secret: r.secret("feeds.binance.api_secret", "BINANCE_API_SECRET"),
    })
}

fn kite(
    r: &mut Resolver<'_>,
    choice: &Choice,
    data_dir: &Path,
) -> Result<FeedSettings, ConfigError> {
    let (ws, pinned) = match r.file {
        Some(f) => (
            f.doc.feeds.kite.ws_url.clone(),
            f.doc
                .feeds
                .kite
                .tokens
                .get(&choice.name)
                .map(|t| *t.get_ref()),
        ),
        None => (None, None),
    };
    let text = |v: &str| Ok(v.to_owned());
    let ws_url = r.pick(
        "feeds.kite.ws_url",
        None,
        Some("KITE_WS_URL"),
        text,
        ws,
        || KiteConfig::DEFAULT_URL.to_owned(),
    )?;
    let api_url = r.kite_api_url()?;
    let token = match (pinned, choice.kite_token) {
        (Some(token), _) => {
            r.origins.set("feeds.kite.tokens", Origin::File);
            token
        }
        (None, Some(token)) => {
            r.origins.set("feeds.kite.tokens", Origin::Default);
            token
        }
        (None, None) => {
            return Err(ConfigError::Invalid {
                key: "feeds.kite.tokens".into(),
                origin: Origin::Default,
                message: format!(
                    "the kite feed needs the instrument token of `{0}`: add `{0} = <token>` \
                     to [feeds.kite.tokens] (tokens are in Kite's instruments dump)",
                    choice.name
                ),
            })
        }
    };
    let api_key = r.secret("feeds.kite.api_key", "KITE_API_KEY");
    // The day's token `tradegraph kite login` kept (in `[live] data_dir`) when none is set:
    // the one place this fallback is made. Why the saved one cannot be used (none, another
    // day's, not login's) is said as it is.
    let access_token = match r.secret("feeds.kite.access_token", "KITE_ACCESS_TOKEN") {
        Some(token) => Ok(token),
        None => {
            let day = tradegraph_broker::live::kite::ist_today();
            tradegraph_broker::live::kite::load_token(data_dir, &day)
        }
    };
    let missing = |key: &str, why: String| ConfigError::Invalid {
        key: key.into(),
        origin: Origin::Default,
        message: format!(
            "the kite feed needs it: {why} (set it in the environment or .env.{}; the day's \
             token `tradegraph kite login` keeps is read from {}: `[live] data_dir`, \
             TRADEGRAPH_DATA_DIR)",
            choice.name,
            data_dir.display()
        ),
    };
    let Some(api_key) = api_key else {
        return Err(missing("KITE_API_KEY", "it is not set".to_owned()));
    };
    let access_token = match access_token {
        Ok(token) => token,
        Err(e) => {
            let why = match e {
                tradegraph_broker::BrokerError::Config(why) => why,
                other => other.to_string(),
            };
            return Err(missing("KITE_ACCESS_TOKEN", why));
        }
    };
    Ok(FeedSettings::Kite {
        ws_url,
        api_url,
        api_key,
        access_token,
        tokens: vec![(token, Symbol::clone(&choice.instrument.symbol))],
    })
}

impl Resolver<'_> {
    /// Kite's API address: `KITE_API_URL`, `[feeds.kite] api_url`, Kite's own.
    pub(super) fn kite_api_url(&mut self) -> Result<String, ConfigError> {
        let api = self.file.and_then(|f| f.doc.feeds.kite.api_url.clone());
        self.pick(
            "feeds.kite.api_url",
            None,
            Some("KITE_API_URL"),
            |v| Ok(v.to_owned()),
            api,
            || KITE_API_URL.to_owned(),
        )
    }
}

/// Which of Binance's environments a URL is on, by its host: `production` (`*.binance.com`,
/// `data-stream.binance.vision`) or `testnet` (`*testnet.binance.vision`); `None` for another
/// host (a local venue, a proxy), which cannot be told.
///
/// ```
/// use tradegraph::config::binance_environment;
/// assert_eq!(binance_environment("https://TESTNET.binance.vision:443/api"), Some("testnet"));
/// assert_eq!(binance_environment("wss://stream.binance.com:9443"), Some("production"));
/// assert_eq!(binance_environment("ws://127.0.0.1:9/ws"), None);
/// ```
pub fn binance_environment(url: &str) -> Option<&'static str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    if host == "testnet.binance.vision" || host.ends_with(".testnet.binance.vision") {
        Some("testnet")
    } else if host == "binance.com"
        || host.ends_with(".binance.com")
        || host == "data-stream.binance.vision"
    {
        Some("production")
    } else {
        None
    }
}
