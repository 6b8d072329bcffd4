//! The graph engine on a small, non-trading graph: plan, three researchers in parallel, a join,
//! and a review that approves the draft or sends it back to planning.
//!
//! The same graph is built twice — with the Rust builder and from `graphs/research.yaml` — and
//! the two are checked to be identical. The YAML one then runs while its events stream to the
//! terminal, and its Mermaid picture is printed.
//!
//! ```text
//! cargo run --release --example research
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradegraph_graph::retry::{ExponentialBackoff, Jitter};
use tradegraph_graph::router::{Comparison, FieldRouter};
use tradegraph_graph::yaml::{self, NoConfig, Registry};
use tradegraph_graph::{
    node_fn, Command, CompiledGraph, Event, GraphState, Node, NodeOptions, RunConfig, StateGraph,
    END, START,
};

/// What the research run knows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, GraphState)]
struct Research {
    topic: String,
    /// Every researcher appends; parallel writes never clash.
    #[reducer(append)]
    notes: Vec<String>,
    drafts: u32,
    approved: bool,
}

fn planner() -> impl Node<Research> {
    node_fn(|state: Arc<Research>, _ctx| async move {
        Ok(Command::update(
            ResearchUpdate::default().drafts(state.drafts + 1),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResearcherConfig {
    source: String,
}

fn researcher(source: String) -> impl Node<Research> {
    node_fn(move |state: Arc<Research>, ctx| {
        let source = source.clone();
        async move {
            // Stands in for a slow call (a search API, an LLM); the three overlap.
            tokio::time::sleep(Duration::from_millis(40)).await;
            ctx.emit(serde_json::json!({ "looked_in": source }));
            let note = format!(
                "{source}: findings on {} (draft {})",
                state.topic, state.drafts
            );
            Ok(Command::update(ResearchUpdate::default().notes(vec![note])))
        }
    })
}

fn reviewer() -> impl Node<Research> {
    node_fn(|state: Arc<Research>, _ctx| async move {
        // The second draft is good enough.
        Ok(Command::update(
            ResearchUpdate::default().approved(state.drafts >= 2),
        ))
    })
}

fn registry() -> Registry<Research> {
    let mut registry = Registry::new();
    registry
        .node("planner", |_: NoConfig| Ok(planner()))
        .node("researcher", |c: ResearcherConfig| Ok(researcher(c.source)))
        .node("reviewer", |_: NoConfig| Ok(reviewer()));
    registry
}

/// The same graph as `graphs/research.yaml`, in Rust.
fn built_in_rust() -> Result<CompiledGraph<Research>, tradegraph_graph::BuildErrors> {
    let sources = ["web", "papers", "news"];
    let retry = ExponentialBackoff::new(3)
        .initial(Duration::from_millis(200))
        .max(Duration::from_millis(10_000))
        .jitter(Jitter::Full);
    let mut g = StateGraph::<Research>::new("research");
    g.add_node("plan", planner());
    for source in sources {
        let options = NodeOptions::new()
            .timeout(Duration::from_secs(30))
            .retry(retry);
        g.add_node_with(source, researcher(source.to_owned()), options);
    }
    g.add_node("review", reviewer())
        .add_edge(START, "plan")
        .add_fan_out("plan", sources)
        .add_join(sources, "review")
        .add_conditional_edges(
            "review",
            yaml::field_router_name("approved", None),
            FieldRouter::new("approved", None)
                .case(Comparison::Truthy, END)
                .otherwise("plan"),
            [END, "plan"],
        )
        .loop_limit("plan", 3);
    g.compile()
}

fn describe(event: &Event<Research>) -> Option<String> {
    Some(match event {
        Event::RunStarted { run_id, .. } => format!("run {run_id} started"),
        Event::NodeFinished {
            node,
            step,
            duration,
            ..
        } => {
            format!(
                "  step {step}: {node} finished in {} ms",
                duration.as_millis()
            )
        }
        Event::Custom {
            node,
            step,
            payload,
        } => format!("  step {step}: {node} says {payload}"),
        Event::JoinFired {
            target, arrived, ..
        } => {
            format!("  join into {target}: {} branches arrived", arrived.len())
        }
        Event::StepCompleted { step, state, .. } => format!(
            "step {step} merged: {} notes, draft {}, approved {}",
            state.notes.len(),
            state.drafts,
            state.approved
        ),
        Event::Finished { .. } => "finished".to_owned(),
        Event::Failed { error } => format!("failed: {error}"),
        _ => return None,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../graphs/research.yaml");
    let from_yaml = yaml::load_file(path, &registry())?;
    let from_rust = built_in_rust()?;
    if from_yaml.topology() != from_rust.topology() {
        eprintln!(
            "the YAML and Rust graphs differ:\n{:#?}\n{:#?}",
            from_yaml.topology(),
            from_rust.topology()
        );
        std::process::exit(1);
    }
    println!("graphs/research.yaml and the Rust builder declare the same graph\n");

    let input = Research {
        topic: "rate cuts".into(),
        ..Research::default()
    };
    let started = Instant::now();
    let mut events = from_yaml.stream(input, RunConfig::new().thread("research-demo"));
    while let Some(event) = events.next().await {
        if let Some(line) = describe(&event) {
            println!("{line}");
        }
    }
    let output = events.output().ok_or("the run ended without a result")??;
    println!(
        "\n{} notes after {} drafts in {} supersteps, {} ms (three 40 ms researchers per draft overlap)\n",
        output.state.notes.len(),
        output.state.drafts,
        output.steps,
        started.elapsed().as_millis()
    );
    println!("{}", from_yaml.to_mermaid());
    Ok(())
}
