use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::BotEvent;
use tradegraph_core::Timestamp;

/// The alerts the engine raises itself (the session past the holiday list), passed on to the
/// cool-down and the sinks (the event stream among them: the hub does not stream an alert
/// without an `alert_id` while an alert service runs, so it reaches the stream once). Alerts the alert service published
/// come back on the hub with their `alert_id`: this rule passes those by.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineRule;

impl Rule for EngineRule {
    fn observe(&mut self, input: &Input<'_>, _at: Timestamp, out: &mut Vec<Signal>) {
        if let Input::Bot(BotEvent::Alert(alert)) = input {
            if alert.alert_id.is_some() {
                return;
            }
            out.push(if alert.recovered {
                Signal::Resolve(alert.clone())
            } else {
                Signal::Raise(alert.clone())
            });
        }
    }
}
