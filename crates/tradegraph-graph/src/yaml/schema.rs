//! The JSON Schema of the YAML format, for editors (`graphs/graph.schema.json`).
//!
//! Edges and field-route cases are read as flat structs and checked by the loader (which gives
//! better errors than a failed untagged match); their schemas state the shapes exactly, with
//! the schema-only types below.

use super::located::{NodeList, Targets};
use super::spec::{CaseSpec, EdgeSpec, GraphSpec};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// The JSON Schema (draft 2020-12) of graph files.
///
/// Editors validate graph files against it: the repository commits it as
/// `graphs/graph.schema.json` (regenerate with `cargo run -p tradegraph -- graph schema >
/// graphs/graph.schema.json`), and a graph file points at it with a first line of
/// `# yaml-language-server: $schema=graph.schema.json`.
///
/// ```
/// let schema = tradegraph_graph::yaml::format_schema();
/// assert_eq!(schema["title"], "tradegraph graph");
/// assert!(schema["required"].as_array().is_some_and(|r| r.contains(&"nodes".into())));
/// ```
pub fn format_schema() -> serde_json::Value {
    let mut schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<GraphSpec>()
        .to_value();
    unwrap_descriptions(&mut schema);
    // Sorted at every level whether or not a dependency turns on `preserve_order`, so the
    // printed schema is the same byte for byte in every build.
    schema.sort_all_objects();
    schema
}

/// Doc comments are wrapped at 100 columns; editors show descriptions as one paragraph.
fn unwrap_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    serde_json::Value::String(text) if key == "description" => {
                        *text = text.replace('\n', " ");
                    }
                    _ => unwrap_descriptions(value),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

// Schema-only types: never constructed, only described.

/// A static edge: after `from` runs, `to` runs (a list of nodes is a fan-out).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct StaticEdge {
    /// The node the edge leaves, or `start`.
    from: String,
    /// The node (or `end`), or nodes, that run next.
    to: NodeList,
}

/// A join: `to` runs once every source that was started has arrived.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct JoinEdge {
    /// The sources (2 to 64).
    #[schemars(length(min = 2, max = 64))]
    join: Vec<String>,
    /// The node that runs when they have all arrived.
    to: String,
}

/// A conditional edge decided by a registered router.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RouterEdge {
    /// The node the edge leaves, or `start`.
    from: String,
    /// The registered router's name.
    router: String,
    /// The labels the router may return and the nodes they lead to.
    targets: Targets,
}

/// A conditional edge that compares a state field with constants, without Rust code: the first
/// matching case wins, else `default`, else the branch ends. Its router is named
/// `field:<field><pointer>` (e.g. `field:decision/action`).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct FieldEdge {
    /// The node the edge leaves, or `start`.
    from: String,
    /// A top-level field of the state.
    field: String,
    /// A JSON pointer inside the field's value, such as `/action`.
    #[schemars(regex(pattern = r"^(/.*)?$"))]
    pointer: Option<String>,
    /// The cases, tried in order.
    cases: Vec<CaseSpec>,
    /// The node when no case matches.
    default: Option<String>,
}

/// A dynamic fan-out: `to` (a map node) runs once per item that the registered send produces.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct SendEdge {
    /// The node the edge leaves, or `start`.
    from: String,
    /// The registered send's name.
    send: String,
    /// The map node run per item.
    to: String,
}

/// The edge shapes (they never overlap, since every shape denies other keys).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum EdgeShape {
    Static(StaticEdge),
    Join(JoinEdge),
    Router(RouterEdge),
    Field(FieldEdge),
    Send(SendEdge),
}

impl JsonSchema for EdgeSpec {
    fn schema_name() -> Cow<'static, str> {
        "Edge".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = EdgeShape::json_schema(generator);
        schema.insert(
            "description".into(),
            "An edge: static (from, to), join (join, to), named router (from, router, targets), \
             field route (from, field, cases) or send (from, send, to)."
                .into(),
        );
        schema
    }
}

impl JsonSchema for CaseSpec {
    fn schema_name() -> Cow<'static, str> {
        "Case".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        let number =
            |description: &str| serde_json::json!({ "type": "number", "description": description });
        schemars::json_schema!({
            "description": "A case of a field route: exactly one comparison, and `to`, the node it leads to.",
            "type": "object",
            "properties": {
                "to": { "type": "string", "description": "The node (or `end`) this case leads to." },
                "equals": { "description": "Equal (numbers compare by value)." },
                "not_equals": { "description": "Not equal." },
                "in": { "type": "array", "description": "Equal to one of these." },
                "gt": number("Greater than."),
                "gte": number("Greater than or equal."),
                "lt": number("Less than."),
                "lte": number("Less than or equal."),
                "truthy": { "const": true, "description": "True, non-zero, non-empty." }
            },
            "required": ["to"],
            "additionalProperties": false,
            "minProperties": 2,
            "maxProperties": 2
        })
    }
}
