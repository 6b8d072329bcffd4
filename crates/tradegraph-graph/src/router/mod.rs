//! Routers choose among a conditional edge's declared targets by reading the state.

mod field;

pub use field::{Comparison, FieldCase, FieldRouter};

use std::borrow::Cow;

/// A router's choice: labels of the conditional edge's declared targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// One target.
    To(Cow<'static, str>),
    /// Several targets, run in parallel.
    All(Vec<Cow<'static, str>>),
    /// End this branch of the run.
    End,
}

impl Route {
    /// The labels chosen (empty for [`Route::End`]).
    pub fn labels(&self) -> &[Cow<'static, str>] {
        match self {
            Self::To(label) => std::slice::from_ref(label),
            Self::All(labels) => labels,
            Self::End => &[],
        }
    }
}

impl From<&'static str> for Route {
    fn from(value: &'static str) -> Self {
        Self::To(Cow::Borrowed(value))
    }
}

impl From<String> for Route {
    fn from(value: String) -> Self {
        Self::To(Cow::Owned(value))
    }
}

/// Chooses the next nodes after a node, from the state as merged at the end of the step.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a router over `{S}`",
    note = "a router is `Fn(&{S}) -> impl Into<Route>` (return a target's label), or implement `Router<{S}>`"
)]
pub trait Router<S>: Send + Sync + 'static {
    /// The chosen route.
    fn route(&self, state: &S) -> Route;
}

impl<S, F, R> Router<S> for F
where
    F: Fn(&S) -> R + Send + Sync + 'static,
    R: Into<Route>,
{
    fn route(&self, state: &S) -> Route {
        self(state).into()
    }
}

/// A yes/no question about the state; decides whether a declared loop goes round again.
pub trait Condition<S>: Send + Sync + 'static {
    /// True to go round again.
    fn holds(&self, state: &S) -> bool;
}

impl<S, F> Condition<S> for F
where
    F: Fn(&S) -> bool + Send + Sync + 'static,
{
    fn holds(&self, state: &S) -> bool {
        self(state)
    }
}

/// A conditional edge's target: a label the router returns, and the node it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTarget {
    /// What the router returns.
    pub label: String,
    /// The node it leads to (or [`crate::END`]).
    pub node: String,
}

impl From<&str> for RouteTarget {
    fn from(node: &str) -> Self {
        Self {
            label: node.to_owned(),
            node: node.to_owned(),
        }
    }
}

impl From<String> for RouteTarget {
    fn from(node: String) -> Self {
        Self {
            label: node.clone(),
            node,
        }
    }
}

impl<L: Into<String>, N: Into<String>> From<(L, N)> for RouteTarget {
    fn from((label, node): (L, N)) -> Self {
        Self {
            label: label.into(),
            node: node.into(),
        }
    }
}
