//! Writing the sections: annotated TOML or JSON.

use super::{path, Section};
use crate::config::Settings;
use serde_json::{json, Map, Value};
use std::fmt::Write;

impl Settings {
    pub(super) fn toml(&self, sections: &[Section]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# tradegraph: the effective configuration of the bot `{}`",
            self.name
        );
        let _ = match &self.config_file {
            Some(file) => writeln!(out, "# configuration file: {}", file.display()),
            None => writeln!(out, "# configuration file: none"),
        };
        let _ = writeln!(
            out,
            "# after each value, where it came from: flag, env, .env.{}, .env, file or default",
            self.name
        );
        for notice in &self.notices {
            let _ = writeln!(out, "# notice: {notice}");
        }
        for section in sections {
            let (open, close) = if section.array {
                ("[[", "]]")
            } else {
                ("[", "]")
            };
            let _ = writeln!(out, "\n{open}{}{close}", section.name);
            for e in &section.entries {
                let _ = match e.value.as_ref().and_then(toml_value) {
                    Some(value) => writeln!(out, "{} = {value}  # {}", e.key, e.origin),
                    None => writeln!(out, "# {} is unset  # {}", e.key, e.origin),
                };
            }
        }
        out
    }

    pub(super) fn json(&self, sections: &[Section]) -> String {
        let mut settings = Map::new();
        for section in sections {
            let fields: Map<String, Value> = section
                .entries
                .iter()
                .map(|e| {
                    (
                        e.key.clone(),
                        json!({ "value": e.value, "origin": e.origin.to_string() }),
                    )
                })
                .collect();
            let mut parts = section.name.split('.').peekable();
            let mut table = &mut settings;
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    if section.array {
                        let slot = table
                            .entry(part)
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(items) = slot {
                            items.push(Value::Object(fields));
                        }
                    } else {
                        table.insert(part.to_owned(), Value::Object(fields));
                    }
                    break;
                }
                let next = table
                    .entry(part)
                    .or_insert_with(|| Value::Object(Map::new()));
                match next {
                    Value::Object(map) => table = map,
                    _ => break,
                }
            }
        }
        let doc = json!({
            "name": self.name,
            "config_file": self.config_file.as_ref().map(path),
            "notices": self.notices,
            "settings": settings,
        });
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// A JSON value as an inline TOML value (nulls dropped); `None` for a lone null.
fn toml_value(value: &Value) -> Option<String> {
    let value = drop_nulls(value)?;
    toml::Value::try_from(value).ok().map(|v| v.to_string())
}

fn drop_nulls(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| drop_nulls(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(drop_nulls).collect())),
        other => Some(other.clone()),
    }
}
