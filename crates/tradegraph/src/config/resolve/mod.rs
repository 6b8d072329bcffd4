//! [`Settings::resolve`]: flags, then the environment, then `.env.<name>`, then `.env`, then
//! the configuration file, then the defaults.

mod alerts;
mod dashboard;
mod execution;
mod feed;
mod health;
mod inputs;
mod live;
mod llm;
mod values;

pub use dashboard::{DASHBOARD_PEERS_VAR, DEFAULT_DASHBOARD_PEERS};
pub use execution::FILL_TIMING_VAR;
pub use feed::binance_environment;
pub use inputs::{MACRO_FILE_VAR, MACRO_VAR, NEWS_VAR};
pub use live::{BINANCE_RESERVED_BASE_VAR, DATA_DIR_VAR, KITE_PRODUCT_VAR};
pub use values::default_cash;
#[cfg(feature = "service")]
pub(crate) use values::{api_token_problem, API_TOKEN_MIN_LEN};

use super::dotenv::EnvFile;
use super::file::ConfigFile;
use super::instrument::{self, Choice, BUILT_IN};
use super::layers::Layers;
use super::{ConfigError, Flags, Origin, Origins, Settings};
use std::path::{Path, PathBuf};
use tradegraph_llm::Secret;
use tradegraph_store::url::redact_all;

/// The configuration file's variable.
pub const CONFIG_VAR: &str = "TRADEGRAPH_CONFIG";
/// The instrument's variable.
pub const INSTRUMENT_VAR: &str = "TRADEGRAPH_INSTRUMENT";
/// The feed's variable.
pub const FEED_VAR: &str = "TRADEGRAPH_FEED";
/// The replay file's variable.
pub const DATA_VAR: &str = "TRADEGRAPH_DATA";
/// The synthetic feed's speed's variable, a multiple of real time (`[bot] speed`).
pub const SPEED_VAR: &str = "TRADEGRAPH_SPEED";
/// The service address's variable.
pub const LISTEN_VAR: &str = "TRADEGRAPH_LISTEN";
/// Live trading's variable (`1`; the file must also say `live = true`).
pub const LIVE_VAR: &str = "TRADEGRAPH_LIVE";
/// The prompts directory's variable.
pub const PROMPTS_DIR_VAR: &str = "TRADEGRAPH_PROMPTS_DIR";
/// The control endpoints' bearer token.
pub const API_TOKEN_VAR: &str = "TRADEGRAPH_API_TOKEN";
/// The LLM spending cap's variable, in US dollars.
pub const LLM_BUDGET_VAR: &str = "TRADEGRAPH_LLM_BUDGET_USD";
/// The decision cycle's deadline's variable, in seconds (`[bot] cycle_deadline_secs`).
pub const CYCLE_DEADLINE_VAR: &str = "TRADEGRAPH_CYCLE_DEADLINE_SECS";
/// The lease of the bot's claim on its instrument's variable, in seconds (`[bot]
/// instance_lease_secs`).
pub const INSTANCE_LEASE_VAR: &str = "TRADEGRAPH_INSTANCE_LEASE_SECS";
/// The file read when neither `--config` nor `TRADEGRAPH_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "tradegraph.toml";

