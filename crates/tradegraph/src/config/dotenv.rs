//! `.env` and `.env.<name>` files, read with `dotenvy`.

use super::ConfigError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The variables of one `.env` file. [`fmt::Debug`] shows the names only.
#[derive(Clone, Default)]
pub(crate) struct EnvFile {
    vars: BTreeMap<String, String>,
}

impl EnvFile {
    /// Reads `path`; `None` when there is no such file.
    ///
    /// `dotenvy` rules: `export` prefixes, single and double quotes, `#` comments (also after a
    /// value, when a space precedes them: `KEY=   # comment` is an empty value) and `${VAR}`
    /// substitution. When a key is given twice, the first one counts, as in
    /// `dotenvy::from_path`.
    pub(crate) fn read(path: &Path) -> Result<Option<Self>, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no env file");
                return Ok(None);
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let file = Self::parse(&text, path)?;
        tracing::debug!(path = %path.display(), keys = file.vars.len(), "read env file");
        Ok(Some(file))
    }

    /// Parses `.env` text read from `path` (named in errors).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut vars = BTreeMap::new();
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            match item {
                Ok((key, value)) => {
                    vars.entry(key).or_insert(value);
                }
                Err(e) => return Err(line_error(text, path, &e)),
            }
        }
        Ok(Self { vars })
    }

    /// Whether the file sets `key` to nothing (`KEY=`).
    pub(crate) fn empties(&self, key: &str) -> bool {
        self.vars.get(key).is_some_and(|v| v.trim().is_empty())
    }

    /// The value of `key`; an empty (or blank) value counts as unset.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

impl fmt::Debug for EnvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvFile")
            .field("keys", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A parse error as `path:line`, without the line's text (it may hold a secret).
fn line_error(text: &str, path: &Path, error: &dotenvy::Error) -> ConfigError {
    let (line, message) = match error {
        dotenvy::Error::LineParse(bad, index) => {
            // The line as dotenvy read it, where a line starts (the same text inside an
            // earlier line is not it).
            let at = text
                .match_indices(bad.as_str())
                .map(|(at, _)| at)
                .find(|&at| at == 0 || text[..at].ends_with('\n'))
                .unwrap_or(text.len());
            let line = text[..at].matches('\n').count() + 1;
            let message = if *index >= bad.len() && text[at..].len() == bad.len() {
                "a quote opened here is never closed".to_owned()
            } else {
                format!(
                    "not KEY=VALUE at column {}: a key starts with a letter or `_` and has \
                     letters, digits, `_` or `.`; quote values with spaces or special characters",
                    index + 1
                )
            };
            (line, message)
        }
        other => (1, format!("cannot read it: {}", kind(other))),
    };
    ConfigError::EnvFile {
        path: PathBuf::from(path),
        line,
        message,
    }
}

/// An error's kind without its text.
fn kind(error: &dotenvy::Error) -> &'static str {
    match error {
        dotenvy::Error::Io(_) => "an I/O error",
        dotenvy::Error::EnvVar(_) => "a variable it substitutes is not valid Unicode",
        _ => "a malformed line",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<EnvFile, ConfigError> {
        EnvFile::parse(text, Path::new("dir/.env"))
    }

    #[test]
    fn a_comment_after_an_empty_value_is_not_the_value() {
        let file =
            parse("FINNHUB_API_KEY=           # crypto news\nA=1 # one\nB='x # y'\n").unwrap();
        assert_eq!(file.get("FINNHUB_API_KEY"), None);
        assert_eq!(file.get("A"), Some("1"));
        assert_eq!(file.get("B"), Some("x # y"));
    }

    #[test]
    fn the_first_of_two_wins_and_export_and_quotes_go() {
        let file = parse("export K=\"one\"\nK=two\n# K=three\n").unwrap();
        assert_eq!(file.get("K"), Some("one"));
    }

    #[test]
    fn a_malformed_line_is_named_without_its_text() {
        let err = parse("A=1\n\n# fine\nsk-canary-123 oops\nB=2\n").unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("dir/.env:4: not KEY=VALUE"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
        let err = parse("A=1\nB=\"never closed\nC=3\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("dir/.env:2: a quote opened here is never closed"),
            "{err}"
        );
    }

    /// The malformed line is named, not an earlier line that happens to hold its text.
    #[test]
    fn a_malformed_line_is_found_at_a_line_start() {
        let err = parse("PASSWORD=oops\noops\n").unwrap_err();
        assert!(err.to_string().starts_with("dir/.env:2: "), "{err}");
    }

    #[test]
    fn debug_shows_names_only() {
        let file = parse("OPENAI_API_KEY=sk-canary-value\n").unwrap();
        let shown = format!("{file:?}");
        assert!(shown.contains("OPENAI_API_KEY") && !shown.contains("canary"));
    }
}
