//! Running graphs: supersteps, merging, joins, loops, limits, retries, timeouts, cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{counted, decide, flaky, slow, visit, Flow, FlowUpdate};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_graph::retry::{ExponentialBackoff, Jitter};
use tradegraph_graph::{
    map_fn, node_fn, Command, GraphError, Loop, MergeError, NodeError, NodeOptions, RunConfig,
    StateGraph, END, START,
};

async fn run(g: StateGraph<Flow>) -> Result<Flow, GraphError> {
    Ok(g.compile()
        .unwrap()
        .invoke(Flow::default(), RunConfig::new())
        .await?
        .state)
}

#[tokio::test(start_paused = true)]
async fn parallel_nodes_overlap_and_merge_in_declaration_order() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("slowest", slow("slowest", 30))
        .add_node("fastest", slow("fastest", 10))
        .add_node("middle", slow("middle", 20))
        .add_node("after", visit("after"))
        .add_fan_out(START, ["slowest", "fastest", "middle"])
        .add_join(["slowest", "fastest", "middle"], "after")
        .add_edge("after", END);
    let started = tokio::time::Instant::now();
    let state = run(g).await.unwrap();
    // Virtual time: the three overlap, so the step takes the longest, not the sum.
    assert_eq!(started.elapsed(), Duration::from_millis(30));
    assert_eq!(state.visited, ["slowest", "fastest", "middle", "after"]);
}

#[tokio::test]
async fn two_writers_of_an_overwrite_field_are_named() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("bull", decide("BUY"))
        .add_node("bear", decide("SELL"))
        .add_fan_out(START, ["bull", "bear"])
        .add_edge("bull", END)
        .add_edge("bear", END);
    let err = run(g).await.unwrap_err();
    match &err {
        GraphError::Merge {
            step: 0,
            source:
                MergeError::Overwrite {
                    field,
                    first,
                    second,
                },
        } => {
            assert_eq!(
                (*field, first.as_str(), second.as_str()),
                ("decision", "bull", "bear")
            );
        }
        other => panic!("unexpected: {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("nodes `bull` and `bear` both wrote field `decision`"),
        "{text}"
    );
}

