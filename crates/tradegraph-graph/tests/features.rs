//! Streaming, subgraphs, schema-validated output, pictures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{visit, Flow, FlowUpdate};
use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;
use tradegraph_graph::{
    async_trait, node_fn, Command, Event, GraphError, GraphState, NodeContext, NodeError,
    RunConfig, StateGraph, StructuredNode, Subgraph, Validated, END, START,
};

fn kind<S: GraphState>(e: &Event<S>) -> String {
    match e {
        Event::RunStarted { .. } => "run_started".into(),
        Event::NodeStarted { node, .. } => format!("started:{node}"),
        Event::NodeFinished { node, .. } => format!("finished:{node}"),
        Event::StepCompleted { step, .. } => format!("step:{step}"),
        Event::Custom { node, .. } => format!("custom:{node}"),
        Event::Finished { .. } => "finished".into(),
        Event::Failed { .. } => "failed".into(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn stream_reports_nodes_steps_and_the_end() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node(
        "a",
        node_fn(|_s: Arc<Flow>, ctx| async move {
            ctx.emit(serde_json::json!({"progress": 0.5}));
            Ok(Command::update(
                FlowUpdate::default().visited(vec!["a".into()]),
            ))
        }),
    )
    .add_node("b", visit("b"))
    .add_edge(START, "a")
    .add_edge("a", "b")
    .add_edge("b", END);
    let graph = g.compile().unwrap();
    let events: Vec<Event<Flow>> = graph
        .stream(Flow::default(), RunConfig::new())
        .collect()
        .await;
    let kinds: Vec<String> = events.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "started:a",
            "custom:a",
            "finished:a",
            "step:0",
            "started:b",
            "finished:b",
            "step:1",
            "finished"
        ]
    );
    let Some(Event::StepCompleted { state, .. }) = events
        .iter()
        .find(|e| matches!(e, Event::StepCompleted { step: 1, .. }))
    else {
        panic!("no step 1");
    };
    assert_eq!(state.visited, ["a", "b"]);
    let Some(Event::NodeFinished { update, .. }) = events
        .iter()
        .find(|e| matches!(e, Event::NodeFinished { .. }))
    else {
        panic!("no node finished");
    };
    assert_eq!(
        update.as_ref().unwrap().visited.as_deref(),
        Some(&["a".to_owned()][..])
    );
}

#[tokio::test]
async fn a_failed_stream_ends_with_failed_and_the_error() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node(
        "bad",
        node_fn(|_s: Arc<Flow>, _c| async { Err(NodeError::failed("kaput")) }),
    )
    .add_edge(START, "bad")
    .add_edge("bad", END);
    let mut stream = g
        .compile()
        .unwrap()
        .stream(Flow::default(), RunConfig::new());
    let mut last = None;
    while let Some(e) = stream.next().await {
        last = Some(e);
    }
    assert!(
        matches!(last, Some(Event::Failed { ref error }) if error.contains("node `bad` failed")),
        "{last:?}"
    );
    assert!(matches!(
        stream.output(),
        Some(Err(GraphError::NodeFailed { .. }))
    ));
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, GraphState)]
struct Inner {
    #[reducer(append)]
    lines: Vec<String>,
}

