//! Graphs declared wrong are refused at compile time, each problem naming its culprit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{visit, Flow};
use tradegraph_graph::{map_fn, BuildError, Command, Loop, NodeOptions, StateGraph, END, START};

fn errors(graph: StateGraph<Flow>) -> Vec<BuildError> {
    graph.compile().expect_err("the graph must be refused").0
}

#[test]
fn duplicate_and_reserved_names() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("a", visit("a"))
        .add_node("end", visit("end"))
        .add_edge(START, "a")
        .add_edge("a", END);
    let errs = errors(g);
    assert!(
        errs.contains(&BuildError::DuplicateNode { node: "a".into() }),
        "{errs:?}"
    );
    assert!(
        errs.contains(&BuildError::ReservedName { node: "end".into() }),
        "{errs:?}"
    );
}

#[test]
fn unknown_nodes_are_named_with_what_refers_to_them() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_edge(START, "a")
        .add_edge("a", "ghost")
        .add_conditional_edges("a", "pick", |_: &Flow| "x", ["x", "phantom"]);
    let errs = errors(g);
    assert!(errs.contains(&BuildError::UnknownNode {
        node: "ghost".into(),
        referenced_by: "the edge from `a`".into()
    }));
    assert!(errs.contains(&BuildError::UnknownNode {
        node: "x".into(),
        referenced_by: "router `pick` after `a`".into()
    }));
    let text = tradegraph_graph::BuildErrors(errs).to_string();
    assert!(
        text.contains("router `pick` after `a` refers to node `phantom`"),
        "{text}"
    );
}

#[test]
fn unreachable_and_dead_end_nodes() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("island", visit("island"))
        .add_node("sink", visit("sink"))
        .add_edge(START, "a")
        .add_edge("a", "sink")
        .add_edge("a", END)
        .add_edge("island", END);
    let errs = errors(g);
    assert_eq!(
        errs,
        [
            BuildError::Unreachable {
                node: "island".into()
            },
            BuildError::CannotReachEnd {
                node: "sink".into()
            }
        ]
    );
}

#[test]
fn a_cycle_of_static_edges_has_no_exit() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_node("c", visit("c"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", "a")
        .add_edge("b", "c")
        .add_edge("c", END);
    let errs = errors(g);
    assert_eq!(
        errs,
        [BuildError::CycleWithoutExit {
            cycle: vec!["a".into(), "b".into()]
        }]
    );
    assert!(errs[0].to_string().contains("a -> b -> a"), "{}", errs[0]);
}

#[test]
fn a_cycle_with_a_router_is_accepted_and_guarded() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_conditional_edges("b", "again", |_: &Flow| "a", ["a", END])
        .loop_limit("a", 7);
    let compiled = g.compile().unwrap();
    let cycles = &compiled.topology().cycles;
    assert_eq!(cycles.len(), 1);
    assert_eq!((cycles[0].head.as_str(), cycles[0].limit), ("a", 7));
}

#[test]
fn loop_limit_must_name_a_cycle_head() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_edge(START, "a")
        .add_edge("a", END)
        .loop_limit("a", 3);
    let errs = errors(g);
    assert!(
        matches!(&errs[0], BuildError::InvalidLimit { reason } if reason.contains("`a`, which heads no cycle"))
    );
}

#[test]
fn routers_need_targets_and_unique_labels() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_edge(START, "a")
        .add_edge("a", END)
        .add_conditional_edges("a", "none", |_: &Flow| "x", Vec::<&str>::new())
        .add_conditional_edges("a", "twice", |_: &Flow| "x", [("x", "a"), ("x", END)]);
    let errs = errors(g);
    assert!(errs.contains(&BuildError::NoRouteTargets {
        from: "a".into(),
        router: "none".into()
    }));
    assert!(errs.contains(&BuildError::DuplicateRouteLabel {
        from: "a".into(),
        router: "twice".into(),
        label: "x".into()
    }));
}

#[test]
fn send_edges_are_type_checked() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_map_node(
        "each",
        map_fn(|_s: std::sync::Arc<Flow>, item: u32, _ctx| async move {
            Ok(Command::update(common::FlowUpdate::default().rounds(item)))
        }),
        NodeOptions::new(),
    )
    .add_node("plain", visit("plain"))
    .add_send(START, "strings", "each", |_: &Flow| vec!["x".to_owned()])
    .add_send(START, "to_plain", "plain", |_: &Flow| vec![1u32])
    .add_edge("each", END)
    .add_edge("plain", END)
    .add_edge(START, "each");
    let errs = errors(g);
    assert!(errs.iter().any(|e| matches!(e, BuildError::SendItemType { name, expected, .. } if name == "strings" && expected == "u32")), "{errs:?}");
    assert!(errs.contains(&BuildError::SendTargetNotMap {
        from: "start".into(),
        name: "to_plain".into(),
        to: "plain".into()
    }));
    assert!(errs
        .iter()
        .any(|e| matches!(e, BuildError::MapNodeWithoutItem { node, .. } if node == "each")));
}

#[test]
fn joins_and_loops_are_checked() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", END)
        .add_join(["a"], "b")
        .add_loop(Loop::new("l", "a", "b").max_rounds(0));
    let errs = errors(g);
    assert!(
        errs.iter().any(
            |e| matches!(e, BuildError::InvalidJoin { reason, .. } if reason.contains("1 sources"))
        ),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(
            |e| matches!(e, BuildError::InvalidLoop { reason, .. } if reason.contains("max_rounds"))
        ),
        "{errs:?}"
    );
    assert!(errs.iter().any(|e| matches!(e, BuildError::InvalidLoop { reason, .. } if reason.contains("already has edges"))), "{errs:?}");
}

#[test]
fn two_joins_into_one_node_are_refused() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_node("c", visit("c"))
        .add_node("d", visit("d"))
        .add_node("e", visit("e"))
        .add_fan_out(START, ["a", "b", "d", "e"])
        .add_join(["a", "b"], "c")
        .add_join(["d", "e"], "c")
        .add_edge("c", END);
    let errs = errors(g);
    assert!(
        errs.iter()
            .any(|e| matches!(e, BuildError::InvalidJoin { target, reason }
            if target == "c" && reason.contains("another join already leads to it"))),
        "{errs:?}"
    );
}

#[test]
fn no_entry() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a")).add_edge("a", END);
    assert_eq!(errors(g), [BuildError::NoEntry]);
}
