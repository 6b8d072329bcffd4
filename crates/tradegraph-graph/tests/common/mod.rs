//! State and nodes shared by the engine's integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_graph::{node_fn, Command, GraphState, Node, NodeError};

pub fn keep_max(current: &mut f64, incoming: f64) {
    if incoming > *current {
        *current = incoming;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, GraphState)]
#[graph_state(update_derive(PartialEq))]
pub struct Flow {
    pub decision: String,
    #[reducer(append)]
    pub visited: Vec<String>,
    #[reducer(merge)]
    pub signals: BTreeMap<String, f64>,
    #[reducer(with = keep_max)]
    pub best: f64,
    pub rounds: u32,
}

/// Appends its name to `visited`.
pub fn visit(name: &'static str) -> impl Node<Flow> {
    node_fn(move |_s: Arc<Flow>, _ctx| async move {
        Ok(Command::update(
            FlowUpdate::default().visited(vec![name.to_owned()]),
        ))
    })
}

/// Appends its name after sleeping `ms` (virtual time in paused tests).
pub fn slow(name: &'static str, ms: u64) -> impl Node<Flow> {
    node_fn(move |_s: Arc<Flow>, _ctx| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(Command::update(
            FlowUpdate::default().visited(vec![name.to_owned()]),
        ))
    })
}

/// Sets `decision`.
pub fn decide(value: &'static str) -> impl Node<Flow> {
    node_fn(move |_s: Arc<Flow>, _ctx| async move {
        Ok(Command::update(FlowUpdate::default().decision(value)))
    })
}

/// Counts its runs; fails with `error` for the first `failures` attempts.
pub fn flaky(counter: Arc<AtomicU32>, failures: u32, error: NodeError) -> impl Node<Flow> {
    node_fn(move |_s: Arc<Flow>, _ctx| {
        let counter = counter.clone();
        let error = error.clone();
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= failures {
                Err(error)
            } else {
                Ok(Command::update(
                    FlowUpdate::default().visited(vec!["flaky".to_owned()]),
                ))
            }
        }
    })
}

/// Counts its runs, then appends its name.
pub fn counted(name: &'static str, counter: Arc<AtomicU32>) -> impl Node<Flow> {
    node_fn(move |_s: Arc<Flow>, _ctx| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(Command::update(
                FlowUpdate::default().visited(vec![name.to_owned()]),
            ))
        }
    })
}
