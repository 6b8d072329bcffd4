//! `GET /api/v1/events`: the event stream as server-sent events.

use super::hub::{Stamped, Subscription};
use crate::engine::BotEvent;
use crate::service::error::ApiError;
use crate::service::params::Params;
use crate::service::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Comma-separated event types to keep.
    types: Option<String>,
    /// Where to resume, for clients that cannot set `Last-Event-ID`.
    last_event_id: Option<String>,
}

/// Where a client's last event id puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LastId {
    /// After event `n` of this run.
    ThisRun(u64),
    /// The id of another run (the bot restarted since).
    OtherRun,
}

/// Reads `text`, an SSE `id` as this stream writes it (`<run>:<n>`) or a bare number `n`
/// (taken as a number of this run, as the ids were before they named their run), for the
/// hub of run `run`; `None` when it is neither.
fn read_last_id(run: &str, text: &str) -> Option<LastId> {
    let text = text.trim();
    match text.split_once(':') {
        Some((of, n)) => {
            let n = n.parse::<u64>().ok()?;
            if of.is_empty() {
                return None;
            }
            Some(if of == run {
                LastId::ThisRun(n)
            } else {
                LastId::OtherRun
            })
        }
        None => text.parse::<u64>().ok().map(LastId::ThisRun),
    }
}

/// The types asked for (`None`: all).
fn parse_types(types: Option<&str>) -> Result<Option<HashSet<&'static str>>, ApiError> {
    let Some(types) = types.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let mut wanted = HashSet::new();
    for name in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let Some(kind) = BotEvent::KINDS.iter().find(|k| **k == name) else {
            return Err(ApiError::bad_request(format!(
                "types: unknown event type `{name}`; known: {}",
                BotEvent::KINDS.join(", ")
            )));
        };
        wanted.insert(*kind);
    }
    Ok(Some(wanted))
}

/// Where a client resumed after event `after` starts (the last event it has) and what it is
/// told first: a `gap` when events after `after` are no longer kept, a `reset` when the id it
/// gave (`given`, as it gave it) comes from another run.
fn start(
    hub: &super::EventHub,
    gap: Option<(u64, u64)>,
    reset: Option<u64>,
    after: Option<u64>,
    given: &serde_json::Value,
) -> (u64, Option<Event>) {
    if let Some(first) = reset {
        let data = serde_json::json!({
            "last_event_id": given,
            "run": hub.run(),
            "newest": hub.last_id(),
            "resumed_at": first,
        });
        return (
            0,
            Some(Event::default().event("reset").data(data.to_string())),
        );
    }
    let notice = gap.map(|(from, to)| {
        let data = serde_json::json!({
            "missed_from": from,
            "missed_to": to.saturating_sub(1),
            "resumed_at": to,
        });
        Event::default().event("gap").data(data.to_string())
    });
    (after.unwrap_or(0), notice)
}

/// The stream of one client.
struct Client {
    backlog: VecDeque<Arc<Stamped>>,
    live: broadcast::Receiver<Arc<Stamped>>,
    closing: watch::Receiver<bool>,
    types: Option<HashSet<&'static str>>,
    last: u64,
    hub: super::EventHub,
    /// A `gap` or `reset` to send before the next event.
    notice: Option<Event>,
}

impl Client {
    /// A client starting from `resumed`, asked for after event `after` of this run (the id it
    /// gave: `given`).
    fn new(
        hub: &super::EventHub,
        types: Option<HashSet<&'static str>>,
        resumed: Subscription,
        after: Option<u64>,
        given: &serde_json::Value,
    ) -> Self {
        let (last, notice) = start(hub, resumed.gap, resumed.reset, after, given);
        Self {
            backlog: resumed.backlog.into(),
            live: resumed.live,
            closing: hub.closing(),
            types,
            last,
            hub: hub.clone(),
            notice,
        }
    }

    fn wants(&self, event: &Stamped) -> bool {
        event.id > self.last && self.types.as_ref().is_none_or(|t| t.contains(event.kind))
    }

