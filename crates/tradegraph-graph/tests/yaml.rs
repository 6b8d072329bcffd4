//! Graphs declared in YAML: loading, running, builder equivalence, and errors with positions.
#![cfg(feature = "yaml")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_graph::retry::{ExponentialBackoff, Jitter, RetryOn};
use tradegraph_graph::router::{Comparison, FieldRouter};
use tradegraph_graph::yaml::{self, NoConfig, Registry, YamlError, YamlErrors};
use tradegraph_graph::{
    map_fn, node_fn, Command, GraphState, Loop, Node, NodeOptions, RunConfig, RunStatus,
    StateGraph, END, START,
};

// ---------------------------------------------------------------- the research graph

#[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
struct Research {
    topic: String,
    #[reducer(append)]
    notes: Vec<String>,
    drafts: u32,
    approved: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResearcherConfig {
    source: String,
}

fn research_registry() -> Registry<Research> {
    let mut registry = Registry::new();
    registry
        .node("planner", |_: NoConfig| {
            Ok(node_fn(|s: Arc<Research>, _ctx| async move {
                Ok(Command::update(
                    ResearchUpdate::default().notes(vec![format!("plan {}", s.topic)]),
                ))
            }))
        })
        .node("researcher", |config: ResearcherConfig| {
            if config.source.is_empty() {
                return Err("`source` must not be empty".to_owned());
            }
            Ok(node_fn(move |_s: Arc<Research>, _ctx| {
                let note = config.source.clone();
                async move { Ok(Command::update(ResearchUpdate::default().notes(vec![note]))) }
            }))
        })
        .node("reviewer", |_: NoConfig| {
            Ok(node_fn(|s: Arc<Research>, _ctx| async move {
                let drafts = s.drafts + 1;
                Ok(Command::update(
                    ResearchUpdate::default()
                        .drafts(drafts)
                        .approved(drafts >= 2),
                ))
            }))
        });
    registry
}

fn repo_file(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[tokio::test]
async fn the_research_example_compiles_and_runs() {
    let graph = yaml::load_file(repo_file("graphs/research.yaml"), &research_registry()).unwrap();
    assert_eq!(graph.name(), "research");
    let out = graph
        .invoke(
            Research {
                topic: "rates".into(),
                ..Research::default()
            },
            RunConfig::new(),
        )
        .await
        .unwrap();
    assert_eq!(out.state.drafts, 2);
    assert!(out.state.approved);
    assert_eq!(
        out.state.notes,
        [
            "plan rates",
            "web",
            "papers",
            "news",
            "plan rates",
            "web",
            "papers",
            "news"
        ]
    );
    let cycle = &graph.topology().cycles[0];
    assert_eq!((cycle.head.as_str(), cycle.limit), ("plan", 3));
}

#[test]
fn the_research_example_equals_its_builder_code() {
    let registry = research_registry();
    let from_yaml = yaml::load_file(repo_file("graphs/research.yaml"), &registry).unwrap();
    let noop = || {
        Arc::new(node_fn(|_s: Arc<Research>, _ctx| async {
            Ok(Command::empty())
        }))
    };
    let researcher = |kind: &str| {
        NodeOptions::new()
            .kind(kind)
            .timeout(Duration::from_millis(30_000))
            .retry(
                ExponentialBackoff::new(3)
                    .initial(Duration::from_millis(200))
                    .jitter(Jitter::Full)
                    .retry_on(RetryOn::Transient),
            )
    };
    let mut g = StateGraph::<Research>::new("research");
    g.add_node_arc("plan", noop(), NodeOptions::new().kind("planner"))
        .add_node_arc("web", noop(), researcher("researcher"))
        .add_node_arc("papers", noop(), researcher("researcher"))
        .add_node_arc("news", noop(), researcher("researcher"))
        .add_node_arc("review", noop(), NodeOptions::new().kind("reviewer"))
        .add_edge(START, "plan")
        .add_fan_out("plan", ["web", "papers", "news"])
        .add_join(["web", "papers", "news"], "review")
        .add_conditional_edges(
            "review",
            yaml::field_router_name("approved", None),
            FieldRouter::<Research>::new("approved", None)
                .case(Comparison::Truthy, END)
                .otherwise("plan"),
            [END, "plan"],
        )
        .loop_limit("plan", 3);
    assert_eq!(from_yaml.topology(), g.compile().unwrap().topology());
}

// ---------------------------------------------------------------- builder equivalence

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Decision {
    action: String,
    confidence: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
struct Desk {
    #[reducer(append)]
    log: Vec<String>,
    decision: Decision,
    chunks: Vec<String>,
    risk: f64,
}

fn say(line: &'static str) -> impl Node<Desk> {
    node_fn(move |_s: Arc<Desk>, _ctx| async move {
        Ok(Command::update(
            DeskUpdate::default().log(vec![line.to_owned()]),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Say {
    line: String,
}

fn desk_registry() -> Registry<Desk> {
    let mut registry = Registry::new();
    registry
        .node("say", |c: Say| {
            Ok(node_fn(move |_s: Arc<Desk>, _ctx| {
                let line = c.line.clone();
                async move { Ok(Command::update(DeskUpdate::default().log(vec![line]))) }
            }))
        })
        .node("pm", |_: NoConfig| {
            Ok(node_fn(|_s: Arc<Desk>, _ctx| async {
                let decision = Decision {
                    action: "BUY".into(),
                    confidence: 0.8,
                };
                Ok(Command::update(DeskUpdate::default().decision(decision)))
            }))
        })
        .node("splitter", |_: NoConfig| {
            Ok(node_fn(|_s: Arc<Desk>, _ctx| async {
                Ok(Command::update(
                    DeskUpdate::default().chunks(vec!["a".into(), "b".into()]),
                ))
            }))
        })
        .map_node("summarizer", |_: NoConfig| {
            Ok(map_fn(|_s: Arc<Desk>, item: String, _ctx| async move {
                Ok(Command::update(
                    DeskUpdate::default().log(vec![format!("sum {item}")]),
                ))
            }))
        })
        .router(
            "by_risk",
            |s: &Desk| if s.risk > 0.5 { "veto" } else { "ok" },
        )
        .condition("still_disagree", |s: &Desk| s.log.len() < 3)
        .send("chunks", |s: &Desk| s.chunks.clone());
    registry
}

const DESK: &str = r"
name: desk
limits:
  max_steps: 40
  default_loop_limit: 8
  loop_limits: { bull: 5 }
  max_concurrency: 3
nodes:
  - name: technical
    kind: say
    config: { line: technical }
    timeout_ms: 2500
    retry: { max_attempts: 4, initial_ms: 50, max_ms: 400, multiplier: 3.0, jitter: none, retry_on: any_but_cancelled }
  - { name: sentiment, kind: say, config: { line: sentiment }, retry: { max_attempts: 2 } }
  - { name: split, kind: splitter }
  - { name: summarize, kind: summarizer }
  - { name: bull, kind: say, config: { line: bull } }
  - { name: bear, kind: say, config: { line: bear } }
  - { name: risk, kind: say, config: { line: risk }, routes: [learning] }
  - { name: pm, kind: pm }
  - { name: execution, kind: say, config: { line: execution } }
  - { name: learning, kind: say, config: { line: learning } }
edges:
  - { from: start, to: [technical, sentiment, split] }
  - { from: split, send: chunks, to: summarize }
  - { from: summarize, to: end }
  - { join: [technical, sentiment], to: bull }
  - { from: bull, to: bear }
  - from: risk
    router: by_risk
    targets: { ok: pm, veto: learning }
  - from: pm
    field: decision
    pointer: /action
    cases:
      - { equals: HOLD, to: learning }
      - { in: [BUY, SELL], to: execution }
    default: learning
  - { from: execution, to: learning }
  - { from: learning, to: end }
loops:
  - { name: debate, head: bull, tail: bear, max_rounds: 2, exit: risk, while: still_disagree }
interrupts: { before: [execution], after: [pm] }
";

fn desk_by_hand() -> StateGraph<Desk> {
    let ms = Duration::from_millis;
    let opts = |kind: &str| NodeOptions::new().kind(kind);
    let mut g = StateGraph::<Desk>::new("desk");
    g.add_node_with(
        "technical",
        say("technical"),
        opts("say").timeout(ms(2500)).retry(
            ExponentialBackoff::new(4)
                .initial(ms(50))
                .max(ms(400))
                .multiplier(3.0)
                .jitter(Jitter::None)
                .retry_on(RetryOn::AnyButCancelled),
        ),
    )
    .add_node_with(
        "sentiment",
        say("sentiment"),
        opts("say").retry(ExponentialBackoff::new(2)),
    )
    .add_node_with("split", say("split"), opts("splitter"))
    .add_map_node(
        "summarize",
        map_fn(|_s: Arc<Desk>, _item: String, _ctx| async { Ok(Command::empty()) }),
        opts("summarizer"),
    )
    .add_node_with("bull", say("bull"), opts("say"))
    .add_node_with("bear", say("bear"), opts("say"))
    .add_node_with("risk", say("risk"), opts("say").routes(["learning"]))
    .add_node_with("pm", say("pm"), opts("pm"))
    .add_node_with("execution", say("execution"), opts("say"))
    .add_node_with("learning", say("learning"), opts("say"))
    .add_fan_out(START, ["technical", "sentiment", "split"])
    .add_send("split", "chunks", "summarize", |s: &Desk| s.chunks.clone())
    .add_edge("summarize", END)
    .add_join(["technical", "sentiment"], "bull")
    .add_edge("bull", "bear")
    .add_conditional_edges(
        "risk",
        "by_risk",
        |s: &Desk| if s.risk > 0.5 { "veto" } else { "ok" },
        [("ok", "pm"), ("veto", "learning")],
    )
    .add_conditional_edges(
        "pm",
        "field:decision/action",
        FieldRouter::<Desk>::new("decision", Some("/action".into()))
            .case(Comparison::Equals(json!("HOLD")), "learning")
            .case(
                Comparison::In(vec![json!("BUY"), json!("SELL")]),
                "execution",
            )
            .otherwise("learning"),
        ["learning", "execution"],
    )
    .add_edge("execution", "learning")
    .add_edge("learning", END)
    .add_loop(
        Loop::new("debate", "bull", "bear")
            .max_rounds(2)
            .exit("risk")
            .while_("still_disagree", |s: &Desk| s.log.len() < 3),
    )
    .interrupt_before(["execution"])
    .interrupt_after(["pm"])
    .max_steps(40)
    .default_loop_limit(8)
    .loop_limit("bull", 5)
    .max_concurrency(3);
    g
}

#[test]
fn yaml_and_builder_code_compile_to_the_same_graph() {
    let from_yaml = yaml::load_str(DESK, "desk.yaml", &desk_registry()).unwrap();
    let by_hand = desk_by_hand().compile().unwrap();
    assert_eq!(from_yaml.topology(), by_hand.topology());
    // and the comparison is not vacuous: one changed value breaks it
    let changed = DESK.replace("max_rounds: 2", "max_rounds: 3");
    let changed = yaml::load_str(&changed, "desk.yaml", &desk_registry()).unwrap();
    let tweaked = desk_by_hand();
    assert_eq!(tweaked.compile().unwrap().topology(), by_hand.topology());
    // The loop's rounds are part of the picture (the declared loops), even below the limits.
    assert_ne!(changed.topology(), from_yaml.topology());
    assert_eq!(changed.topology().loops[0].max_rounds, 3);
    assert_eq!(
        changed.topology().cycles,
        from_yaml.topology().cycles,
        "max_rounds is below the limits here"
    );
    let changed = DESK.replace("timeout_ms: 2500", "timeout_ms: 2501");
    let changed = yaml::load_str(&changed, "desk.yaml", &desk_registry()).unwrap();
    assert_ne!(changed.topology(), by_hand.topology());
}

#[tokio::test]
async fn a_yaml_graph_runs_routes_sends_and_pauses() {
    let graph = yaml::load_str(DESK, "desk.yaml", &desk_registry()).unwrap();
    let out = graph
        .invoke(Desk::default(), RunConfig::new())
        .await
        .unwrap();
    // the send ran `summarize` per chunk, the debate ended, the router chose `ok` -> pm, and the
    // run paused after pm (interrupt `after`), before the field route's `execution`
    match &out.status {
        RunStatus::Interrupted(interrupt) => assert_eq!(interrupt.node.as_str(), "pm"),
        RunStatus::Finished => panic!("expected a pause after pm: {:?}", out.state),
    }
    let log = &out.state.log;
    for line in [
        "technical",
        "sentiment",
        "sum a",
        "sum b",
        "bull",
        "bear",
        "risk",
    ] {
        assert!(
            log.contains(&line.to_owned()),
            "{line} missing from {log:?}"
        );
    }
    assert!(!log.contains(&"execution".to_owned()), "{log:?}");
    assert_eq!(out.state.decision.action, "BUY");
}

// ---------------------------------------------------------------- errors

fn errors(source: &str) -> Vec<YamlError> {
    match yaml::load_str(source, "g.yaml", &research_registry()) {
        Ok(_) => panic!("expected errors for:\n{source}"),
        Err(YamlErrors(errors)) => errors,
    }
}

fn one_error(source: &str) -> YamlError {
    let mut all = errors(source);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

const OK: &str = "name: tiny
nodes:
  - name: plan
    kind: planner
  - name: review
    kind: reviewer
edges:
  - { from: start, to: plan }
  - { from: plan, to: review }
  - { from: review, to: end }
";

#[test]
fn the_base_of_the_error_tests_is_valid() {
    yaml::load_str(OK, "g.yaml", &research_registry()).unwrap();
}

#[test]
fn a_syntax_error_has_its_line_and_column() {
    let e = one_error(&OK.replace("{ from: plan, to: review }", "{ from: plan, to: review"));
    assert_eq!((e.origin.as_str(), e.line), ("g.yaml", 9), "{e}");
    assert!(e.column > 0, "{e}");
    assert!(e.to_string().starts_with("g.yaml:9:"), "{e}");

    let e = one_error(&OK.replace("    kind: reviewer", "     kind: reviewer"));
    assert_eq!(
        e.to_string(),
        "g.yaml:6:10: mapping values are not allowed in this context"
    );

    let e = one_error(&OK.replace("kind: reviewer", "kind: \"reviewer"));
    assert_eq!((e.line, e.column), (6, 11), "{e}");
    assert!(e.message.contains("unclosed quote"), "{e}");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let e = one_error(&OK.replace("    kind: reviewer", "    kind: reviewer\n    timeout: 5"));
    assert_eq!((e.line, e.column), (7, 5), "{e}");
    assert!(e.message.contains("unknown key `timeout`"), "{e}");
    assert!(e.message.contains("timeout_ms"), "lists the keys: {e}");

    let e = one_error(&OK.replace("{ from: plan, to: review }", "{ from: plan, too: review }"));
    assert_eq!(e.line, 9, "{e}");
    assert!(e.message.contains("unknown key `too`"), "{e}");
}

#[test]
fn an_unknown_node_in_an_edge_is_at_its_line() {
    let e = one_error(&OK.replace("{ from: plan, to: review }", "{ from: plan, to: reviwe }"));
    assert_eq!(
        e.to_string(),
        "g.yaml:9:23: the edge from `plan` refers to node `reviwe`, which is not declared"
    );
}

#[test]
fn an_unknown_kind_lists_the_registered_kinds() {
    let e = one_error(&OK.replace("kind: reviewer", "kind: critic"));
    assert_eq!((e.line, e.column), (6, 11), "{e}");
    assert!(
        e.message
            .starts_with("unknown kind `critic` (node `review`); registered kinds: planner, researcher, reviewer"),
        "{e}"
    );
}

#[test]
fn a_duplicate_node_is_reported_at_its_second_declaration() {
    let source = OK.replace(
        "  - name: review\n",
        "  - name: plan\n    kind: planner\n  - name: review\n",
    );
    let e = one_error(&source);
    assert_eq!(e.to_string(), "g.yaml:5:11: node `plan` is declared twice");
}

#[test]
fn a_bad_node_config_names_the_key() {
    let source = OK.replace(
        "    kind: reviewer\n",
        "    kind: researcher\n    config:\n      sorce: web\n",
    );
    let e = one_error(&source);
    assert_eq!(e.line, 8, "{e}");
    assert!(
        e.message
            .contains("node `review` (kind `researcher`): invalid config"),
        "{e}"
    );
    assert!(e.message.contains("unknown field `sorce`"), "{e}");

    let e = one_error(&OK.replace("kind: planner", "kind: planner\n    config: { depth: 3 }"));
    assert_eq!((e.line, e.column), (5, 13), "{e}");
    assert!(e.message.contains("`depth`"), "{e}");

    // the factory's own complaint is reported at the config too
    let e = one_error(&OK.replace(
        "kind: reviewer",
        "kind: researcher\n    config: { source: '' }",
    ));
    assert_eq!(e.line, 7, "{e}");
    assert!(
        e.message
            .ends_with("rejected its config: `source` must not be empty"),
        "{e}"
    );
}

#[test]
fn a_duplicate_mapping_key_is_an_error() {
    let e = one_error(&OK.replace(
        "    kind: reviewer",
        "    kind: reviewer\n    kind: planner",
    ));
    assert_eq!((e.line, e.column), (7, 5), "{e}");
    assert!(e.message.contains("duplicate key `kind`"), "{e}");

    let e = one_error(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, to: review, to: end }",
    ));
    assert_eq!(e.line, 9, "{e}");
}

#[test]
fn a_cycle_without_exit_is_reported_at_its_first_node() {
    let source = OK.replace("{ from: review, to: end }", "{ from: review, to: plan }");
    let all = errors(&source);
    let cycle = all
        .iter()
        .find(|e| e.message.contains("has no conditional exit"))
        .unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!((cycle.line, cycle.column), (3, 11), "{cycle}");
    assert!(cycle.message.contains("plan -> review -> plan"), "{cycle}");
}

#[test]
fn every_problem_is_reported_in_one_pass_in_file_order() {
    let source = "name: many
nodes:
  - { name: plan, kind: planer }
  - { name: web, kind: researcher, config: { sauce: x } }
  - { name: review, kind: reviewer }
edges:
  - { from: start, to: plan }
  - { from: plan, to: [web, nobody] }
  - { from: web, router: by_magic, targets: [review] }
  - { from: review, field: aproved, cases: [ { truthy: true, to: end } ], default: plan }
loops:
  - { name: again, head: plan, tail: review, max_rounds: 2, while: never }
";
    let all = errors(source);
    let lines: Vec<usize> = all.iter().map(|e| e.line).collect();
    let text: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("unknown kind `planer`"), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.contains("invalid config") && t.contains("`sauce`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("g.yaml:8:") && t.contains("`nobody`")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("g.yaml:9:")
            && t.contains("unknown router `by_magic`; no routers are registered")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("g.yaml:10:")
            && t.contains("no field `aproved`; its fields: topic, notes, drafts, approved")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("g.yaml:12:") && t.contains("unknown condition `never`")),
        "{text:#?}"
    );
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted, "file order: {text:#?}");
}

#[test]
fn edges_must_have_exactly_one_shape() {
    let e = one_error(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, router: r, field: drafts, cases: [] }",
    ));
    assert_eq!(e.line, 9);
    assert!(e.message.contains("has `router` and `field`"), "{e}");

    let e = one_error(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, to: review, targets: [end] }",
    ));
    assert!(
        e.message
            .contains("key `targets` does not belong in a static edge"),
        "{e}"
    );

    let e = one_error(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, to: review, cases: [ { gt: 1, lt: 3, to: end } ], field: drafts }",
    ));
    assert!(
        e.message
            .contains("key `to` does not belong in a field route"),
        "{e}"
    );

    let all = errors(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, field: drafts, cases: [ { gt: 1, lt: 3, to: review } ], default: review }",
    ));
    assert!(
        all.iter()
            .any(|e| e.message.contains("a case has `gt` and `lt`")),
        "{all:#?}"
    );
}

