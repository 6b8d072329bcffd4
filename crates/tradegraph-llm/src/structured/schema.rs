//! [`PreparedSchema`]: a JSON Schema compiled once, with each provider's native form ready.

use super::{canonical, gemini, refs, strict, Violation};
use crate::LlmError;
use schemars::JsonSchema;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

/// How many violations a validation reports at most (the repair turn sends them back).
const MAX_VIOLATIONS: usize = 8;

/// A JSON Schema prepared for every provider, once.
///
/// Preparing compiles the validator and converts the schema to OpenAI's strict subset and to
/// Gemini's `responseSchema` subset; that is the costly part, so [`PreparedSchema::of`] does it
/// once per Rust type and hands out the same [`Arc`] afterwards.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use std::sync::Arc;
/// use tradegraph_llm::PreparedSchema;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Signal {
///     /// BUY, SELL or HOLD.
///     action: String,
///     #[schemars(range(min = 0.0, max = 1.0))]
///     confidence: f64,
/// }
///
/// let schema = PreparedSchema::of::<Signal>()?;
/// assert!(Arc::ptr_eq(&schema, &PreparedSchema::of::<Signal>()?)); // cached per type
/// assert_eq!(schema.name(), "Signal");
/// let errors = schema.validate(&serde_json::json!({"action": "BUY", "confidence": 7})).unwrap_err();
/// assert_eq!((errors[0].pointer.as_str(), errors[0].rule.as_str()), ("/confidence", "maximum"));
/// // OpenAI's strict mode wants every object closed:
/// assert_eq!(schema.openai_strict().unwrap()["additionalProperties"], false);
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
pub struct PreparedSchema {
    name: String,
    schema: Value,
    inlined: Result<Value, String>,
    openai_strict: Result<Value, String>,
    gemini: Result<Value, String>,
    validator: jsonschema::Validator,
    hash: String,
    instruction: String,
}

