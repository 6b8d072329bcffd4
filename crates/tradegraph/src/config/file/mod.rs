//! The bot's TOML configuration file: read, checked key by key, and kept with what is needed
//! to name a line in later errors.

mod schema;
mod session;

pub(crate) use schema::{AlertsSection, ApprovalSetting, FileDoc, InstrumentSpec};
pub(crate) use session::{HoursSpec, SessionSpec};

use super::ConfigError;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;
use tradegraph_core::risk::RiskLimits;
use tradegraph_llm::Secret;
use tradegraph_store::url::{redact, redact_all};

/// A parsed configuration file (`Debug` shows its path only: it may hold secrets).
pub(crate) struct ConfigFile {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its sections.
    pub(crate) doc: FileDoc,
    /// `[llm] budget_usd`.
    pub(crate) llm_budget_usd: Option<Decimal>,
    /// The keys `[risk]` sets.
    pub(crate) risk_keys: Vec<String>,
    /// The keys `[llm]` sets (`budget_usd` included).
    pub(crate) llm_keys: Vec<String>,
    lines: Lines,
}

impl ConfigFile {
    /// Reads and parses `path`.
    pub(crate) fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file = Self::parse(&text, path)?;
        tracing::debug!(path = %path.display(), "read configuration file");
        Ok(file)
    }

    /// Parses `text`, read from `path` (named in errors, and the base of relative paths).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let lines = Lines::new(path, text);
        let mut root = DeTable::parse(text).map_err(|e| lines.toml_error(&e, &[]))?;
        let secrets = secret_values(root.get_ref());
        let error = |e: toml::de::Error| lines.toml_error(&e, &secrets);
        let table = root.get_mut();
        let mut risk_keys = Vec::new();
        if let Some(risk) = table.get("risk") {
            risk_keys = check_risk_keys(risk)
                .map_err(|(message, span)| lines.error_at(Some(span), message))?;
        }
        let (mut llm_keys, mut llm_budget_usd) = (Vec::new(), None);
        if let Some(llm) = table.get_mut("llm") {
            if let DeValue::Table(llm) = llm.get_mut() {
                llm_keys = llm.keys().map(|k| k.get_ref().to_string()).collect();
                if let Some(budget) = llm.remove("budget_usd") {
                    llm_budget_usd = Some(
                        <Decimal as Deserialize>::deserialize(ValueDeserializer::from(budget))
                            .map_err(error)?,
                    );
                }
            }
        }
        let doc = FileDoc::deserialize(toml::de::Deserializer::from(root)).map_err(error)?;
        Ok(Self {
            path: path.to_owned(),
            doc,
            llm_budget_usd,
            risk_keys,
            llm_keys,
            lines,
        })
    }

    /// The directory relative paths of the file are taken from.
    pub(crate) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// `path` as the file means it: relative to the file's directory.
    pub(crate) fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir().join(path)
        }
    }

    /// The 1-based line of a byte offset of the file.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.lines.line_col(offset).0
    }

    /// An error about the file at a byte offset.
    pub(crate) fn error_at(&self, offset: usize, message: String) -> ConfigError {
        self.lines.error_at(Some(offset..offset), message)
    }

    /// Where the value of the dotted `key` (`alerts.min_win_rate`) starts in the file, if the
    /// file sets it.
    pub(crate) fn key_offset(&self, key: &str) -> Option<usize> {
        let root = DeTable::parse(&self.lines.text).ok()?;
        let mut table = root.get_ref();
        let mut parts = key.split('.').peekable();
        while let Some(part) = parts.next() {
            let (_, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == part)?;
            if parts.peek().is_none() {
                return Some(value.span().start);
            }
            let DeValue::Table(inner) = value.get_ref() else {
                return None;
            };
            table = inner;
        }
        None
    }
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Turns byte offsets of the file into lines and columns.
struct Lines {
    path: PathBuf,
    text: String,
    starts: Vec<usize>,
}

impl Lines {
    fn new(path: &Path, text: &str) -> Self {
        Self {
            path: path.to_owned(),
            text: text.to_owned(),
            starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut at = offset.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= at).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        (line, self.text[start..at].chars().count() + 1)
    }

    /// A TOML error at its position, prefixed with the key it is about (`stores.redis_url: `)
    /// unless it names one itself, with the values in `secrets` masked and every URL it quotes
    /// without its credentials.
    fn toml_error(&self, e: &toml::de::Error, secrets: &[Masked]) -> ConfigError {
        let mut message = e.message().trim().to_owned();
        for secret in secrets {
            message = match secret {
                // Whole tokens only for a short value (see `Secret::redact`).
                Masked::Secret(value) => Secret::new(value.as_str()).redact(&message),
                Masked::Url(url) => message.replace(url.as_str(), &redact(url)),
            };
        }
        message = redact_all(&message);
        if !message.contains("field `") {
            let key = e.span().and_then(|span| {
                let root = DeTable::parse(&self.text).ok()?;
                key_at(root.get_ref(), span.start, "")
            });
            if let Some(key) = key {
                message = format!("{key}: {message}");
            }
        }
        self.error_at(e.span(), message)
    }

    fn error_at(&self, span: Option<std::ops::Range<usize>>, message: String) -> ConfigError {
        let (line, column) = span.map_or((1, 1), |span| self.line_col(span.start));
        ConfigError::Toml {
            path: self.path.clone(),
            line,
            column,
            message,
        }
    }
}

