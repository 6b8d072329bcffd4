//! One structured call on one provider: ask, extract, validate, deserialize, repair.

use super::{extract_json, PreparedSchema, RepairPolicy, Violation};
use crate::{Content, LlmError, Provider, Request, Response, Usage};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::any::Any;
use std::time::Duration;

/// A deserialized answer, type-erased so that the fallback chain and the cache need not be
/// generic; [`Llm::structured`](crate::Llm::structured) downcasts it back.
pub(crate) type Decoded = Box<dyn Any + Send>;

/// Deserializes a validated value into the caller's type.
pub(crate) type Decoder<'a> = &'a (dyn Fn(&Value) -> Result<Decoded, String> + Send + Sync);

/// The decoder of `T`.
pub(crate) fn decoder_of<T: DeserializeOwned + Send + 'static>(
    value: &Value,
) -> Result<Decoded, String> {
    T::deserialize(value)
        .map(|t| Box::new(t) as Decoded)
        .map_err(|e| e.to_string())
}

/// What a structured call produced, and the tokens it spent either way.
pub(crate) struct Outcome {
    pub(crate) result: Result<(Decoded, Response, u32), LlmError>,
    pub(crate) spent: Usage,
}

/// Admits a repair turn (another call to the vendor, the request given) before it is sent,
/// knowing what the turns so far spent, or refuses it (a budget spent): the caller's
/// accounting of the turns.
pub(crate) type AdmitTurn<'a> = &'a (dyn Fn(&Request, Usage) -> Result<(), LlmError> + Sync);

/// Admits every repair turn (nothing to account).
pub(crate) const EVERY_TURN: AdmitTurn<'static> = &|_, _| Ok(());

/// Runs `request` (whose schema is set) on `provider` until the answer validates or `repair`
/// gives up. Each repair turn is a call the vendor bills: `admit_turn` is asked before it is
/// sent, and its refusal ends the run with what was spent. The returned response carries the
/// validated JSON and the usage and latency of every turn.
pub(crate) async fn run_structured(
    provider: &dyn Provider,
    request: &Request,
    schema: &PreparedSchema,
    repair: &dyn RepairPolicy,
    decoder: Decoder<'_>,
    admit_turn: AdmitTurn<'_>,
) -> Outcome {
    let mut req = request.clone();
    let mut spent = Usage::default();
    let mut latency = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let response = match provider.complete(&req).await {
            Ok(r) => r,
            Err(e) => {
                return Outcome {
                    result: Err(e),
                    spent,
                }
            }
        };
        spent += response.usage;
        latency += response.latency;
        match decode(schema, &response.content, decoder) {
            Ok((value, json)) => {
                let mut response = response;
                response.raw = Some(response.text());
                response.content = Content::Json(json);
                response.usage = spent;
                response.latency = latency;
                return Outcome {
                    result: Ok((value, response, attempt - 1)),
                    spent,
                };
            }
            Err(problems) => {
                tracing::debug!(
                    provider = provider.name(),
                    attempt,
                    problems = problems.len(),
                    first = %problems[0],
                    "structured answer rejected"
                );
                match repair.repair(attempt, &response.text(), &problems) {
                    Some(turn) => {
                        req.messages.extend(turn);
                        if let Err(refused) = admit_turn(&req, spent) {
                            return Outcome {
                                result: Err(refused),
                                spent,
                            };
                        }
                    }
                    None => {
                        let error = LlmError::SchemaInvalid {
                            provider: provider.name().to_owned(),
                            attempts: attempt,
                            errors: problems.iter().map(ToString::to_string).collect(),
                        };
                        return Outcome {
                            result: Err(error),
                            spent,
                        };
                    }
                }
            }
        }
    }
}

