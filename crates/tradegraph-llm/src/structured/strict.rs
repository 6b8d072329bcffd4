//! OpenAI's strict `json_schema` subset.
//!
//! Strict mode wants: an object at the root; every object closed (`additionalProperties:
//! false`) with every property listed in `required` (an optional field becomes required and
//! nullable); `anyOf` rather than `oneOf`; only a known set of keywords. Constraints dropped here
//! (`minLength`, `uniqueItems`, ...) are still enforced by our own validation and repair loop.

use serde_json::{json, Map, Value};

/// Keywords kept as they are.
const KEPT: &[&str] = &[
    "type",
    "enum",
    "const",
    "description",
    "title",
    "$ref",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// Keywords whose meaning cannot survive the conversion.
const REFUSED: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "prefixItems",
];

/// String formats strict mode accepts.
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The strict form of `schema` (`inlined` is its `$ref`-free form, preferred when available).
pub(crate) fn openai_strict(schema: &Value, inlined: Option<&Value>) -> Result<Value, String> {
    let base = inlined.unwrap_or(schema);
    if base.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the root is not an object".into());
    }
    node(base, "")
}

fn node(value: &Value, path: &str) -> Result<Value, String> {
    let map = match value {
        Value::Object(map) => map,
        Value::Bool(true) => return Err(format!("`{}` accepts any JSON", at(path))),
        other => return Ok(other.clone()),
    };
    if let Some(kw) = REFUSED.iter().find(|kw| map.contains_key(**kw)) {
        return Err(format!("`{}` uses `{kw}`", at(path)));
    }
    let mut out = Map::new();
    for (key, v) in map {
        match key.as_str() {
            "anyOf" | "oneOf" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| format!("`{}`: {key} is not a list", at(path)))?;
                let converted = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| node(item, &format!("{path}/{key}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert("anyOf".into(), Value::Array(converted));
            }
            "properties" | "$defs" | "definitions" => {
                let props = v
                    .as_object()
                    .ok_or_else(|| format!("`{}`: {key} is not a map", at(path)))?;
                let mut converted = Map::new();
                for (name, prop) in props {
                    converted.insert(name.clone(), node(prop, &format!("{path}/{name}"))?);
                }
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" => {
                out.insert(key.clone(), node(v, &format!("{path}/items"))?);
            }
            "additionalProperties" if v != &Value::Bool(false) => {
                return Err(format!("`{}` is a map (free keys)", at(path)));
            }
            "format" if v.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                out.insert(key.clone(), v.clone());
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), v.clone());
            }
            _ => {}
        }
    }
    let is_object =
        map.get("type").and_then(Value::as_str) == Some("object") || map.contains_key("properties");
    if is_object {
        let originally_required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let props = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| format!("`{}`: properties is not a map", at(path)))?;
        let mut required = Vec::with_capacity(props.len());
        for (name, prop) in props.iter_mut() {
            if !originally_required.contains(&name.as_str()) {
                make_nullable(prop);
            }
            required.push(name.clone());
        }
        // Sorted, so the schema sent is the same whether or not a dependency turns on
        // `serde_json`'s `preserve_order` (bson does).
        required.sort();
        out.insert(
            "required".into(),
            Value::Array(required.into_iter().map(Value::String).collect()),
        );
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Ok(Value::Object(out))
}

/// Lets `schema` also accept `null` (an optional field made required).
fn make_nullable(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if let Some(enum_values) = map.get_mut("enum").and_then(Value::as_array_mut) {
        if !enum_values.contains(&Value::Null) {
            enum_values.push(Value::Null);
        }
    }
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            if t != "null" {
                let t = std::mem::take(t);
                map.insert("type".into(), json!([t, "null"]));
            }
        }
        Some(Value::Array(types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
        }
        _ => {
            if let Some(Value::Array(variants)) = map.get_mut("anyOf") {
                if !variants
                    .iter()
                    .any(|v| v.get("type") == Some(&json!("null")))
                {
                    variants.push(json!({"type": "null"}));
                }
            } else if !map.is_empty() {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            }
        }
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_closed_and_optional_fields_become_nullable() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Signal",
            "type": "object",
            "properties": {
                "action": {"oneOf": [{"type": "string", "const": "BUY", "description": "go long"}, {"type": "string", "const": "SELL"}]},
                "size": {"type": "integer", "format": "uint32", "minimum": 0},
                "note": {"type": ["string", "null"], "maxLength": 50},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}
            },
            "required": ["action", "size"]
        });
        let out = openai_strict(&s, None).unwrap();
        assert_eq!(
            out,
            json!({
                "title": "Signal",
                "type": "object",
                "properties": {
                    "action": {"anyOf": [{"type": "string", "const": "BUY", "description": "go long"}, {"type": "string", "const": "SELL"}]},
                    "size": {"type": "integer", "minimum": 0},
                    "note": {"type": ["string", "null"]},
                    "tags": {"type": ["array", "null"], "items": {"type": "string"}}
                },
                "required": ["action", "note", "size", "tags"],
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn what_strict_mode_cannot_say_is_refused() {
        assert_eq!(
            openai_strict(&json!({"type": "string"}), None).unwrap_err(),
            "the root is not an object"
        );
        let map = json!({"type": "object", "properties": {"w": {"type": "object", "additionalProperties": {"type": "number"}}}});
        assert!(openai_strict(&map, None)
            .unwrap_err()
            .contains("/w` is a map"));
        let any = json!({"type": "object", "properties": {"raw": true}});
        assert!(openai_strict(&any, None).unwrap_err().contains("any JSON"));
    }

    #[test]
    fn optional_enums_and_refs_accept_null() {
        let mut e = json!({"type": "string", "enum": ["a"]});
        make_nullable(&mut e);
        assert_eq!(e, json!({"type": ["string", "null"], "enum": ["a", null]}));
        let mut r = json!({"$ref": "#/$defs/X"});
        make_nullable(&mut r);
        assert_eq!(
            r,
            json!({"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]})
        );
    }
}
