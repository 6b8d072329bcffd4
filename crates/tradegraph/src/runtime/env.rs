//! `.env.<instrument>` files: `KEY=VALUE` lines, read by the runtime and the examples only.

use std::collections::BTreeMap;
use std::path::Path;

/// The variables of a `.env` file layered over the process environment (which wins, so a
/// variable set in the shell overrides the file). Values are never printed: [`std::fmt::Debug`]
/// shows the names only.
#[derive(Clone, Default)]
pub struct DotEnv {
    file: BTreeMap<String, String>,
}

impl DotEnv {
    /// Reads `path` when it exists (no file is no error). Blank lines and `#` comments are
    /// skipped; `export ` prefixes and matching quotes around values are removed; lines without
    /// `=` are ignored with a warning naming the line.
    ///
    /// # Errors
    /// The I/O error when the file exists but cannot be read.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e),
        };
        Ok(Self::parse(&text, &path.display().to_string()))
    }

    /// Parses `.env` text; `origin` names it in warnings.
    pub fn parse(text: &str, origin: &str) -> Self {
        let mut file = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((key, value)) = line.split_once('=') else {
                tracing::warn!("{origin}:{}: not KEY=VALUE; skipped", number + 1);
                continue;
            };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            file.insert(key.trim().to_owned(), value.to_owned());
        }
        Self { file }
    }

    /// A variable: the process environment first, then the file; empty values count as unset.
    pub fn var(&self, key: &str) -> Option<String> {
        std::env::var(key)
            .ok()
            .or_else(|| self.file.get(key).cloned())
            .filter(|v| !v.trim().is_empty())
    }
}

impl std::fmt::Debug for DotEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DotEnv")
            .field("keys", &self.file.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_never_shows_values() {
        let env = DotEnv::parse(
            "# comment\nexport OPENAI_API_KEY=\"sk-secret\"\nEMPTY=\nbroken line\nMODEL='m1'\n",
            "test",
        );
        assert_eq!(env.var("OPENAI_API_KEY").as_deref(), Some("sk-secret"));
        assert_eq!(env.var("MODEL").as_deref(), Some("m1"));
        assert_eq!(env.var("EMPTY"), None);
        let shown = format!("{env:?}");
        assert!(shown.contains("OPENAI_API_KEY") && !shown.contains("sk-secret"));
    }
}
