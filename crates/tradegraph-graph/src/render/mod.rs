//! Pictures of a compiled graph: Mermaid (renders in GitHub markdown) and Graphviz DOT.

mod dot;
mod mermaid;

pub use dot::to_dot;
pub use mermaid::to_mermaid;

use crate::compile::CompiledGraph;
use crate::state::GraphState;

impl<S: GraphState> CompiledGraph<S> {
    /// The graph as a Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        to_mermaid(self.topology())
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        to_dot(self.topology())
    }
}

/// A short label for an edge, empty for a static edge.
fn edge_label(kind: &crate::compile::EdgeKind) -> String {
    use crate::compile::EdgeKind;
    match kind {
        EdgeKind::Static => String::new(),
        EdgeKind::Route { router, label } => format!("{router}: {label}"),
        EdgeKind::Goto => "goto".into(),
        EdgeKind::Send { name } => format!("send {name}"),
        EdgeKind::Join => "join".into(),
        EdgeKind::LoopBack { name } => format!("{name}: again"),
        EdgeKind::LoopExit { name } => format!("{name}: done"),
    }
}