/// The decoded value in `content`, with its JSON.
///
/// # Errors
/// At least one [`Violation`]: no JSON (`json`), a schema rule, or serde's refusal
/// (`deserialize`).
pub(crate) fn decode(
    schema: &PreparedSchema,
    content: &Content,
    decoder: Decoder<'_>,
) -> Result<(Decoded, Value), Vec<Violation>> {
    let value = match content {
        Content::Json(v) => v.clone(),
        Content::Text(text) => extract_json(text).map_err(|message| {
            vec![Violation {
                pointer: String::new(),
                rule: "json".into(),
                message,
            }]
        })?,
    };
    schema.validate(&value)?;
    let typed = decoder(&value).map_err(|message| {
        vec![Violation {
            pointer: String::new(),
            rule: "deserialize".into(),
            message,
        }]
    })?;
    Ok((typed, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Repair, ScriptedProvider};
    use schemars::JsonSchema;
    use serde::Deserialize;
    use std::sync::Arc;

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    struct Answer {
        #[schemars(range(min = 0, max = 10))]
        score: u8,
    }

    fn request() -> (Request, Arc<PreparedSchema>) {
        let schema = PreparedSchema::of::<Answer>().unwrap();
        (
            Request::chat("Score it.", "BTC").schema(schema.clone()),
            schema,
        )
    }

    #[tokio::test]
    async fn a_broken_answer_is_repaired_with_the_violations() {
        let p = ScriptedProvider::new("p", "m")
            .text(r#"{"score": 42}"#)
            .text("```json\n{\"score\": 7}\n```");
        let (req, schema) = request();
        let out = run_structured(
            &p,
            &req,
            &schema,
            &Repair::default(),
            &decoder_of::<Answer>,
            EVERY_TURN,
        )
        .await;
        let (value, response, repairs) = out.result.unwrap();
        assert_eq!(
            (*value.downcast::<Answer>().unwrap(), repairs),
            (Answer { score: 7 }, 1)
        );
        assert_eq!(
            response.content,
            Content::Json(serde_json::json!({"score": 7}))
        );
        assert_eq!((response.usage.total(), out.spent.total()), (30, 30));
        let sent = p.requests();
        let repair_turn = &sent[1].messages;
        assert_eq!(repair_turn.len(), 4);
        assert_eq!(repair_turn[2].content, r#"{"score": 42}"#);
        assert!(
            repair_turn[3]
                .content
                .contains("at `/score`, rule `maximum`"),
            "{}",
            repair_turn[3].content
        );
    }

    #[tokio::test]
    async fn the_loop_is_bounded_and_ends_in_schema_invalid() {
        let p = ScriptedProvider::new("p", "m").text("no JSON here");
        let (req, schema) = request();
        let out = run_structured(
            &p,
            &req,
            &schema,
            &Repair::new(1),
            &decoder_of::<Answer>,
            EVERY_TURN,
        )
        .await;
        match out.result {
            Err(LlmError::SchemaInvalid {
                attempts, errors, ..
            }) => {
                assert_eq!(attempts, 2);
                assert!(errors[0].contains("rule `json`"), "{errors:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.requests().len(), 2);
        assert_eq!(out.spent.total(), 30);
    }

    #[tokio::test]
    async fn provider_errors_pass_through_with_what_was_spent() {
        let p = ScriptedProvider::new("p", "m")
            .text(r#"{"score": -1}"#)
            .error(LlmError::Timeout {
                provider: "p".into(),
                after: Duration::from_secs(1),
            });
        let (req, schema) = request();
        let out = run_structured(
            &p,
            &req,
            &schema,
            &Repair::default(),
            &decoder_of::<Answer>,
            EVERY_TURN,
        )
        .await;
        assert!(matches!(out.result, Err(LlmError::Timeout { .. })));
        assert_eq!(out.spent.total(), 15);
    }

    #[test]
    fn serde_refusals_are_violations_too() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Strict {
            n: u8,
        }
        let loose =
            PreparedSchema::from_value("loose", serde_json::json!({"type": "object"})).unwrap();
        let err = decode(&loose, &Content::Text("{}".into()), &decoder_of::<Strict>).unwrap_err();
        assert_eq!(err[0].rule, "deserialize");
    }
}