#[tokio::test]
async fn a_compiled_graph_runs_as_a_node() {
    let mut inner = StateGraph::<Inner>::new("inner");
    inner
        .add_node(
            "say",
            node_fn(|s: Arc<Inner>, _c| async move {
                Ok(Command::update(
                    InnerUpdate::default().lines(vec![format!("heard {}", s.lines.len())]),
                ))
            }),
        )
        .add_edge(START, "say")
        .add_edge("say", END);
    let sub = Subgraph::new(
        inner.compile().unwrap(),
        |outer: &Flow| Inner {
            lines: outer.visited.clone(),
        },
        |inner: Inner, _outer: &Flow| FlowUpdate::default().visited(vec![inner.lines.join("|")]),
    )
    .unwrap();
    let mut g = StateGraph::<Flow>::new("outer");
    g.add_node("first", visit("first"))
        .add_node("child", sub)
        .add_edge(START, "first")
        .add_edge("first", "child")
        .add_edge("child", END);
    let graph = g.compile().unwrap();
    let out = graph
        .invoke(Flow::default(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(out.state.visited, ["first", "first|heard 1"]);
    let events: Vec<Event<Flow>> = graph
        .stream(Flow::default(), RunConfig::new())
        .collect()
        .await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Custom { node, .. } if node == "child/say")),
        "child events reach the parent"
    );
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Signal {
    action: Action,
    #[schemars(range(min = 0.0, max = 1.0))]
    confidence: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
enum Action {
    #[serde(rename = "BUY")]
    Buy,
    #[serde(rename = "SELL")]
    Sell,
}

struct FakeLlm(serde_json::Value);

#[async_trait]
impl StructuredNode<Flow> for FakeLlm {
    type Output = Signal;
    async fn produce(
        &self,
        _s: Arc<Flow>,
        _c: NodeContext,
    ) -> Result<serde_json::Value, NodeError> {
        Ok(self.0.clone())
    }
    fn apply(&self, out: Signal, _s: &Flow) -> Command<FlowUpdate> {
        let action = match out.action {
            Action::Buy => "BUY",
            Action::Sell => "SELL",
        };
        Command::update(FlowUpdate::default().decision(action).best(out.confidence))
    }
}

async fn run_llm(answer: serde_json::Value) -> Result<Flow, GraphError> {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("technical", Validated::new(FakeLlm(answer)).unwrap())
        .add_edge(START, "technical")
        .add_edge("technical", END);
    let graph = g.compile().unwrap();
    assert!(
        graph.topology().nodes[0].output_schema.is_some(),
        "the schema is declared"
    );
    Ok(graph.invoke(Flow::default(), RunConfig::new()).await?.state)
}

#[tokio::test]
async fn model_output_is_validated_before_it_touches_the_state() {
    let ok = run_llm(serde_json::json!({"action": "BUY", "confidence": 0.8}))
        .await
        .unwrap();
    assert_eq!((ok.decision.as_str(), ok.best), ("BUY", 0.8));

    let err = run_llm(serde_json::json!({"action": "BUY", "confidence": 7}))
        .await
        .unwrap_err();
    let GraphError::NodeFailed {
        node,
        source: NodeError::InvalidOutput(v),
        ..
    } = &err
    else {
        panic!("unexpected: {err}");
    };
    assert_eq!(
        (node.as_str(), v.pointer.as_str(), v.rule.as_str()),
        ("technical", "/confidence", "maximum")
    );
    assert!(err.to_string().contains("node `technical`"), "{err}");

    let err = run_llm(serde_json::json!({"action": "YOLO", "confidence": 0.5}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::NodeFailed { source: NodeError::InvalidOutput(v), .. } if v.pointer == "/action" && v.rule == "enum"),
        "{err}"
    );

    let err = run_llm(serde_json::json!({"confidence": 0.5}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::NodeFailed { source: NodeError::InvalidOutput(v), .. } if v.rule == "required"),
        "{err}"
    );
}

#[test]
fn pictures_name_every_node_and_route() {
    let mut g = StateGraph::<Flow>::new("pic");
    g.add_node("pm", visit("pm"))
        .add_node("exec \"x\"", visit("exec"))
        .add_edge(START, "pm")
        .add_conditional_edges(
            "pm",
            "act",
            |_: &Flow| "go",
            [("go", "exec \"x\""), ("stop", END)],
        )
        .add_edge("exec \"x\"", END);
    let graph = g.compile().unwrap();
    let mermaid = graph.to_mermaid();
    assert!(mermaid.contains("n0 -.->|\"act: go\"| n1"), "{mermaid}");
    assert!(mermaid.contains("n1[\"exec #quot;x#quot;\"]"), "{mermaid}");
    assert!(mermaid.contains("start_ --> n0"), "{mermaid}");
    let dot = graph.to_dot();
    assert!(
        dot.contains("\"pm\" -> \"exec \\\"x\\\"\" [style=dashed, label=\"act: go\"]"),
        "{dot}"
    );
    assert!(
        dot.contains("\"pm\" -> \"end\" [style=dashed, label=\"act: stop\"]"),
        "{dot}"
    );
}

/// A state whose field is a raw identifier.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize, tradegraph_graph::GraphState)]
struct Tagged {
    r#type: String,
}

#[test]
fn a_raw_identifier_field_is_named_as_serde_names_it() {
    use tradegraph_graph::StateUpdate;
    assert_eq!(Tagged::fields()[0].name, "type");
    let state = Tagged {
        r#type: "limit".into(),
    };
    assert_eq!(state.field_value("type"), Some(serde_json::json!("limit")));
    assert_eq!(
        TaggedUpdate::default().r#type("market").fields_set(),
        ["type"]
    );
}
