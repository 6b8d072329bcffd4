//! Reading provider items field by field, so a bad item names its JSON path.

use serde_json::{Map, Value};

/// Why an item was skipped: the JSON path and what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemError {
    pub(crate) path: String,
    pub(crate) reason: String,
}

/// One JSON object at a known path.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `value` (found at `path`) as an object.
    pub(crate) fn new(value: &'a Value, path: String) -> Result<Self, ItemError> {
        match value {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(ItemError {
                reason: format!("expected an object, found {}", kind(other)),
                path,
            }),
        }
    }

    fn err(&self, key: &str, reason: String) -> ItemError {
        ItemError {
            path: format!("{}.{key}", self.path),
            reason,
        }
    }

    /// A field that must be present.
    fn required(&self, key: &str) -> Result<&'a Value, ItemError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Err(self.err(key, "missing".to_owned())),
            Some(value) => Ok(value),
        }
    }

    /// A non-empty string.
    pub(crate) fn text(&self, key: &str) -> Result<&'a str, ItemError> {
        match self.required(key)? {
            Value::String(s) if !s.trim().is_empty() => Ok(s),
            Value::String(_) => Err(self.err(key, "empty".to_owned())),
            other => Err(self.err(key, format!("expected a string, found {}", kind(other)))),
        }
    }

    /// A string, or "" when absent or not a string.
    pub(crate) fn text_or_empty(&self, key: &str) -> &'a str {
        self.map.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// An integer.
    pub(crate) fn integer(&self, key: &str) -> Result<i64, ItemError> {
        let value = self.required(key)?;
        value
            .as_i64()
            .ok_or_else(|| self.err(key, format!("expected an integer, found {}", kind(value))))
    }

    /// An integer or a string, as text (ids).
    pub(crate) fn id(&self, key: &str) -> Result<String, ItemError> {
        match self.required(key)? {
            Value::Number(n) => Ok(n.to_string()),
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            other => Err(self.err(key, format!("expected an id, found {}", kind(other)))),
        }
    }

    /// The strings of an array field (absent or null is empty; non-strings are dropped).
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ItemError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()),
            Some(other) => Err(self.err(key, format!("expected an array, found {}", kind(other)))),
        }
    }

    /// A number inside an object field (`sentiment.polarity`), if both are there.
    pub(crate) fn nested_number(&self, key: &str, inner: &str) -> Option<f64> {
        self.map.get(key)?.get(inner)?.as_f64()
    }
}

/// What kind of JSON value this is, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errors_name_the_path() {
        let value = serde_json::json!({"datetime": "yesterday", "headline": ""});
        let obj = Obj::new(&value, "$[3]".to_owned()).unwrap();
        let err = obj.integer("datetime").unwrap_err();
        assert_eq!(err.path, "$[3].datetime");
        assert_eq!(err.reason, "expected an integer, found a string");
        assert_eq!(obj.text("headline").unwrap_err().reason, "empty");
        assert_eq!(obj.text("url").unwrap_err().reason, "missing");
        let err = Obj::new(&Value::Null, "$[0]".to_owned()).err().unwrap();
        assert_eq!(err.reason, "expected an object, found null");
    }
}
