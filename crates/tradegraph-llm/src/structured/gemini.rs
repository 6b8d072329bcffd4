//! Gemini's `responseSchema`: a subset of the OpenAPI 3.0 schema object.
//!
//! Converted from the `$ref`-free form: type names in capitals, a `null` type becomes
//! `nullable: true`, `const` and string-only `oneOf`s become `enum`s, `additionalProperties`,
//! `$schema`, defaults and examples are dropped, and only the formats Gemini knows are kept.

use serde_json::{json, Map, Value};

/// Keywords kept as they are.
const KEPT: &[&str] = &[
    "description",
    "title",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
];

/// Keywords whose meaning cannot survive the conversion.
const REFUSED: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "prefixItems",
    "$ref",
];

/// The `responseSchema` form of an inlined schema, or why there is none.
pub(crate) fn response_schema(inlined: &Value) -> Result<Value, String> {
    node(inlined, "")
}

fn node(value: &Value, path: &str) -> Result<Value, String> {
    let map = match value {
        Value::Object(map) if !map.is_empty() => map,
        _ => return Err(format!("`{}` accepts any JSON", at(path))),
    };
    if let Some(kw) = REFUSED.iter().find(|kw| map.contains_key(**kw)) {
        return Err(format!("`{}` uses `{kw}`", at(path)));
    }
    let mut out = Map::new();
    let mut nullable = map
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    // Variants: `anyOf`/`oneOf`. A null variant becomes `nullable`; only strings -> an enum.
    if let Some(variants) = map
        .get("anyOf")
        .or_else(|| map.get("oneOf"))
        .and_then(Value::as_array)
    {
        let mut rest: Vec<&Value> = Vec::new();
        for v in variants {
            if v.get("type").and_then(Value::as_str) == Some("null") {
                nullable = true;
            } else {
                rest.push(v);
            }
        }
        let consts: Option<Vec<Value>> = rest
            .iter()
            .map(|v| {
                v.get("const")
                    .or_else(|| single_enum(v))
                    .filter(|c| c.is_string())
                    .cloned()
            })
            .collect();
        let converted = match (consts, rest.as_slice()) {
            (Some(values), _) if !values.is_empty() => json!({"type": "STRING", "enum": values}),
            (_, [one]) => node(one, path)?,
            _ => {
                let list = rest
                    .iter()
                    .enumerate()
                    .map(|(i, v)| node(v, &format!("{path}/anyOf/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                json!({ "anyOf": list })
            }
        };
        if let Value::Object(inner) = converted {
            out.extend(inner);
        }
        copy_kept(map, &mut out);
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        return Ok(Value::Object(out));
    }

    let ty = match map.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => {
            let real: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            nullable |= real.len() < types.len();
            match real.as_slice() {
                [one] => Some((*one).to_owned()),
                _ => return Err(format!("`{}` has several types", at(path))),
            }
        }
        _ => None,
    };
    let ty = match (ty, map.get("const"), map.get("enum")) {
        (Some(t), _, _) => t,
        (None, Some(c), _) if c.is_string() => "string".to_owned(),
        (None, _, Some(_)) => "string".to_owned(),
        (None, _, _) if map.contains_key("properties") => "object".to_owned(),
        _ => return Err(format!("`{}` has no type", at(path))),
    };
    out.insert("type".into(), Value::String(ty.to_ascii_uppercase()));
    match ty.as_str() {
        "string" => {
            let mut values: Vec<Value> = match (map.get("const"), map.get("enum")) {
                (Some(c), _) => vec![c.clone()],
                (None, Some(Value::Array(e))) => e.clone(),
                _ => Vec::new(),
            };
            if values.contains(&Value::Null) {
                nullable = true;
                values.retain(|v| !v.is_null());
            }
            if values.iter().any(|v| !v.is_string()) {
                return Err(format!("`{}` has a non-string enum", at(path)));
            }
            if !values.is_empty() {
                out.insert("enum".into(), Value::Array(values));
            }
            keep_format(map, &mut out, &["enum", "date-time"]);
        }
        "integer" => keep_format(map, &mut out, &["int32", "int64"]),
        "number" => keep_format(map, &mut out, &["float", "double"]),
        "boolean" | "null" => {}
        "array" => {
            let items = map
                .get("items")
                .ok_or_else(|| format!("`{}` is an array without items", at(path)))?;
            out.insert("items".into(), node(items, &format!("{path}/items"))?);
        }
        "object" => {
            if map
                .get("additionalProperties")
                .is_some_and(|a| a != &Value::Bool(false))
            {
                return Err(format!("`{}` is a map (free keys)", at(path)));
            }
            let props = map
                .get("properties")
                .and_then(Value::as_object)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| format!("`{}` is an object without properties", at(path)))?;
            let mut converted = Map::new();
            for (name, prop) in props {
                converted.insert(name.clone(), node(prop, &format!("{path}/{name}"))?);
            }
            out.insert("properties".into(), Value::Object(converted));
            if let Some(Value::Array(required)) = map.get("required") {
                let known: Vec<Value> = required
                    .iter()
                    .filter(|r| r.as_str().is_some_and(|r| props.contains_key(r)))
                    .cloned()
                    .collect();
                out.insert("required".into(), Value::Array(known));
            }
        }
        other => return Err(format!("`{}` has type `{other}`", at(path))),
    }
    copy_kept(map, &mut out);
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    Ok(Value::Object(out))
}

fn single_enum(v: &Value) -> Option<&Value> {
    match v.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => Some(one),
        _ => None,
    }
}

