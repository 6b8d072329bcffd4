//! Scratch directories, environments and resolution for the tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tradegraph::config::{ConfigError, Flags, Settings};
use tradegraph::core::Timestamp;

/// A fresh, empty directory for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-config-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The process environment of a test.
pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

pub(crate) fn resolve(
    flags: &Flags,
    vars: &[(&str, &str)],
    dir: &Path,
) -> Result<Settings, ConfigError> {
    Settings::resolve(flags, &env(vars), dir)
}

pub(crate) fn no_flags() -> Flags {
    Flags::default()
}

pub(crate) fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}
