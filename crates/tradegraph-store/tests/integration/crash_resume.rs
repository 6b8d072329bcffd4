//! A graph run killed mid-way (the process aborts inside a node) resumes from Redis or MongoDB in
//! a new process, without running again the nodes that had finished.
//!
//! The test re-runs its own binary as the child (`crash_child`, which does nothing unless
//! `TG_CRASH_BACKEND` is set), then resumes the thread in this process.
#![cfg(all(feature = "redis", feature = "mongodb"))]

use crate::support::{mongodb_uri, redis_url, unique};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use tradegraph_graph::{
    node_fn, Checkpointer, Command as Step, CompiledGraph, GraphState, Resume, RunConfig,
    RunStatus, StateGraph, END, START,
};
use tradegraph_store::mongo::{MongoCheckpointer, MongoConfig};
use tradegraph_store::redis::{RedisCheckpointer, RedisConfig};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, GraphState)]
struct Run {
    #[reducer(append)]
    log: Vec<String>,
}

/// `a -> b -> c`; each node notes that it ran in the marks file; `b` aborts the process when
/// `crash` is set.
fn graph(marks: &Path, crash: bool, cp: Arc<dyn Checkpointer<Run>>) -> CompiledGraph<Run> {
    let node = |name: &'static str, crash: bool| {
        let marks = marks.to_owned();
        node_fn(move |_s: Arc<Run>, _ctx| {
            let marks = marks.clone();
            async move {
                let mut text = std::fs::read_to_string(&marks).unwrap_or_default();
                text.push_str(name);
                std::fs::write(&marks, text).unwrap();
                if crash {
                    std::process::abort();
                }
                Ok(Step::update(
                    RunUpdate::default().log(vec![name.to_owned()]),
                ))
            }
        })
    };
    let mut g = StateGraph::<Run>::new("crash");
    g.add_node("a", node("a", false))
        .add_node("b", node("b", crash))
        .add_node("c", node("c", false))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", "c")
        .add_edge("c", END);
    g.compile().unwrap().with_shared_checkpointer(cp)
}

async fn checkpointer(backend: &str, url: &str, scope: &str) -> Arc<dyn Checkpointer<Run>> {
    match backend {
        "redis" => Arc::new(
            RedisCheckpointer::connect(RedisConfig::new(url).key_prefix(scope))
                .await
                .unwrap(),
        ),
        _ => Arc::new(
            MongoCheckpointer::connect(&MongoConfig::new(url).database(scope))
                .await
                .unwrap(),
        ),
    }
}

/// The child: runs the graph until `b` aborts the process.
#[test]
fn crash_child() {
    let Ok(backend) = std::env::var("TG_CRASH_BACKEND") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let (url, scope, thread, marks) = (
        var("TG_CRASH_URL"),
        var("TG_CRASH_SCOPE"),
        var("TG_CRASH_THREAD"),
        var("TG_CRASH_MARKS"),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cp = checkpointer(&backend, &url, &scope).await;
        let _ = graph(Path::new(&marks), true, cp)
            .invoke(Run::default(), RunConfig::new().thread(&thread))
            .await;
    });
    panic!("the child should have aborted inside node b");
}

async fn crash_then_resume(backend: &str, url: String) {
    let scope = unique("crash");
    let thread = unique("thread");
    let marks = std::env::temp_dir().join(unique("marks"));
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_resume::crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TG_CRASH_BACKEND", backend)
        .env("TG_CRASH_URL", &url)
        .env("TG_CRASH_SCOPE", &scope)
        .env("TG_CRASH_THREAD", &thread)
        .env("TG_CRASH_MARKS", &marks)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die");
    assert_eq!(
        std::fs::read_to_string(&marks).unwrap(),
        "ab",
        "a finished, b was running"
    );

    // A new process (this one) resumes from the store.
    let cp = checkpointer(backend, &url, &scope).await;
    let latest = cp
        .latest(&thread)
        .await
        .unwrap()
        .expect("a checkpoint survived the crash");
    assert_eq!(latest.state.log, ["a"]);
    let out = graph(&marks, false, cp.clone())
        .resume(&thread, Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Finished);
    assert_eq!(out.state.log, ["a", "b", "c"]);
    assert_eq!(
        std::fs::read_to_string(&marks).unwrap(),
        "abbc",
        "a did not run again"
    );
    cp.delete_thread(&thread).await.unwrap();
    if backend == "mongodb" {
        let store =
            tradegraph_store::mongo::MongoStore::connect(&MongoConfig::new(&url).database(&scope))
                .await
                .unwrap();
        store.database().drop().await.unwrap();
    }
    let _ = std::fs::remove_file(&marks);
}

#[tokio::test]
async fn a_crashed_run_resumes_from_redis() {
    let Some(url) = redis_url() else { return };
    crash_then_resume("redis", url).await;
}

#[tokio::test]
async fn a_crashed_run_resumes_from_mongodb() {
    let Some(uri) = mongodb_uri() else { return };
    crash_then_resume("mongodb", uri).await;
}
