//! The bot's state file as it is on disk: `{"format": 1, "states": [{key, version, saved_at,
//! body}], "intents": [...]}` (the file state store's format).

use serde_json::Value;
use std::path::Path;

/// The file, read whole; `None` before its first write (or, for an instant, while it is being
/// replaced: the store renames a complete file over it, so what is read is always whole).
pub fn read(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "the state file {} is not JSON ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        )
    }))
}

/// The saved document of `part` of `instrument`'s bot: `{key, version, saved_at, body}`.
pub fn doc<'a>(file: &'a Value, instrument: &str, part: &str) -> Option<&'a Value> {
    file["states"]
        .as_array()?
        .iter()
        .find(|d| d["key"]["instrument"] == instrument && d["key"]["part"] == part)
}

/// The body of `part` of `instrument`'s bot.
pub fn body<'a>(file: &'a Value, instrument: &str, part: &str) -> Option<&'a Value> {
    doc(file, instrument, part).map(|d| &d["body"])
}

/// The order intents.
pub fn intents(file: &Value) -> Vec<Value> {
    file["intents"].as_array().cloned().unwrap_or_default()
}
