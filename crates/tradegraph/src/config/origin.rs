//! Where each value of the effective configuration came from.

use std::collections::BTreeMap;
use std::fmt;

/// The layer a value came from, highest precedence first.
///
/// ```
/// use tradegraph::config::Origin;
/// assert_eq!(Origin::InstrumentEnvFile("btc".into()).to_string(), ".env.btc");
/// assert_eq!(Origin::Default.to_string(), "default");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The process environment.
    Env,
    /// `.env.<name>`, for the instrument `name`.
    InstrumentEnvFile(String),
    /// `.env`.
    EnvFile,
    /// The TOML configuration file.
    File,
    /// Built in.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("flag"),
            Self::Env => f.write_str("env"),
            Self::InstrumentEnvFile(name) => write!(f, ".env.{name}"),
            Self::EnvFile => f.write_str(".env"),
            Self::File => f.write_str("file"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// The origin of every setting, by its key in the configuration file (`bot.cash`,
/// `stores.redis_url`, `risk.max_position_pct`, `llm.providers`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(BTreeMap<String, Origin>);

impl Origins {
    /// The origin of `key`, if the setting exists in this configuration.
    pub fn get(&self, key: &str) -> Option<&Origin> {
        self.0.get(key)
    }

    /// Every key with its origin, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.0.iter().map(|(k, o)| (k.as_str(), o))
    }

    pub(crate) fn set(&mut self, key: impl Into<String>, origin: Origin) {
        self.0.insert(key.into(), origin);
    }
}