    async fn next(&mut self) -> Option<Event> {
        if let Some(notice) = self.notice.take() {
            return Some(notice);
        }
        loop {
            let event = match self.backlog.pop_front() {
                Some(event) => event,
                None => tokio::select! {
                    // What came before the close is streamed first.
                    biased;
                    received = self.live.recv() => match received {
                        Ok(event) => event,
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            // Too slow for the live channel: catch up from what is kept.
                            let resumed = self.hub.since(Some(self.last));
                            let given = serde_json::json!(format!("{}:{}", self.hub.run(), self.last));
                            let (last, notice) = start(
                                &self.hub,
                                resumed.gap,
                                resumed.reset,
                                Some(self.last),
                                &given,
                            );
                            self.backlog = resumed.backlog.into();
                            self.live = resumed.live;
                            self.last = last;
                            if let Some(notice) = notice {
                                return Some(notice);
                            }
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = self.closing.wait_for(|closed| *closed) => return None,
                },
            };
            if !self.wants(&event) {
                self.last = self.last.max(event.id);
                continue;
            }
            self.last = event.id;
            return Some(
                Event::default()
                    .id(format!("{}:{}", self.hub.run(), event.id))
                    .event(event.kind)
                    .data(event.json.clone()),
            );
        }
    }
}

/// `GET /api/v1/events[?types=decision,order][&last_event_id=ID]`: every event from now (or,
/// with `Last-Event-ID: ID`, every event after it still kept, then the live ones), as
/// server-sent events: `id` is `<run>:<n>` (the bot's run, 12 hex digits drawn at each start,
/// and the event's number in that run, from 1), `event` its type, `data` its JSON. A comment
/// every 15 s keeps an idle stream open.
///
/// Resuming: an id of this run resumes right after it; when events after it are no longer
/// kept, a `gap` event says which were missed. An id of another run (the bot restarted since),
/// or a number ahead of every event of this run, gets a `reset` event (`{"last_event_id": <as
/// given>, "run": <this run>, "newest": <n>, "resumed_at": <n>}`) and every event kept follows,
/// from the first. A bare number `n` (ids before they named their run) is read as a number of
/// this run. Anything else is no id: the stream starts from now, and it is logged at debug
/// level (not a warning: a client may send it on every request; a header that is not text at
/// all is logged as a warning). The stream ends when the bot stops.
pub(crate) async fn events(
    State(app): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let types = parse_types(query.types.as_deref())?;
    let header = headers.get("last-event-id").and_then(|v| match v.to_str() {
        Ok(text) => Some(text.to_owned()),
        Err(_) => {
            tracing::warn!(
                "event stream: a Last-Event-ID that is not text was ignored; streaming from now"
            );
            None
        }
    });
    let given = header.or(query.last_event_id);
    let hub = &app.hub;
    let (resumed, after, shown) = match given.as_deref().map(|t| (t, read_last_id(hub.run(), t))) {
        None => (hub.since(None), None, serde_json::Value::Null),
        Some((_, Some(LastId::ThisRun(n)))) => (hub.since(Some(n)), Some(n), serde_json::json!(n)),
        Some((text, Some(LastId::OtherRun))) => {
            (hub.since(Some(u64::MAX)), None, serde_json::json!(text))
        }
        Some((text, None)) => {
            let shown: String = text.chars().take(64).collect();
            // Debug, not warn: a client can send it on every request.
            tracing::debug!(
                last_event_id = %shown.escape_debug(),
                run = hub.run(),
                "event stream: Last-Event-ID is not an event id of this API (`<run>:<n>`, as the `id` of an event); streaming from now"
            );
            (hub.since(None), None, serde_json::Value::Null)
        }
    };
    let client = Client::new(hub, types, resumed, after, &shown);
    let stream = futures::stream::unfold(client, |mut client| async move {
        client.next().await.map(|event| (Ok(event), client))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_against_the_known_ones() {
        assert_eq!(parse_types(None).unwrap(), None);
        let wanted = parse_types(Some("decision, order")).unwrap().unwrap();
        assert!(wanted.contains("decision") && wanted.contains("order") && wanted.len() == 2);
        let err = parse_types(Some("decision,orders")).unwrap_err();
        assert!(
            err.message.contains("unknown event type `orders`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_last_event_id_is_of_this_run_of_another_or_none() {
        let run = "0123456789ab";
        assert_eq!(
            read_last_id(run, "0123456789ab:42"),
            Some(LastId::ThisRun(42))
        );
        assert_eq!(read_last_id(run, " 7 "), Some(LastId::ThisRun(7)));
        assert_eq!(read_last_id(run, "ba9876543210:3"), Some(LastId::OtherRun));
        for bad in [
            "",
            "x",
            ":3",
            "0123456789ab:",
            "0123456789ab:-1",
            "a:b:3",
            "1:99999999999999999999999",
        ] {
            assert_eq!(read_last_id(run, bad), None, "{bad}");
        }
    }
}