impl PreparedSchema {
    /// `T`'s schema, prepared on first use and cached for the life of the process.
    ///
    /// # Errors
    /// [`LlmError::Schema`] when the generated schema does not compile (a bug in a
    /// `JsonSchema` impl).
    pub fn of<T: JsonSchema + 'static>() -> Result<Arc<Self>, LlmError> {
        static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<PreparedSchema>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let id = TypeId::of::<T>();
        if let Some(found) = cache.read().ok().and_then(|map| map.get(&id).cloned()) {
            return Ok(found);
        }
        let schema =
            serde_json::to_value(schemars::schema_for!(T)).map_err(|e| LlmError::Schema {
                type_name: std::any::type_name::<T>().to_owned(),
                message: e.to_string(),
            })?;
        let prepared = Arc::new(Self::from_value(T::schema_name(), schema)?);
        if let Ok(mut map) = cache.write() {
            return Ok(map.entry(id).or_insert(prepared).clone());
        }
        Ok(prepared)
    }

    /// [`PreparedSchema::from_value`], cached by name and content for the life of the process:
    /// for schemas known only at run time but asked for again and again.
    ///
    /// # Errors
    /// As [`PreparedSchema::from_value`].
    pub fn cached(name: &str, schema: &Value) -> Result<Arc<Self>, LlmError> {
        // By name, then by the schema's value: comparing it is far cheaper than printing and
        // hashing it on every call, and a value the same to the bit prints the same canonical
        // text.
        type Schemas = HashMap<String, Vec<Arc<PreparedSchema>>>;
        static CACHE: OnceLock<RwLock<Schemas>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let find = |map: &Schemas| {
            map.get(name)
                .and_then(|all| all.iter().find(|p| same(&p.schema, schema)).cloned())
        };
        if let Some(found) = cache.read().ok().and_then(|map| find(&map)) {
            return Ok(found);
        }
        let prepared = Arc::new(Self::from_value(name, schema.clone())?);
        if let Ok(mut map) = cache.write() {
            if let Some(found) = find(&map) {
                return Ok(found);
            }
            map.entry(name.to_owned())
                .or_default()
                .push(Arc::clone(&prepared));
        }
        Ok(prepared)
    }

    /// Prepares a schema given as JSON (for answers whose shape is only known at run time,
    /// e.g. declared in YAML). `name` is sent to providers that want one; characters outside
    /// `[A-Za-z0-9_-]` become `_`.
    ///
    /// # Errors
    /// [`LlmError::Schema`] when `schema` is not a valid JSON Schema.
    pub fn from_value(name: impl AsRef<str>, schema: Value) -> Result<Self, LlmError> {
        let name = wire_name(name.as_ref());
        let validator = jsonschema::validator_for(&schema).map_err(|e| LlmError::Schema {
            type_name: name.clone(),
            message: e.to_string(),
        })?;
        let inlined = refs::inline(&schema);
        let openai_strict = strict::openai_strict(&schema, inlined.as_ref().ok());
        let gemini = match &inlined {
            Ok(inlined) => gemini::response_schema(inlined),
            Err(e) => Err(e.clone()),
        };
        let text = canonical(&schema);
        let hash = hex(&Sha256::digest(text.as_bytes()));
        let instruction = format!(
            "Answer with one JSON value and nothing else: no prose, no Markdown code fences. \
             It must conform to this JSON Schema:\n{text}"
        );
        Ok(Self {
            name,
            schema,
            inlined,
            openai_strict,
            gemini,
            validator,
            hash,
            instruction,
        })
    }

    /// The name sent to providers (`json_schema.name`, Anthropic's tool name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema as generated; answers are validated against it.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The schema with every local `$ref` inlined and `$defs` removed, or why that is not
    /// possible (a recursive type).
    pub fn inlined(&self) -> Result<&Value, &str> {
        self.inlined.as_ref().map_err(String::as_str)
    }

    /// The schema in OpenAI's strict subset (every object closed and fully required, optional
    /// fields nullable, unsupported keywords dropped), or why it cannot be (the root is not
    /// an object, free-form values, maps).
    pub fn openai_strict(&self) -> Result<&Value, &str> {
        self.openai_strict.as_ref().map_err(String::as_str)
    }

    /// The schema as Gemini's `responseSchema` (an OpenAPI 3.0 subset: no `$ref`, no
    /// `additionalProperties`, `nullable` instead of `null` types), or why it cannot be.
    pub fn gemini(&self) -> Result<&Value, &str> {
        self.gemini.as_ref().map_err(String::as_str)
    }

    /// The SHA-256 of the schema's canonical JSON, in hex (part of cache keys).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The instruction given to providers that cannot take the schema natively (it is also
    /// added for JSON-mode providers, which need to be told).
    pub fn instruction(&self) -> &str {
        &self.instruction
    }

    /// Whether the root of the schema is an object (providers that need one fall back to the
    /// instruction otherwise).
    pub fn root_is_object(&self) -> bool {
        let root = self.inlined.as_ref().unwrap_or(&self.schema);
        root.get("type").and_then(Value::as_str) == Some("object")
    }

    /// Validates `value`.
    ///
    /// # Errors
    /// Up to eight [`Violation`]s, each with its JSON pointer and rule.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<Violation>> {
        let errors: Vec<Violation> = self
            .validator
            .iter_errors(value)
            .take(MAX_VIOLATIONS)
            .map(|e| Violation {
                pointer: e.instance_path().as_str().to_owned(),
                rule: e.kind().keyword().to_owned(),
                message: e.to_string(),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl fmt::Debug for PreparedSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedSchema")
            .field("name", &self.name)
            .field("hash", &&self.hash[..12])
            .field("openai_strict", &self.openai_strict.is_ok())
            .field("gemini", &self.gemini.is_ok())
            .finish_non_exhaustive()
    }
}

/// `^[A-Za-z0-9_-]{1,64}$`, as OpenAI and Anthropic require of names.
fn wire_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push_str("answer");
    }
    out
}