/// The dotted path of the key (or the value of the key) at byte `offset`.
fn key_at(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        value_at(value, offset, &path).or_else(|| {
            (key.span().contains(&offset) || value.span().contains(&offset)).then_some(path)
        })
    })
}

/// The path inside `value` at `offset`, if `value` is a table or an array holding it.
fn value_at(value: &Spanned<DeValue<'_>>, offset: usize, path: &str) -> Option<String> {
    match value.get_ref() {
        DeValue::Table(table) => key_at(table, offset, path),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let path = format!("{path}[{i}]");
            value_at(item, offset, &path).or_else(|| item.span().contains(&offset).then_some(path))
        }),
        _ => None,
    }
}

/// The keys of `[risk]`, each checked against [`RiskLimits`]' fields; a wrong one is
/// returned with its span.
fn check_risk_keys(
    risk: &Spanned<DeValue<'_>>,
) -> Result<Vec<String>, (String, std::ops::Range<usize>)> {
    let DeValue::Table(table) = risk.get_ref() else {
        return Err((
            "`risk` must be a table of risk limits".to_owned(),
            risk.span(),
        ));
    };
    let known = risk_fields();
    let mut keys = Vec::with_capacity(table.len());
    for key in table.keys() {
        let name: &str = key.get_ref();
        if !known.iter().any(|k| k == name) {
            let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            return Err((
                format!(
                    "unknown field `{name}` in [risk], expected one of {}",
                    expected.join(", ")
                ),
                key.span(),
            ));
        }
        keys.push(name.to_owned());
    }
    Ok(keys)
}

/// The fields of [`RiskLimits`], from its own serialization (so a new limit is known at once).
pub(crate) fn risk_fields() -> Vec<String> {
    match serde_json::to_value(RiskLimits::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A value of the file that an error message must not quote as it is.
enum Masked {
    /// The value of a key that names a key, token, secret or password: shown as `***`.
    Secret(String),
    /// A URL: shown without its credentials (`tradegraph_store::url::redact`).
    Url(String),
}

/// The string values of keys that name a key, token, secret, password or URL (`url`: a webhook's
/// URL holds its token), and the values that look like URLs.
fn secret_values(table: &DeTable<'_>) -> Vec<Masked> {
    let mut found = Vec::new();
    collect_secrets(table, &mut found);
    found
}

fn collect_secrets(table: &DeTable<'_>, found: &mut Vec<Masked>) {
    for (key, value) in table {
        let key = key.get_ref().to_ascii_lowercase();
        let secret_key = ["key", "token", "secret", "password", "url"]
            .iter()
            .any(|w| key.contains(w));
        collect_value(value.get_ref(), secret_key, found);
    }
}

fn collect_value(value: &DeValue<'_>, secret_key: bool, found: &mut Vec<Masked>) {
    match value {
        DeValue::String(s) if secret_key => found.push(Masked::Secret(s.to_string())),
        DeValue::String(s) if s.contains("://") || s.contains('@') => {
            found.push(Masked::Url(s.to_string()));
        }
        DeValue::Table(t) => collect_secrets(t, found),
        DeValue::Array(items) => {
            for item in items.iter() {
                collect_value(item.get_ref(), secret_key, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(text, Path::new("conf/bot.toml"))
    }

    #[test]
    fn budget_usd_is_taken_out_of_llm_and_the_rest_is_the_llm_format() {
        let file = parse("[llm]\nbudget_usd = 3\nrepair_turns = 0\n").unwrap();
        assert_eq!(file.llm_budget_usd, Some(Decimal::from(3)));
        assert_eq!(file.doc.llm.unwrap().repair_turns, 0);
        assert_eq!(file.llm_keys, ["budget_usd", "repair_turns"]);
        let err = parse("[llm]\nbudget_usd = \"much\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("conf/bot.toml:2:14: "), "{err}");
    }

    #[test]
    fn risk_keys_are_checked_against_the_limits() {
        let file = parse("[risk]\nmax_open_positions = 2\nallow_short = false\n").unwrap();
        assert_eq!(file.risk_keys, ["allow_short", "max_open_positions"]);
        let risk = file.doc.risk.unwrap();
        assert_eq!((risk.max_open_positions, risk.allow_short), (2, false));
        let err = parse("risk = 5\n").unwrap_err().to_string();
        assert!(
            err.starts_with("conf/bot.toml:1:8: `risk` must be a table"),
            "{err}"
        );
    }

    #[test]
    fn columns_count_characters_and_errors_hide_secret_values() {
        let err = parse("# é\n[bot]\ncash = \"x\"\n").unwrap_err().to_string();
        assert!(err.starts_with("conf/bot.toml:3:8: bot.cash: "), "{err}");
        let err = parse("[[llm.providers]]\nkind = \"openai\"\napi_key = \"sk-canary-0001\"\ntimeout = \"sk-canary-0001\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("conf/bot.toml:4:"), "{err}");
        assert!(!err.contains("canary"), "{err}");
    }

    #[test]
    fn relative_paths_are_the_files() {
        let file = parse("").unwrap();
        assert_eq!(file.resolve(Path::new("g.yaml")), Path::new("conf/g.yaml"));
        assert_eq!(
            file.resolve(Path::new("/abs/g.yaml")),
            Path::new("/abs/g.yaml")
        );
    }
}
