use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, Severity};
use tradegraph_core::Timestamp;
use tradegraph_store::StoreEvent;

/// What the stores report that the health checks do not see: records spilling to disk raise
/// `store_down:spill` (resolved when the spill is drained), writes dropped from a full buffer
/// `store_down:<backend>_dropped`, records MongoDB refused for good `api_failures:mongodb`.
/// Whether Redis or MongoDB answers is the health checks' fact ([`HealthRule`](super::HealthRule)),
/// not this rule's: a store's own `Unavailable`/`Recovered` events raise and resolve nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreRule;

impl Rule for StoreRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        let Input::Store(event) = input else {
            return;
        };
        let down = |about: &str, severity, message: String| {
            AlertEvent::new(AlertKind::StoreDown, about, severity, message, at)
        };
        match event {
            StoreEvent::Spilling { path } => out.push(Signal::Raise(down(
                "spill",
                Severity::Critical,
                format!(
                    "MongoDB is unreachable: records spill to {}; they are written when it is \
                     back: start mongod or check MONGODB_URI",
                    path.display()
                ),
            ))),
            StoreEvent::Drained { records, .. } => out.push(Signal::Resolve(down(
                "spill",
                Severity::Info,
                format!("MongoDB is back; {records} spilled records written"),
            ))),
            StoreEvent::Dropped { backend, count } => out.push(Signal::Raise(down(
                &format!("{backend}_dropped"),
                Severity::Warning,
                format!("{count} writes held for {backend} were dropped (its buffer is full): start {backend}"),
            ))),
            StoreEvent::Rejected {
                backend,
                record,
                error,
            } => out.push(Signal::Raise(AlertEvent::new(
                AlertKind::ApiFailures,
                backend,
                Severity::Warning,
                format!(
                    "{backend} refused {record} for good ({error}); it is kept in the rejects \
                     file beside the spill file: fix the cause and replay it"
                ),
                at,
            ))),
            _ => {}
        }
    }
}
