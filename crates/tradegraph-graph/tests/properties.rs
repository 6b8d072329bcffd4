//! The merged state does not depend on the order in which parallel nodes finish.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Flow, FlowUpdate};
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_graph::{node_fn, Command, RunConfig, StateGraph, END, START};

fn run_with_delays(delays: &[u64]) -> Flow {
    let mut g = StateGraph::<Flow>::new("prop");
    let names: Vec<String> = (0..delays.len()).map(|i| format!("n{i}")).collect();
    for (i, (name, &delay)) in names.iter().zip(delays).enumerate() {
        let label = name.clone();
        g.add_node(
            name.clone(),
            node_fn(move |_s: Arc<Flow>, _c| {
                let label = label.clone();
                async move {
                    tokio::time::sleep(Duration::from_micros(delay)).await;
                    Ok(Command::update(
                        FlowUpdate::default()
                            .visited(vec![label.clone()])
                            .signals([(label, i as f64)])
                            .best(i as f64),
                    ))
                }
            }),
        )
        .add_edge(START, name.clone())
        .add_edge(name.clone(), END);
    }
    let graph = g.compile().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(graph.invoke(Flow::default(), RunConfig::new()))
        .unwrap()
        .state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn merge_is_independent_of_finish_order(delays in prop::collection::vec(0u64..5_000, 2..8)) {
        let reference: Vec<u64> = vec![0; delays.len()];
        let expected = run_with_delays(&reference);
        let got = run_with_delays(&delays);
        prop_assert_eq!(&got, &expected);
        let names: Vec<String> = (0..delays.len()).map(|i| format!("n{i}")).collect();
        prop_assert_eq!(got.visited, names);
    }
}
