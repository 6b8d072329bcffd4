use super::edge_label;
use crate::compile::{EdgeKind, Topology};
use crate::{END, START};
use std::fmt::Write;

/// Renders `topology` in Graphviz DOT (`dot -Tsvg`).
pub fn to_dot(topology: &Topology) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n",
        escape(&topology.name)
    );
    let _ = writeln!(
        out,
        "    \"{START}\" [shape=oval, style=filled, fillcolor=\"#e8e8e8\"];"
    );
    let _ = writeln!(
        out,
        "    \"{END}\" [shape=oval, style=filled, fillcolor=\"#e8e8e8\"];"
    );
    for node in &topology.nodes {
        let paused = topology.interrupt_before.contains(&node.name)
            || topology.interrupt_after.contains(&node.name);
        let shape = match (node.map, paused) {
            (true, _) => "box3d",
            (false, true) => "hexagon",
            (false, false) => "box",
        };
        let _ = writeln!(out, "    \"{}\" [shape={shape}];", escape(&node.name));
    }
    for edge in &topology.edges {
        let label = edge_label(&edge.kind);
        let style = match edge.kind {
            EdgeKind::Static | EdgeKind::Join => "solid",
            EdgeKind::Send { .. } => "bold",
            _ => "dashed",
        };
        let _ = write!(
            out,
            "    \"{}\" -> \"{}\" [style={style}",
            escape(&edge.from),
            escape(&edge.to)
        );
        if !label.is_empty() {
            let _ = write!(out, ", label=\"{}\"", escape(&label));
        }
        out.push_str("];\n");
    }
    out.push_str("}\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