fn copy_kept(from: &Map<String, Value>, to: &mut Map<String, Value>) {
    for kw in KEPT {
        if let Some(v) = from.get(*kw) {
            to.entry(*kw).or_insert_with(|| v.clone());
        }
    }
}

fn keep_format(from: &Map<String, Value>, to: &mut Map<String, Value>, allowed: &[&str]) {
    if let Some(f) = from
        .get("format")
        .and_then(Value::as_str)
        .filter(|f| allowed.contains(f))
    {
        to.insert("format".into(), Value::String(f.to_owned()));
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
    fn schemars_shapes_become_the_openapi_subset() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Signal",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "action": {"oneOf": [{"type": "string", "const": "BUY", "description": "long"}, {"type": "string", "const": "SELL"}]},
                "confidence": {"type": "number", "format": "double", "minimum": 0.0, "maximum": 1.0, "default": 0.5},
                "size": {"type": "integer", "format": "uint32", "minimum": 0},
                "note": {"type": ["string", "null"]},
                "stop": {"anyOf": [{"type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
            },
            "required": ["action", "confidence", "size"]
        });
        assert_eq!(
            response_schema(&s).unwrap(),
            json!({
                "type": "OBJECT",
                "title": "Signal",
                "properties": {
                    "action": {"type": "STRING", "enum": ["BUY", "SELL"]},
                    "confidence": {"type": "NUMBER", "format": "double", "minimum": 0.0, "maximum": 1.0},
                    "size": {"type": "INTEGER", "minimum": 0},
                    "note": {"type": "STRING", "nullable": true},
                    "stop": {"type": "OBJECT", "properties": {"price": {"type": "NUMBER"}}, "required": ["price"], "nullable": true},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}}
                },
                "required": ["action", "confidence", "size"]
            })
        );
    }

    #[test]
    fn what_gemini_cannot_say_is_refused() {
        for (schema, why) in [
            (
                json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "number"}}}}),
                "map",
            ),
            (
                json!({"type": "object", "properties": {"any": {}}}),
                "any JSON",
            ),
            (json!({"type": "object"}), "without properties"),
            (json!({"type": ["string", "integer"]}), "several types"),
        ] {
            let err = response_schema(&schema).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }
}
