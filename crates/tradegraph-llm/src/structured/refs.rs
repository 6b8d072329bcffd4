//! Inlining local `$ref`s, for providers that take no references (Gemini) or handle them badly.

use serde_json::{Map, Value};

/// How deep inlining may nest before it is taken for recursion.
const MAX_DEPTH: usize = 32;

/// `schema` with every `#/$defs/...` (or `#/definitions/...`) reference replaced by its
/// definition, and the definitions removed.
///
/// # Errors
/// A recursive type, or a reference that is not local.
pub(crate) fn inline(schema: &Value) -> Result<Value, String> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.remove("$defs");
        map.remove("definitions");
    }
    inline_node(&root, defs, &mut Vec::new())
}

fn inline_node(
    node: &Value,
    defs: &Map<String, Value>,
    stack: &mut Vec<String>,
) -> Result<Value, String> {
    match node {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = reference
                    .strip_prefix("#/$defs/")
                    .or_else(|| reference.strip_prefix("#/definitions/"))
                    .ok_or_else(|| format!("reference `{reference}` is not local"))?;
                if stack.iter().any(|s| s == name) || stack.len() >= MAX_DEPTH {
                    return Err(format!("`{name}` is recursive"));
                }
                let def = defs
                    .get(name)
                    .ok_or_else(|| format!("reference `{reference}` has no definition"))?;
                stack.push(name.to_owned());
                let resolved = inline_node(def, defs, stack)?;
                stack.pop();
                // Keywords beside the reference (a field's description) win over the definition's.
                let mut merged = match resolved {
                    Value::Object(m) => m,
                    other => return Ok(other),
                };
                for (k, v) in map {
                    if k != "$ref" {
                        merged.insert(k.clone(), inline_node(v, defs, stack)?);
                    }
                }
                return Ok(Value::Object(merged));
            }
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), inline_node(v, defs, stack)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items.iter().map(|v| inline_node(v, defs, stack)).collect(),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_inlined_with_their_siblings() {
        let s = json!({
            "type": "object",
            "properties": {"side": {"$ref": "#/$defs/Side", "description": "which way"}},
            "$defs": {"Side": {"type": "string", "enum": ["buy", "sell"], "description": "d"}}
        });
        let out = inline(&s).unwrap();
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"side": {"type": "string", "enum": ["buy", "sell"], "description": "which way"}}})
        );
    }

    #[test]
    fn recursion_is_refused() {
        let s = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        assert!(inline(&s).unwrap_err().contains("recursive"));
        assert!(inline(&json!({"$ref": "http://x/y"}))
            .unwrap_err()
            .contains("not local"));
    }
}
