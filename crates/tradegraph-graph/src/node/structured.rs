use super::{Command, Node, NodeContext, NodeError, NodeResult};
use crate::schema::{OutputSchema, SchemaError};
use crate::state::GraphState;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A node whose output comes from an untyped source (an LLM's JSON answer) and must pass the
/// JSON Schema of [`StructuredNode::Output`] before it can touch the state. Wrap it in
/// [`Validated`] to use it as a [`Node`].
#[async_trait]
pub trait StructuredNode<S: GraphState>: Send + Sync + 'static {
    /// The typed output; its JSON Schema is what the untyped value is checked against.
    type Output: JsonSchema + DeserializeOwned + Send + 'static;

    /// Produces the untyped value.
    async fn produce(
        &self,
        state: Arc<S>,
        ctx: NodeContext,
    ) -> Result<serde_json::Value, NodeError>;

    /// Turns the validated, typed output into the node's command.
    fn apply(&self, output: Self::Output, state: &S) -> Command<S::Update>;
}

/// Runs a [`StructuredNode`] and validates its value against the output schema; a violation
/// fails the node with [`NodeError::InvalidOutput`] (JSON pointer and rule), which the engine
/// reports with the node's name.
pub struct Validated<N: StructuredNode<S>, S: GraphState> {
    node: N,
    schema: OutputSchema<N::Output>,
    _state: std::marker::PhantomData<fn(S)>,
}

impl<N: StructuredNode<S>, S: GraphState> Validated<N, S> {
    /// Compiles the output schema once.
    ///
    /// # Errors
    /// [`SchemaError`] when the output type's schema does not compile.
    pub fn new(node: N) -> Result<Self, SchemaError> {
        Ok(Self {
            node,
            schema: OutputSchema::new()?,
            _state: std::marker::PhantomData,
        })
    }
}

#[async_trait]
impl<N, S> Node<S> for Validated<N, S>
where
    N: StructuredNode<S>,
    S: GraphState,
    N::Output: DeserializeOwned,
{
    async fn run(&self, state: Arc<S>, ctx: NodeContext) -> NodeResult<S> {
        let value = self.node.produce(state.clone(), ctx).await?;
        let output = self.schema.parse(value)?;
        Ok(self.node.apply(output, &state))
    }

    fn output_schema(&self) -> Option<serde_json::Value> {
        Some(self.schema.schema().clone())
    }
}
