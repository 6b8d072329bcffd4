use crate::state::NodeName;
use serde::{Deserialize, Serialize};

/// Where a node sends the run next, overriding its declared edges for this step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goto {
    /// These nodes (each must be among the node's declared routes).
    Nodes(Vec<NodeName>),
    /// Nowhere: this branch of the run ends.
    End,
}

/// What a node returns: a typed update, optional routing, or a request to pause.
///
/// ```
/// # use tradegraph_graph::Command;
/// let cmd: Command<()> = Command::update(()).goto("risk_manager");
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    rename_all = "snake_case",
    bound(
        serialize = "U: Serialize",
        deserialize = "U: serde::de::DeserializeOwned"
    )
)]
pub enum Command<U> {
    /// Merge `update`; follow `goto` if set, the declared edges otherwise.
    Update {
        /// The node's partial update, boxed: a state's update can be kilobytes (one optional
        /// field per state field), and a command is moved through every layer of a task's
        /// future on its way to the merge; a box moves as a pointer. The serialized form is
        /// the update's own.
        update: Box<U>,
        /// Routing chosen by the node; `None` follows the declared edges.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        goto: Option<Goto>,
    },
    /// Pause the run here with `payload` for a person to see; the node runs again on resume and
    /// reads the resume value from its context.
    Interrupt {
        /// What the person is asked about.
        payload: serde_json::Value,
    },
}

impl<U> Command<U> {
    /// An update that follows the declared edges.
    pub fn update(update: U) -> Self {
        Self::Update {
            update: Box::new(update),
            goto: None,
        }
    }

    /// A pause for human input (a dynamic interrupt).
    pub fn interrupt(payload: impl Into<serde_json::Value>) -> Self {
        Self::Interrupt {
            payload: payload.into(),
        }
    }

    /// Routes to `node` instead of the declared edges.
    #[must_use]
    pub fn goto(self, node: impl Into<NodeName>) -> Self {
        self.goto_all([node.into()])
    }

    /// Routes to all of `nodes` (they run in parallel in the next step).
    #[must_use]
    pub fn goto_all(self, nodes: impl IntoIterator<Item = NodeName>) -> Self {
        self.with_goto(Goto::Nodes(nodes.into_iter().collect()))
    }

    /// Ends this branch of the run.
    #[must_use]
    pub fn goto_end(self) -> Self {
        self.with_goto(Goto::End)
    }

    fn with_goto(self, goto: Goto) -> Self {
        match self {
            Self::Update { update, .. } => Self::Update {
                update,
                goto: Some(goto),
            },
            interrupt @ Self::Interrupt { .. } => interrupt,
        }
    }
}

impl<U: Default> Command<U> {
    /// No update; follow the declared edges.
    pub fn empty() -> Self {
        Self::update(U::default())
    }
}