impl Settings {
    /// The effective configuration of the bot `flags` ask for. `env` is the process environment
    /// (`&|k| std::env::var(k).ok()`; tests pass a map); `.env.<name>` and `.env` are read from
    /// `cwd` (a missing file is fine); the configuration file is `--config`, else
    /// `TRADEGRAPH_CONFIG`, else `tradegraph.toml` in `cwd` when present. Paths given in the
    /// file are relative to the file's directory, others to `cwd`.
    ///
    /// Each setting takes the first of: its flag, the environment, `.env.<name>`, `.env`, the
    /// file, the default; [`Settings::origins`] says which.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and line, the variable and its layer, or the flag of the
    /// first problem found.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tradegraph::config::{FeedKind, Flags, Origin, Settings};
    ///
    /// let env = HashMap::from([("TRADEGRAPH_FEED", "synthetic")]);
    /// let flags = Flags { instrument: Some("nifty".into()), ..Flags::default() };
    /// let dir = std::env::temp_dir().join("tradegraph-doc-resolve");
    /// std::fs::create_dir_all(&dir)?;
    /// let settings = Settings::resolve(&flags, &|k| env.get(k).map(|v| v.to_string()), &dir)?;
    /// assert_eq!(settings.instrument.symbol.as_str(), "NIFTY50");
    /// assert_eq!(settings.feed.kind(), FeedKind::Synthetic);
    /// assert_eq!(settings.origins.get("bot.feed"), Some(&Origin::Env));
    /// assert_eq!(settings.listen.port(), 8003);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve(
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
        cwd: &Path,
    ) -> Result<Settings, ConfigError> {
        let layers = Layers::new(env, EnvFile::read(&cwd.join(".env"))?);
        let mut origins = Origins::default();
        let config_file = match (&flags.config, layers.get(CONFIG_VAR)) {
            (Some(path), _) => {
                origins.set("config_file", Origin::Flag);
                Some(cwd.join(path))
            }
            (None, Some((path, origin))) => {
                origins.set("config_file", origin);
                Some(cwd.join(path))
            }
            (None, None) => {
                let path = cwd.join(DEFAULT_CONFIG_FILE);
                path.is_file().then(|| {
                    origins.set("config_file", Origin::Default);
                    path
                })
            }
        };
        let file = config_file.as_deref().map(ConfigFile::read).transpose()?;
        let customs = match &file {
            Some(file) => instrument::custom(file)?,
            None => Vec::new(),
        };
        let mut r = Resolver {
            layers,
            file: file.as_ref(),
            cwd,
            origins,
            notices: Vec::new(),
            vars: std::collections::BTreeMap::new(),
        };
        let choice = r.instrument(flags, &customs)?;
        r.origins.set(
            "instrument",
            if choice.custom {
                Origin::File
            } else {
                Origin::Default
            },
        );
        let name = choice.name.clone();
        let instrument_file = EnvFile::read(&cwd.join(format!(".env.{name}")))?;
        r.layers = r.layers.with_instrument_file(&name, instrument_file);
        for var in [INSTRUMENT_VAR, CONFIG_VAR] {
            if r.layers.in_instrument_file(var) {
                r.notices.push(format!(
                    ".env.{name} sets {var}, which it cannot change (the file is chosen by it): \
                     ignored; set it in the environment, .env or with a flag"
                ));
            }
        }
        r.check_kite_tokens(&customs)?;
        let live_trading = r.live_trading()?;
        let feed = feed::feed(&mut r, flags, &choice, &live_trading.data_dir)?;
        let llm = llm::llm(&mut r)?;
        let max_verdict_age = r.max_verdict_age()?;
        let approval = r.approval(max_verdict_age)?;
        let replayed_bars = matches!(feed, super::FeedSettings::Replay { .. });
        let decision_every = r.decision_every()?;
        let settings = Settings {
            feed,
            llm,
            decision_every,
            keep_candles: r.keep_candles()?,
            cash: r.cash(&choice)?,
            risk: r.risk()?,
            max_verdict_age,
            cycle_deadline: r.cycle_deadline(decision_every)?,
            instance_lease: r.instance_lease()?,
            lesson_max_distance: r.lesson_max_distance()?,
            refine_prompts: r.refine_prompts()?,
            approval,
            graph: r.graph()?,
            prompts_dir: r.prompts_dir()?,
            stores: r.stores(&name)?,
            llm_budget_usd: r.llm_budget()?,
            live: r.live()?,
            live_trading,
            execution: r.execution(replayed_bars)?,
            listen: r.listen(flags, &choice)?,
            dashboard_peers: r.dashboard_peers()?,
            health: r.health()?,
            alerts: r.alerts()?,
            api_token: r.secret("bot.api_token", API_TOKEN_VAR),
            news: r.news(&choice)?,
            macros: r.macros(&choice)?,
            venue: choice.venue,
            instrument: r.with_holidays(choice.instrument)?,
            name,
            config_file,
            notices: std::mem::take(&mut r.notices),
            origins: std::mem::take(&mut r.origins),
        };
        tracing::debug!(
            instrument = %settings.name,
            feed = %settings.feed.kind(),
            config_file = ?settings.config_file,
            "configuration resolved"
        );
        Ok(settings)
    }
}

/// One resolution in progress.
pub(super) struct Resolver<'a> {
    pub(super) layers: Layers<'a>,
    pub(super) file: Option<&'a ConfigFile>,
    pub(super) cwd: &'a Path,
    pub(super) origins: Origins,
    pub(super) notices: Vec<String>,
    /// The variable each setting taken from the environment's layers came from.
    pub(super) vars: std::collections::BTreeMap<String, String>,
}