#[tokio::test]
async fn map_merge_unites_keys_and_refuses_a_shared_key() {
    let signal = |name: &'static str, key: &'static str, v: f64| {
        node_fn(move |_s: Arc<Flow>, _c| async move {
            let _ = name;
            Ok(Command::update(
                FlowUpdate::default().signals([(key.to_owned(), v)]).best(v),
            ))
        })
    };
    let mut ok = StateGraph::<Flow>::new("t");
    ok.add_node("tech", signal("tech", "technical", 0.7))
        .add_node("macro", signal("macro", "macro", 0.9))
        .add_fan_out(START, ["tech", "macro"])
        .add_edge("tech", END)
        .add_edge("macro", END);
    let state = run(ok).await.unwrap();
    assert_eq!(state.signals.len(), 2);
    assert_eq!(state.best, 0.9, "custom reducer keeps the max");

    let mut clash = StateGraph::<Flow>::new("t");
    clash
        .add_node("one", signal("one", "technical", 0.1))
        .add_node("two", signal("two", "technical", 0.2))
        .add_fan_out(START, ["one", "two"])
        .add_edge("one", END)
        .add_edge("two", END);
    let err = run(clash).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("nodes `one` and `two` both wrote key \"technical\" of field `signals`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_join_waits_for_a_longer_branch() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("short", visit("short"))
        .add_node("long1", visit("long1"))
        .add_node("long2", visit("long2"))
        .add_node("join", visit("join"))
        .add_fan_out(START, ["short", "long1"])
        .add_edge("long1", "long2")
        .add_join(["short", "long2"], "join")
        .add_edge("join", END);
    let graph = g.compile().unwrap();
    let out = graph
        .invoke(Flow::default(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(out.state.visited, ["short", "long1", "long2", "join"]);
    assert_eq!(out.steps, 3, "join ran once, in the third step");
}

#[tokio::test]
async fn a_join_fires_without_a_branch_the_router_skipped_and_says_so() {
    use futures::StreamExt;
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("gate", visit("gate"))
        .add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_node("join", visit("join"))
        .add_edge(START, "gate")
        .add_conditional_edges("gate", "only_a", |_: &Flow| "a", ["a", "b"])
        .add_join(["a", "b"], "join")
        .add_edge("join", END);
    let graph = g.compile().unwrap();
    let mut stream = graph.stream(Flow::default(), RunConfig::new());
    let mut fired = None;
    while let Some(event) = stream.next().await {
        if let tradegraph_graph::Event::JoinFired {
            target,
            arrived,
            skipped,
        } = event
        {
            fired = Some((target, arrived, skipped));
        }
    }
    let (target, arrived, skipped) = fired.expect("the join fired");
    assert_eq!(target, "join");
    assert_eq!(arrived, ["a"]);
    assert_eq!(skipped, ["b"]);
    let out = stream.output().unwrap().unwrap();
    assert_eq!(out.state.visited, ["gate", "a", "join"]);
}

#[tokio::test]
async fn declared_loop_runs_its_rounds_and_nodes_know_the_round() {
    let speaker = |name: &'static str| {
        node_fn(move |_s: Arc<Flow>, ctx| async move {
            Ok(Command::update(
                FlowUpdate::default().visited(vec![format!("{name}{}", ctx.round())]),
            ))
        })
    };
    let mut g = StateGraph::<Flow>::new("debate");
    g.add_node("bull", speaker("bull"))
        .add_node("bear", speaker("bear"))
        .add_node("risk", visit("risk"))
        .add_edge(START, "bull")
        .add_edge("bull", "bear")
        .add_loop(
            Loop::new("debate", "bull", "bear")
                .max_rounds(3)
                .exit("risk"),
        )
        .add_edge("risk", END);
    let state = run(g).await.unwrap();
    assert_eq!(
        state.visited,
        ["bull1", "bear1", "bull2", "bear2", "bull3", "bear3", "risk"]
    );
}

#[tokio::test]
async fn declared_loop_stops_early_when_its_condition_fails() {
    let mut g = StateGraph::<Flow>::new("debate");
    g.add_node("bull", visit("bull"))
        .add_node("bear", visit("bear"))
        .add_edge(START, "bull")
        .add_edge("bull", "bear")
        .add_loop(
            Loop::new("debate", "bull", "bear")
                .max_rounds(5)
                .while_("short", |s: &Flow| s.visited.len() < 4),
        );
    let state = run(g).await.unwrap();
    assert_eq!(state.visited, ["bull", "bear", "bull", "bear"]);
}

#[tokio::test]
async fn a_runaway_cycle_hits_its_loop_limit() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("again", visit("again"))
        .add_edge(START, "again")
        .add_conditional_edges("again", "forever", |_: &Flow| "again", ["again", END])
        .loop_limit("again", 4);
    let err = run(g).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::LoopLimit { head, limit: 4 } if head == "again"),
        "{err}"
    );
}

#[tokio::test]
async fn the_step_limit_is_its_own_error() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("again", visit("again"))
        .add_edge(START, "again")
        .add_conditional_edges("again", "forever", |_: &Flow| "again", ["again", END])
        .max_steps(3);
    let err = run(g).await.unwrap_err();
    assert!(matches!(err, GraphError::StepLimit { limit: 3 }), "{err}");
    assert!(err.to_string().contains("limit of 3 supersteps"));
}

#[tokio::test]
async fn an_undeclared_route_label_fails_naming_router_and_label() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_edge(START, "a")
        .add_conditional_edges("a", "pick", |_: &Flow| "c", ["b", END])
        .add_edge("b", END);
    let err = run(g).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::UndeclaredRoute { from, router, label, .. } if from == "a" && router == "pick" && label == "c"),
        "{err}"
    );
}