/// Whether `a` and `b` print the same canonical text: equal, numbers to the bit (`0.0` and
/// `-0.0` are equal JSON values, but print apart).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(fx), Some(fy)) if x.is_f64() && y.is_f64() => fx.to_bits() == fy.to_bits(),
            _ => x == y,
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_wire_safe() {
        assert_eq!(wire_name("Vec<Signal>"), "Vec_Signal_");
        assert_eq!(wire_name(""), "answer");
        assert_eq!(wire_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn cached_schemas_are_shared_by_name_and_content() {
        let schema = serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"}}});
        let first = PreparedSchema::cached("cached-test", &schema).unwrap();
        let again = PreparedSchema::cached("cached-test", &schema.clone()).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // the same content with its keys in another order is the same schema
        let reordered = serde_json::json!({"properties": {"b": {"type": "number"}, "a": {"type": "string"}}, "type": "object"});
        let same = PreparedSchema::cached("cached-test", &reordered).unwrap();
        assert!(Arc::ptr_eq(&first, &same));
        assert_eq!(same.hash(), first.hash());
        // other content or another name is another schema
        let other = serde_json::json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let different = PreparedSchema::cached("cached-test", &other).unwrap();
        assert!(!Arc::ptr_eq(&first, &different));
        assert_ne!(different.hash(), first.hash());
        assert!(different.validate(&serde_json::json!({"a": 1})).is_ok());
        assert!(first.validate(&serde_json::json!({"a": 1})).is_err());
        // equal as JSON values, printed apart: other schemas
        let zero = serde_json::json!({"type": "number", "minimum": 0.0});
        let negative_zero = serde_json::json!({"type": "number", "minimum": -0.0});
        assert_eq!(zero, negative_zero);
        let zero = PreparedSchema::cached("cached-zero", &zero).unwrap();
        let negative_zero = PreparedSchema::cached("cached-zero", &negative_zero).unwrap();
        assert_ne!(zero.hash(), negative_zero.hash());
        let renamed = PreparedSchema::cached("cached-test-2", &schema).unwrap();
        assert!(!Arc::ptr_eq(&first, &renamed));
        assert_eq!(renamed.name(), "cached-test-2");
        assert!(matches!(
            PreparedSchema::cached("cached-test", &serde_json::json!({"type": 12})),
            Err(LlmError::Schema { .. })
        ));
    }

    #[test]
    fn invalid_schemas_are_reported() {
        let err = PreparedSchema::from_value("bad", serde_json::json!({"type": 12})).unwrap_err();
        assert!(matches!(err, LlmError::Schema { .. }), "{err}");
    }
}

#[cfg(test)]
mod schemars_shapes {
    use super::*;
    use serde::Deserialize;

    /// Direction.
    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(rename_all = "UPPERCASE")]
    #[allow(dead_code)]
    enum Action {
        /// Go long.
        Buy,
        /// Go short.
        Sell,
        /// Stay out.
        Hold,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Level {
        price: f64,
    }

    /// A trading signal.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Signal {
        action: Action,
        #[schemars(range(min = 0.0, max = 1.0))]
        confidence: f64,
        size: u32,
        stop: Option<Level>,
        reasons: Vec<String>,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn a_realistic_type_converts_for_every_provider() {
        let s = PreparedSchema::of::<Signal>().unwrap();
        assert!(s.root_is_object());
        let strict = s.openai_strict().unwrap();
        assert_eq!(
            strict["required"],
            serde_json::json!(["action", "confidence", "note", "reasons", "size", "stop"])
        );
        assert_eq!(
            strict["properties"]["stop"]["anyOf"][0]["additionalProperties"],
            false
        );
        assert!(strict.get("$defs").is_none() && strict.get("$schema").is_none());
        let gemini = s.gemini().unwrap();
        assert_eq!(
            gemini["properties"]["action"],
            serde_json::json!({"type": "STRING", "enum": ["BUY", "SELL", "HOLD"], "description": "Direction."})
        );
        assert_eq!(gemini["properties"]["stop"]["nullable"], true);
        assert!(s.instruction().contains("\"$defs\""));
        assert_eq!(s.hash().len(), 64);
        let ok = serde_json::json!({"action": "BUY", "confidence": 0.5, "size": 1, "stop": null, "reasons": []});
        assert!(s.validate(&ok).is_ok());
    }
}