impl Resolver<'_> {
    /// A setting that may be unset: the flag, else the variable (parsed), else the file's value.
    pub(super) fn pick_opt<T>(
        &mut self,
        key: &str,
        flag: Option<T>,
        var: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
        file: Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let found = match (flag, var.and_then(|v| self.layers.get(v).map(|x| (v, x)))) {
            (Some(value), _) => Some((value, Origin::Flag)),
            (None, Some((var, (text, origin)))) => {
                // The message may quote the value: a URL in it loses its credentials.
                let value = parse(&text).map_err(|message| ConfigError::Invalid {
                    key: var.to_owned(),
                    origin: origin.clone(),
                    message: redact_all(&message),
                })?;
                self.vars.insert(key.to_owned(), var.to_owned());
                Some((value, origin))
            }
            (None, None) => file.map(|value| (value, Origin::File)),
        };
        Ok(found.map(|(value, origin)| {
            self.origins.set(key, origin);
            value
        }))
    }

    /// A setting with a default.
    pub(super) fn pick<T>(
        &mut self,
        key: &str,
        flag: Option<T>,
        var: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
        file: Option<T>,
        default: impl FnOnce() -> T,
    ) -> Result<T, ConfigError> {
        match self.pick_opt(key, flag, var, parse, file)? {
            Some(value) => Ok(value),
            None => {
                self.origins.set(key, Origin::Default);
                Ok(default())
            }
        }
    }

    /// A secret from the environment's layers.
    pub(super) fn secret(&mut self, key: &str, var: &str) -> Option<Secret> {
        let (value, origin) = self.layers.get(var)?;
        self.origins.set(key, origin);
        Some(Secret::new(value))
    }

    /// The origin recorded for `key` (`Default` if none).
    pub(super) fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    pub(super) fn doc(&self) -> Option<&super::file::FileDoc> {
        self.file.map(|f| &f.doc)
    }

    /// A path the file gives, relative to the file's directory.
    pub(super) fn file_path(&self, path: Option<&Path>) -> Option<PathBuf> {
        Some(self.file?.resolve(path?))
    }

    /// `key`'s value cannot work: the error names where it is (the file and line of a file's
    /// value, the variable and its layer of the environment's).
    pub(super) fn invalid(&self, key: &str, message: String) -> ConfigError {
        let origin = self.origin(key);
        let message = redact_all(&message);
        if origin == Origin::File {
            if let Some((file, at)) = self.file.and_then(|f| Some((f, f.key_offset(key)?))) {
                return file.error_at(at, format!("{key}: {message}"));
            }
        }
        let key = match (&origin, self.vars.get(key)) {
            (Origin::Env | Origin::EnvFile | Origin::InstrumentEnvFile(_), Some(var)) => {
                var.clone()
            }
            _ => key.to_owned(),
        };
        ConfigError::Invalid {
            key,
            origin,
            message,
        }
    }

    fn instrument(&mut self, flags: &Flags, customs: &[Choice]) -> Result<Choice, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.instrument.clone());
        let name = self.pick(
            "bot.instrument",
            flags.instrument.clone(),
            Some(INSTRUMENT_VAR),
            |v| Ok(v.to_owned()),
            file,
            || "btc".to_owned(),
        )?;
        let name = name.trim().to_ascii_lowercase();
        instrument::built_in(&name)
            .or_else(|| customs.iter().find(|c| c.name == name).cloned())
            .ok_or_else(|| ConfigError::UnknownInstrument {
                name: name.clone(),
                origin: self.origin("bot.instrument"),
                known: BUILT_IN
                    .iter()
                    .copied()
                    .chain(customs.iter().map(|c| c.name.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Every name in `[feeds.kite.tokens]` must be an instrument.
    fn check_kite_tokens(&self, customs: &[Choice]) -> Result<(), ConfigError> {
        let Some(file) = self.file else {
            return Ok(());
        };
        for (name, token) in &file.doc.feeds.kite.tokens {
            if !BUILT_IN.contains(&name.as_str()) && !customs.iter().any(|c| &c.name == name) {
                return Err(file.error_at(
                    token.span().start,
                    format!(
                        "unknown instrument `{name}` in [feeds.kite.tokens]: use banknifty, \
                         nifty or a name of [[instruments]]"
                    ),
                ));
            }
        }
        Ok(())
    }
}
