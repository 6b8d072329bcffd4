//! Output schemas: values from untyped sources (an LLM's JSON) are checked against the JSON Schema
//! of the Rust type they must become, before they can enter the state.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// Where and how a value broke its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaViolation {
    /// JSON pointer to the offending value (`""` is the whole value).
    pub pointer: String,
    /// The JSON Schema keyword that failed (`required`, `maximum`, `enum`, `type`, ...).
    pub rule: String,
    /// The validator's explanation.
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "at `{at}`, rule `{}`: {}", self.rule, self.message)
    }
}

impl std::error::Error for SchemaViolation {}

/// A schema that could not be compiled (a bug in a `JsonSchema` impl).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the JSON Schema of `{type_name}` does not compile: {message}")]
pub struct SchemaError {
    /// The Rust type whose schema failed.
    pub type_name: &'static str,
    /// Why.
    pub message: String,
}

/// The compiled JSON Schema of `T`: validates a JSON value, then deserializes it.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use tradegraph_graph::schema::OutputSchema;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Signal {
///     #[schemars(range(min = 0.0, max = 1.0))]
///     confidence: f64,
/// }
///
/// let schema = OutputSchema::<Signal>::new().unwrap();
/// let err = schema.parse(serde_json::json!({"confidence": 7})).err().unwrap();
/// assert_eq!((err.pointer.as_str(), err.rule.as_str()), ("/confidence", "maximum"));
/// ```
pub struct OutputSchema<T> {
    schema: serde_json::Value,
    validator: jsonschema::Validator,
    _type: PhantomData<fn() -> T>,
}

impl<T: JsonSchema + DeserializeOwned> OutputSchema<T> {
    /// Generates and compiles `T`'s schema. Do it once and keep it: compiling is the costly part.
    ///
    /// # Errors
    /// [`SchemaError`] when the generated schema is not a valid JSON Schema.
    pub fn new() -> Result<Self, SchemaError> {
        let schema = serde_json::to_value(schemars::schema_for!(T)).map_err(|e| SchemaError {
            type_name: std::any::type_name::<T>(),
            message: e.to_string(),
        })?;
        let validator = jsonschema::validator_for(&schema).map_err(|e| SchemaError {
            type_name: std::any::type_name::<T>(),
            message: e.to_string(),
        })?;
        Ok(Self {
            schema,
            validator,
            _type: PhantomData,
        })
    }

    /// The JSON Schema, as sent to LLM providers and shown in graph descriptions.
    pub fn schema(&self) -> &serde_json::Value {
        &self.schema
    }

    /// Validates `value` and deserializes it into `T`.
    ///
    /// # Errors
    /// The first [`SchemaViolation`] found, with its JSON pointer and rule.
    pub fn parse(&self, value: serde_json::Value) -> Result<T, SchemaViolation> {
        self.validate(&value)?;
        serde_json::from_value(value).map_err(|e| SchemaViolation {
            pointer: String::new(),
            rule: "deserialize".into(),
            message: e.to_string(),
        })
    }

    /// Validates `value` without deserializing it.
    ///
    /// # Errors
    /// The first [`SchemaViolation`] found.
    pub fn validate(&self, value: &serde_json::Value) -> Result<(), SchemaViolation> {
        self.validator.validate(value).map_err(|e| SchemaViolation {
            pointer: e.instance_path().as_str().to_owned(),
            rule: e.kind().keyword().to_owned(),
            message: e.to_string(),
        })
    }
}

impl<T> fmt::Debug for OutputSchema<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputSchema")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}
