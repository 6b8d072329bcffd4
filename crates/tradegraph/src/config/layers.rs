//! The environment's three layers: the process environment, `.env.<name>`, then `.env`.

use super::dotenv::EnvFile;
use super::Origin;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Variables looked up through the layers, highest precedence first. Empty values count as
/// unset, so a blank `KEY=` in `.env.<name>` does not hide `.env`'s value.
pub(crate) struct Layers<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    instrument: Option<(String, EnvFile)>,
    dotenv: Option<EnvFile>,
    /// What each variable looked up was found in.
    seen: RefCell<BTreeMap<String, Origin>>,
}

impl<'a> Layers<'a> {
    /// The process environment and `.env` (the instrument's file comes once its name is known).
    pub(crate) fn new(env: &'a dyn Fn(&str) -> Option<String>, dotenv: Option<EnvFile>) -> Self {
        Self {
            env,
            instrument: None,
            dotenv,
            seen: RefCell::new(BTreeMap::new()),
        }
    }

    /// Adds `.env.<name>`, between the environment and `.env`.
    pub(crate) fn with_instrument_file(mut self, name: &str, file: Option<EnvFile>) -> Self {
        self.instrument = file.map(|f| (name.to_owned(), f));
        self
    }

    /// The value of `key` and its layer.
    pub(crate) fn get(&self, key: &str) -> Option<(String, Origin)> {
        let found = (self.env)(key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (v, Origin::Env))
            .or_else(|| {
                self.instrument.as_ref().and_then(|(name, file)| {
                    file.get(key)
                        .map(|v| (v.to_owned(), Origin::InstrumentEnvFile(name.clone())))
                })
            })
            .or_else(|| {
                self.dotenv
                    .as_ref()
                    .and_then(|f| f.get(key))
                    .map(|v| (v.to_owned(), Origin::EnvFile))
            })
            .map(|(v, origin)| (v.trim().to_owned(), origin));
        if let Some((_, origin)) = &found {
            self.seen
                .borrow_mut()
                .insert(key.to_owned(), origin.clone());
        }
        found
    }

    /// Whether a layer sets `key` to nothing (`KEY=`) above any that sets a value: for a
    /// switch, off, whatever the layers below say.
    pub(crate) fn emptied(&self, key: &str) -> bool {
        if let Some(value) = (self.env)(key) {
            return value.trim().is_empty();
        }
        let files = self
            .instrument
            .iter()
            .map(|(_, file)| file)
            .chain(self.dotenv.iter());
        for file in files {
            if file.empties(key) {
                return true;
            }
            if file.get(key).is_some() {
                return false;
            }
        }
        false
    }

    /// The value of `key`, without its layer.
    pub(crate) fn var(&self, key: &str) -> Option<String> {
        self.get(key).map(|(v, _)| v)
    }

    /// The layer `key` was found in by an earlier lookup.
    pub(crate) fn seen(&self, key: &str) -> Option<Origin> {
        self.seen.borrow().get(key).cloned()
    }

    /// Whether `key` is set in the instrument's own file.
    pub(crate) fn in_instrument_file(&self, key: &str) -> bool {
        self.instrument
            .as_ref()
            .is_some_and(|(_, file)| file.get(key).is_some())
    }
}

/// The variables of a command that runs no bot (`data download`, `record`, `bot ...`): the
/// process environment, then `.env` in the working directory, as a bot reads them (a blank
/// value counts as unset).
#[cfg(feature = "cli")]
pub(crate) struct CommandEnv(Layers<'static>);

#[cfg(feature = "cli")]
impl CommandEnv {
    /// The process environment and `cwd/.env` (none is fine).
    ///
    /// # Errors
    /// [`ConfigError::EnvFile`](super::ConfigError::EnvFile) naming the line of a `.env` that
    /// cannot be read.
    pub(crate) fn read(cwd: &std::path::Path) -> Result<Self, super::ConfigError> {
        Ok(Self(Layers::new(
            &process_env,
            EnvFile::read(&cwd.join(".env"))?,
        )))
    }

    /// The value of `key`, trimmed; `None` when unset or blank.
    pub(crate) fn var(&self, key: &str) -> Option<String> {
        self.0.var(key)
    }
}

/// A variable of the process environment.
#[cfg(feature = "cli")]
fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    #[test]
    fn layers_in_order_and_blank_values_fall_through() {
        let env = |k: &str| match k {
            "A" => Some("from-env".to_owned()),
            "B" => Some("  ".to_owned()),
            _ => None,
        };
        let dotenv = EnvFile::parse("A=dot\nB=dot\nC=dot\nD=dot\n", Path::new(".env")).unwrap();
        let named = EnvFile::parse("B=named\nC=\n", Path::new(".env.x")).unwrap();
        let layers = Layers::new(&env, Some(dotenv)).with_instrument_file("x", Some(named));
        assert_eq!(layers.get("A"), Some(("from-env".into(), Origin::Env)));
        assert_eq!(
            layers.get("B"),
            Some(("named".into(), Origin::InstrumentEnvFile("x".into())))
        );
        assert_eq!(layers.get("C"), Some(("dot".into(), Origin::EnvFile)));
        assert_eq!(layers.get("E"), None);
        assert_eq!(layers.seen("C"), Some(Origin::EnvFile));
        assert_eq!(layers.seen("E"), None);
        assert!(layers.in_instrument_file("B") && !layers.in_instrument_file("C"));
    }
}
