use crate::router::Condition;
use std::sync::Arc;

/// A declared loop: after `tail` runs, go back to `head` until `max_rounds` rounds are done (or
/// the `while` condition fails), then go to `exit`. The bull/bear debate is one.
///
/// ```
/// # use tradegraph_graph::Loop;
/// # #[derive(Clone)] struct Desk;
/// let debate = Loop::<Desk>::new("debate", "bull", "bear").max_rounds(2).exit("risk_manager");
/// ```
#[derive(Clone)]
pub struct Loop<S> {
    pub(crate) name: String,
    pub(crate) head: String,
    pub(crate) tail: String,
    pub(crate) exit: String,
    pub(crate) max_rounds: u32,
    pub(crate) condition: Option<(String, Arc<dyn Condition<S>>)>,
}

impl<S> Loop<S> {
    /// A loop named `name` from `head` to `tail`; 1 round and exit to [`crate::END`] until set.
    pub fn new(name: impl Into<String>, head: impl Into<String>, tail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            head: head.into(),
            tail: tail.into(),
            exit: crate::END.to_owned(),
            max_rounds: 1,
            condition: None,
        }
    }

    /// Where the run goes when the loop ends.
    #[must_use]
    pub fn exit(mut self, node: impl Into<String>) -> Self {
        self.exit = node.into();
        self
    }

    /// The most rounds (a round ends each time `tail` runs).
    #[must_use]
    pub fn max_rounds(mut self, rounds: u32) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// Go round again only while `condition` holds (checked after each round, below the limit).
    #[must_use]
    pub fn while_(mut self, name: impl Into<String>, condition: impl Condition<S>) -> Self {
        self.condition = Some((name.into(), Arc::new(condition)));
        self
    }
}
