use super::edge_label;
use crate::compile::{EdgeKind, Topology};
use crate::{END, START};
use std::collections::HashMap;
use std::fmt::Write;

/// Renders `topology` as a Mermaid flowchart. Node ids are generated (`n0`, `n1`, ...), so any
/// node name is safe; names appear as labels.
///
/// ```
/// # use tradegraph_graph::{node_fn, Command, GraphState, StateGraph, END, START};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// # struct S { x: u8 }
/// let mut g = StateGraph::<S>::new("one");
/// g.add_node("work", node_fn(|_s: std::sync::Arc<S>, _c| async { Ok(Command::empty()) }))
///     .add_edge(START, "work")
///     .add_edge("work", END);
/// let text = g.compile().unwrap().to_mermaid();
/// assert!(text.starts_with("flowchart TD"));
/// assert!(text.contains("n0[\"work\"]"));
/// ```
pub fn to_mermaid(topology: &Topology) -> String {
    let mut ids: HashMap<&str, String> = HashMap::new();
    ids.insert(START, "start_".into());
    ids.insert(END, "end_".into());
    let mut out = String::from("flowchart TD\n");
    let _ = writeln!(out, "    start_([\"{START}\"])");
    for (i, node) in topology.nodes.iter().enumerate() {
        let id = format!("n{i}");
        let name = escape(&node.name);
        let shape = if node.map {
            format!("{id}[[\"{name}\"]]")
        } else if topology.interrupt_before.contains(&node.name)
            || topology.interrupt_after.contains(&node.name)
        {
            format!("{id}{{{{\"{name} ⏸\"}}}}")
        } else {
            format!("{id}[\"{name}\"]")
        };
        let _ = writeln!(out, "    {shape}");
        ids.insert(&node.name, id);
    }
    let _ = writeln!(out, "    end_([\"{END}\"])");
    for edge in &topology.edges {
        let (Some(from), Some(to)) = (ids.get(edge.from.as_str()), ids.get(edge.to.as_str()))
        else {
            continue;
        };
        let label = escape(&edge_label(&edge.kind));
        let arrow = match edge.kind {
            EdgeKind::Static => "-->".to_owned(),
            EdgeKind::Join => format!("-->|\"{label}\"|"),
            EdgeKind::Send { .. } => format!("==>|\"{label}\"|"),
            _ => format!("-.->|\"{label}\"|"),
        };
        let _ = writeln!(out, "    {from} {arrow} {to}");
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
}