#[tokio::test]
async fn goto_routes_and_refuses_undeclared_targets() {
    let chooser = |target: &'static str| {
        node_fn(
            move |_s: Arc<Flow>, _c| async move { Ok(Command::<FlowUpdate>::empty().goto(target)) },
        )
    };
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node_with(
        "pm",
        chooser("exec"),
        NodeOptions::new().routes(["exec", "learn"]),
    )
    .add_node("exec", visit("exec"))
    .add_node("learn", visit("learn"))
    .add_edge(START, "pm")
    .add_edge("exec", END)
    .add_edge("learn", END);
    assert_eq!(run(g).await.unwrap().visited, ["exec"]);

    let mut bad = StateGraph::<Flow>::new("t");
    bad.add_node_with(
        "pm",
        chooser("elsewhere"),
        NodeOptions::new().routes(["learn"]),
    )
    .add_node("learn", visit("learn"))
    .add_edge(START, "pm")
    .add_edge("learn", END);
    let err = run(bad).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::UndeclaredGoto { node, target, .. } if node == "pm" && target == "elsewhere"),
        "{err}"
    );
}

#[tokio::test]
async fn send_maps_a_node_over_items() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("plan", visit("plan"))
        .add_map_node(
            "research",
            map_fn(|_s: Arc<Flow>, topic: String, _ctx| async move {
                Ok(Command::update(
                    FlowUpdate::default().visited(vec![format!("research:{topic}")]),
                ))
            }),
            NodeOptions::new(),
        )
        .add_node("write", visit("write"))
        .add_edge(START, "plan")
        .add_send("plan", "topics", "research", |_: &Flow| {
            ["rbi", "cpi", "flows"].map(String::from).to_vec()
        })
        .add_edge("research", "write")
        .add_edge("write", END);
    let state = run(g).await.unwrap();
    assert_eq!(
        state.visited,
        [
            "plan",
            "research:rbi",
            "research:cpi",
            "research:flows",
            "write"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_fails_the_node_after_its_retries() {
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node_with(
        "stuck",
        slow("stuck", 10_000),
        NodeOptions::new().timeout(Duration::from_millis(50)).retry(
            ExponentialBackoff::new(3)
                .initial(Duration::from_millis(10))
                .jitter(Jitter::None),
        ),
    )
    .add_edge(START, "stuck")
    .add_edge("stuck", END);
    let started = tokio::time::Instant::now();
    let err = run(g).await.unwrap_err();
    match &err {
        GraphError::NodeFailed {
            node,
            attempts: 3,
            source: NodeError::Timeout(t),
            ..
        } => {
            assert_eq!((node.as_str(), *t), ("stuck", Duration::from_millis(50)));
        }
        other => panic!("unexpected: {other}"),
    }
    // 3 timeouts of 50 ms + backoffs of 10 and 20 ms.
    assert_eq!(started.elapsed(), Duration::from_millis(180));
}

#[tokio::test(start_paused = true)]
async fn retry_recovers_transient_failures_and_skips_permanent_ones() {
    let count = Arc::new(AtomicU32::new(0));
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node_with(
        "flaky",
        flaky(count.clone(), 2, NodeError::transient("429 rate limited")),
        NodeOptions::new().retry(ExponentialBackoff::new(3)),
    )
    .add_edge(START, "flaky")
    .add_edge("flaky", END);
    assert_eq!(run(g).await.unwrap().visited, ["flaky"]);
    assert_eq!(count.load(Ordering::SeqCst), 3);

    let count = Arc::new(AtomicU32::new(0));
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node_with(
        "flaky",
        flaky(count.clone(), 2, NodeError::failed("400 bad request")),
        NodeOptions::new().retry(ExponentialBackoff::new(3)),
    )
    .add_edge(START, "flaky")
    .add_edge("flaky", END);
    let err = run(g).await.unwrap_err();
    assert!(
        matches!(err, GraphError::NodeFailed { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "a permanent error is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_node_cancels_its_siblings() {
    let finished = Arc::new(AtomicBool::new(false));
    let observed_cancel = Arc::new(AtomicBool::new(false));
    let (f, o) = (finished.clone(), observed_cancel.clone());
    let long = node_fn(move |_s: Arc<Flow>, ctx| {
        let (f, o) = (f.clone(), o.clone());
        async move {
            let token = ctx.cancellation().clone();
            let watcher = tokio::spawn(async move {
                token.cancelled().await;
                o.store(true, Ordering::SeqCst);
            });
            tokio::time::sleep(Duration::from_secs(60)).await;
            f.store(true, Ordering::SeqCst);
            drop(watcher);
            Ok(Command::update(FlowUpdate::default()))
        }
    });
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("long", long)
        .add_node(
            "boom",
            flaky(Arc::new(AtomicU32::new(0)), 1, NodeError::failed("boom")),
        )
        .add_fan_out(START, ["long", "boom"])
        .add_edge("long", END)
        .add_edge("boom", END);
    let started = tokio::time::Instant::now();
    let err = run(g).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::NodeFailed { node, .. } if node == "boom"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not wait for the sibling"
    );
    tokio::task::yield_now().await;
    assert!(
        observed_cancel.load(Ordering::SeqCst),
        "the sibling saw its cancellation"
    );
    assert!(
        !finished.load(Ordering::SeqCst),
        "the sibling never finished"
    );
}

#[tokio::test(start_paused = true)]
async fn max_concurrency_bounds_parallel_nodes() {
    let running = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    let gauge = |name: &'static str| {
        let (running, peak) = (running.clone(), peak.clone());
        node_fn(move |_s: Arc<Flow>, _c| {
            let (running, peak) = (running.clone(), peak.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Command::update(
                    FlowUpdate::default().visited(vec![name.to_owned()]),
                ))
            }
        })
    };
    let build = || {
        let mut g = StateGraph::<Flow>::new("t");
        for name in ["a", "b", "c", "d"] {
            g.add_node(name, gauge(name))
                .add_edge(START, name)
                .add_edge(name, END);
        }
        g.compile().unwrap()
    };
    let out = build()
        .invoke(Flow::default(), RunConfig::new().max_concurrency(2))
        .await
        .unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert_eq!(
        out.state.visited,
        ["a", "b", "c", "d"],
        "merge order does not depend on finishing order"
    );
    peak.store(0, Ordering::SeqCst);
    build()
        .invoke(Flow::default(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_node_triggered_twice_in_a_step_runs_once() {
    let count = Arc::new(AtomicU32::new(0));
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("a", visit("a"))
        .add_node("b", visit("b"))
        .add_node("c", counted("c", count.clone()))
        .add_fan_out(START, ["a", "b"])
        .add_edge("a", "c")
        .add_edge("b", "c")
        .add_edge("c", END);
    assert_eq!(run(g).await.unwrap().visited, ["a", "b", "c"]);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn cancelling_the_run_stops_it() {
    let token = tradegraph_graph::CancellationToken::new();
    let mut g = StateGraph::<Flow>::new("t");
    g.add_node("forever", slow("forever", 60_000))
        .add_edge(START, "forever")
        .add_edge("forever", END);
    let graph = g.compile().unwrap();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancel.cancel();
    });
    let err = graph
        .invoke(Flow::default(), RunConfig::new().cancellation(token))
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Cancelled), "{err}");
}

/// A join whose source is another join's target waits for that join, whichever was declared
/// first: its target runs once, after both of its sources.
#[tokio::test]
async fn chained_joins_fire_in_order_whatever_their_declaration_order() {
    for downstream_first in [true, false] {
        let runs = Arc::new(AtomicU32::new(0));
        let mut g = StateGraph::<Flow>::new("chained joins");
        g.add_node("a", visit("a"))
            .add_node("b", visit("b"))
            .add_node("d", visit("d"))
            .add_node("c", visit("c"))
            .add_node("e", counted("e", runs.clone()))
            .add_fan_out(START, ["a", "b", "d"]);
        if downstream_first {
            g.add_join(["c", "d"], "e").add_join(["a", "b"], "c");
        } else {
            g.add_join(["a", "b"], "c").add_join(["c", "d"], "e");
        }
        g.add_edge("e", END);
        let out = run(g).await.unwrap();
        assert_eq!(
            out.visited,
            ["a", "b", "d", "c", "e"],
            "downstream first: {downstream_first}"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