#[test]
fn loop_limit_join_and_send_errors_point_at_their_declarations() {
    let source = "name: x
limits:
  loop_limits: { review: 3 }
nodes:
  - { name: plan, kind: planner }
  - { name: review, kind: reviewer }
edges:
  - { from: start, to: plan }
  - { join: [plan], to: review }
loops:
  - { name: again, head: plan, tail: review, max_rounds: 0 }
";
    let text: Vec<String> = errors(source).iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "g.yaml:9:5: join into `review` is invalid: it has 1 sources; a join takes 2 to 64",
            "g.yaml:11:13: loop `again` is invalid: max_rounds must be at least 1",
        ],
    );

    let source = OK.replace("{ from: review, to: end }", "{ from: review, to: plan }")
        .replace("edges:", "loops:\n  - { name: again, head: plan, tail: review, max_rounds: 2 }\nlimits:\n  loop_limits: { review: 3 }\nedges:")
        .replace("  - { from: review, to: plan }\n", "");
    let text: Vec<String> = errors(&source).iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        ["g.yaml:10:18: invalid limit: loop_limit names `review`, which heads no cycle (cycle heads: [\"plan\"])"],
    );

    let mut registry = desk_registry();
    registry.send("numbers", |_: &Desk| vec![1u32, 2]);
    let wrong_items = DESK.replace("send: chunks", "send: numbers");
    let e = yaml::load_str(&wrong_items, "desk.yaml", &registry).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].line, 25, "{e}");
    assert!(
        e.0[0]
            .message
            .starts_with("send edge `numbers` produces `u32` but map node `summarize` takes"),
        "{e}"
    );

    let unknown = DESK.replace("send: chunks", "send: chunkz");
    let e = yaml::load_str(&unknown, "desk.yaml", &desk_registry()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "desk.yaml:25:26: unknown send `chunkz`; registered sends: chunks (register more with `Registry::send`)"
    );
}

