use super::{Rule, Signal};
use crate::alerts::Input;
use crate::engine::{AlertEvent, AlertKind, BotEvent, CheckId, CheckState, FeedState, Severity};
use tradegraph_core::Timestamp;

/// Health checks that fail and the feed going quiet: `redis`, `mongodb` and `state_store`
/// failing raise `store_down` (the checks are its one source: the stores' own events do not
/// raise or resolve it); `feed` failing (or the feed stale or disconnected) raises
/// `feed_stale`; `llm` and `broker` failing raise `api_failures`. A check back to ok (the feed
/// connected) resolves its alert.
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthRule;

/// The kind a failing check raises, and its severity; `None` for the engine's own check (an
/// engine that stops on an error raises `engine_stopped` when it has stopped).
pub(crate) fn kind_of_check(check: CheckId) -> Option<(AlertKind, Severity)> {
    match check {
        CheckId::Redis | CheckId::Mongodb | CheckId::StateStore => {
            Some((AlertKind::StoreDown, Severity::Critical))
        }
        CheckId::Feed => Some((AlertKind::FeedStale, Severity::Warning)),
        CheckId::Llm | CheckId::Broker => Some((AlertKind::ApiFailures, Severity::Warning)),
        CheckId::Engine => None,
    }
}

impl Rule for HealthRule {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        match input {
            Input::Bot(BotEvent::Health(change)) => {
                let Some((kind, severity)) = kind_of_check(change.check) else {
                    return;
                };
                let alert = |severity, message: String| {
                    AlertEvent::new(kind, change.check.as_str(), severity, message, at)
                };
                match change.state {
                    CheckState::Failing => out.push(Signal::Raise(alert(
                        severity,
                        format!(
                            "health check `{}` is failing: {}",
                            change.check, change.message
                        ),
                    ))),
                    CheckState::Ok => out.push(Signal::Resolve(alert(
                        Severity::Info,
                        format!(
                            "health check `{}` is ok again: {}",
                            change.check, change.message
                        ),
                    ))),
                    CheckState::Degraded => {}
                }
            }
            Input::Bot(BotEvent::Feed { state, detail, .. }) => {
                let detail = detail.as_deref().unwrap_or("no detail");
                let alert = |severity, message: String| {
                    AlertEvent::new(AlertKind::FeedStale, "feed", severity, message, at)
                };
                match state {
                    FeedState::Stale | FeedState::Disconnected => out.push(Signal::Raise(alert(
                        Severity::Warning,
                        format!(
                            "the feed is {} ({detail}): no market data reaches the bot; check \
                             the network and the exchange's status",
                            state.as_str()
                        ),
                    ))),
                    FeedState::Connected => out.push(Signal::Resolve(alert(
                        Severity::Info,
                        format!("the feed delivers again ({detail})"),
                    ))),
                    FeedState::Starting | FeedState::Ended => {}
                }
            }
            _ => {}
        }
    }
}
