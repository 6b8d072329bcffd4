use super::config::RunOutput;
use crate::error::GraphError;
use crate::event::Event;
use crate::state::GraphState;
use futures::future::BoxFuture;
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc::UnboundedReceiver;

/// The events of a run, as it happens. The run makes progress only while the stream is polled;
/// dropping the stream cancels the run. The last event is `Finished`, `Interrupted` or
/// `Failed`; after it, [`RunStream::output`] gives the typed result.
pub struct RunStream<S: GraphState> {
    run: Option<BoxFuture<'static, Result<RunOutput<S>, GraphError>>>,
    events: UnboundedReceiver<Event<S>>,
    output: Option<Result<RunOutput<S>, GraphError>>,
}

impl<S: GraphState> RunStream<S> {
    pub(crate) fn new(
        run: BoxFuture<'static, Result<RunOutput<S>, GraphError>>,
        events: UnboundedReceiver<Event<S>>,
    ) -> Self {
        Self {
            run: Some(run),
            events,
            output: None,
        }
    }

    /// The run's result, once the stream has ended (`None` before, and after the first call).
    pub fn output(&mut self) -> Option<Result<RunOutput<S>, GraphError>> {
        self.output.take()
    }
}

// Nothing is ever pinned inside: the run future is boxed and the output is only moved.
impl<S: GraphState> Unpin for RunStream<S> {}

impl<S: GraphState> Stream for RunStream<S> {
    type Item = Event<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event<S>>> {
        let this = &mut *self;
        if let Some(run) = this.run.as_mut() {
            if let Poll::Ready(result) = run.as_mut().poll(cx) {
                this.output = Some(result);
                this.run = None;
            }
        }
        match this.events.poll_recv(cx) {
            Poll::Ready(event) => Poll::Ready(event),
            // The run is over and everything it sent has been read (a node may still hold a
            // sender in a task it spawned; its late events are not part of the run).
            Poll::Pending if this.run.is_none() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