#[test]
fn check_str_checks_structure_without_a_registry() {
    let source = std::fs::read_to_string(repo_file("graphs/research.yaml")).unwrap();
    let summary = yaml::check_str(&source, "research.yaml").unwrap();
    assert_eq!(
        summary.to_string(),
        "graph `research`, 5 nodes, 9 edges, 1 join, 0 loops"
    );
    assert_eq!(summary.kinds, ["planner", "researcher", "reviewer"]);
    let loaded = yaml::load_str(&source, "research.yaml", &research_registry()).unwrap();
    assert_eq!(
        &summary.topology,
        loaded.topology(),
        "the check sees the real shape"
    );

    let registry_free = DESK.replace("kind: say", "kind: whatever");
    let summary = yaml::check_str(&registry_free, "desk.yaml").unwrap();
    assert_eq!((summary.nodes, summary.joins, summary.loops), (10, 1, 1));
    assert!(summary
        .topology
        .nodes
        .iter()
        .any(|n| n.name == "summarize" && n.map));

    let e = yaml::check_str(
        &OK.replace("{ from: review, to: end }", "{ from: review, to: plan }"),
        "g.yaml",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("g.yaml:3:11: cycle plan -> review -> plan has no conditional exit"),
        "{e}"
    );
}

#[test]
fn a_yaml_graph_can_be_extended_before_compiling() {
    let source = OK.replace("{ from: review, to: end }", "{ from: review, to: extra }");
    let mut graph = yaml::graph_from_str(&source, "g.yaml", &research_registry()).unwrap();
    graph
        .graph_mut()
        .add_node(
            "extra",
            node_fn(|_s: Arc<Research>, _ctx| async { Ok(Command::empty()) }),
        )
        .add_edge("extra", END);
    let compiled = graph.compile().unwrap();
    assert_eq!(
        compiled.node_names().collect::<Vec<_>>(),
        ["plan", "review", "extra"]
    );

    // errors of the compile still point into the file
    let graph = yaml::graph_from_str(&source, "g.yaml", &research_registry()).unwrap();
    let e = graph.compile().unwrap_err();
    assert!(e.to_string().starts_with("g.yaml:10:25: "), "{e}");
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = repo_file("graphs/graph.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = format!(
        "{}\n",
        serde_json::to_string_pretty(&yaml::format_schema()).unwrap()
    );
    assert!(
        committed == current,
        "graphs/graph.schema.json is out of date with the YAML format; regenerate it with\n    cargo run -p tradegraph -- graph schema > graphs/graph.schema.json"
    );
}

#[test]
fn the_schema_accepts_the_example_and_rejects_typos() {
    let schema = yaml::format_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let source = std::fs::read_to_string(repo_file("graphs/research.yaml")).unwrap();
    let as_json: Value = serde_saphyr::from_str(&source).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&as_json)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let desk: Value = serde_saphyr::from_str(DESK).unwrap();
    assert!(
        validator.is_valid(&desk),
        "{:#?}",
        validator
            .iter_errors(&desk)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let typo: Value = serde_saphyr::from_str(&OK.replace("kind: planner", "knd: planner")).unwrap();
    assert!(!validator.is_valid(&typo));
    let two_comparisons: Value = serde_saphyr::from_str(&OK.replace(
        "{ from: plan, to: review }",
        "{ from: plan, field: drafts, cases: [ { gt: 1, lt: 3, to: review } ] }",
    ))
    .unwrap();
    assert!(!validator.is_valid(&two_comparisons));
}
