//! Structured output: answers that are checked against the JSON Schema of a Rust type.
//!
//! The path of one structured call on one provider:
//!
//! 1. [`PreparedSchema::of::<T>()`](PreparedSchema::of) — generated, compiled and converted
//!    once per type;
//! 2. the provider sends it in its native form (OpenAI strict `json_schema`, an Anthropic forced
//!    tool, Gemini `responseSchema`, Ollama `format`), or as an instruction where it cannot;
//! 3. [`extract_json`] finds the JSON in the answer — raw, in a ```` ```json ```` fence, or
//!    inside chatty text;
//! 4. [`PreparedSchema::validate`] checks it (the `jsonschema` crate), then it is deserialized;
//! 5. on a violation the [`RepairPolicy`] sends the answer back with the violations, a bounded
//!    number of times; an answer still invalid is [`LlmError::SchemaInvalid`](crate::LlmError),
//!    on which the fallback chain moves to the next provider.

mod extract;
mod gemini;
mod refs;
mod repair;
mod run;
mod schema;
mod strict;

pub use extract::extract_json;
pub use repair::{Repair, RepairPolicy};
pub(crate) use run::{decode, decoder_of, run_structured, Decoded, Decoder};
pub(crate) use schema::hex;
pub use schema::PreparedSchema;

use crate::{LlmError, Provider, Request, Response};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Asks one provider for a `T`, with repair turns but without the fallback chain, cache or
/// budget of [`Llm`](crate::Llm) (use that in applications; this is for tests and tools).
///
/// # Errors
/// The provider's errors, or [`LlmError::SchemaInvalid`] once `repair` gives up.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use tradegraph_llm::{structured, Repair, Request, ScriptedProvider};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Verdict { bullish: bool }
///
/// let p = ScriptedProvider::new("mock", "m").text("Sure! {\"bullish\": true}");
/// let out = structured::complete::<Verdict>(&p, Request::chat("Judge.", "BTC"), &Repair::default()).await?;
/// assert!(out.value.bullish);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn complete<T: JsonSchema + DeserializeOwned + Send + 'static>(
    provider: &dyn Provider,
    request: Request,
    repair: &dyn RepairPolicy,
) -> Result<Structured<T>, LlmError> {
    let schema = PreparedSchema::of::<T>()?;
    let request = request.schema(schema.clone());
    let outcome = run_structured(
        provider,
        &request,
        &schema,
        repair,
        &decoder_of::<T>,
        run::EVERY_TURN,
    )
    .await;
    let (value, response, repairs) = outcome.result?;
    Ok(Structured {
        value: downcast(value, &response.provider)?,
        response,
        repairs,
    })
}

/// The caller's type back from a [`Decoded`].
pub(crate) fn downcast<T: 'static>(value: Decoded, provider: &str) -> Result<T, LlmError> {
    value
        .downcast::<T>()
        .map(|b| *b)
        .map_err(|_| LlmError::Malformed {
            provider: provider.to_owned(),
            message: "internal: the decoded answer has another type".into(),
        })
}

/// A validated, typed answer.
#[derive(Debug, Clone)]
pub struct Structured<T> {
    /// The answer.
    pub value: T,
    /// The provider's response; its content is the validated JSON, its usage and latency cover
    /// every repair turn.
    pub response: Response,
    /// How many repair turns it took (0: the first answer was valid).
    pub repairs: u32,
}

/// Where and how an answer broke its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON pointer to the offending value (`""` is the whole value).
    pub pointer: String,
    /// The JSON Schema keyword that failed (`required`, `maximum`, `enum`, `type`, ...), or
    /// `json` when no JSON could be read, `deserialize` when serde refused a valid value.
    pub rule: String,
    /// The explanation.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "at `{at}`, rule `{}`: {}", self.rule, self.message)
    }
}

/// JSON with object keys sorted, whatever serde_json's `preserve_order` feature says, so that
/// hashes of schemas and requests are stable.
pub(crate) fn canonical(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    // serde_json writes UTF-8 only; the fallback is never taken
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Strings and numbers are written by serde_json straight into `out` (its escaping and number
/// formatting, as `Value::to_string` gives them), without a string of their own.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(key, out);
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        other => write_scalar(other, out),
    }
}

fn write_scalar<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // writing a string or a number to a vector cannot fail
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "s"}], "c": null}});
        assert_eq!(
            canonical(&v),
            r#"{"a":{"c":null,"d":[1,{"y":"s","z":0}]},"b":1}"#
        );
    }
}
