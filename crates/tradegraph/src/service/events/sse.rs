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
pub(crate) struct EventsQuery {
    /// Comma-separated event types to keep.
    types: Option<String>,
    /// Where to resume, for clients that cannot set `Last-Event-ID`.
    last_event_id: Option<u64>,
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
/// told first: a `gap` when events after `after` are no longer kept, a `reset` when `after`
/// comes from another run.
fn start(
    hub: &super::EventHub,
    gap: Option<(u64, u64)>,
    reset: Option<u64>,
    after: Option<u64>,
) -> (u64, Option<Event>) {
    if let Some(first) = reset {
        let data = serde_json::json!({
            "last_event_id": after,
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
    /// A client starting from `resumed`, asked for after event `after`.
    fn new(
        hub: &super::EventHub,
        types: Option<HashSet<&'static str>>,
        resumed: Subscription,
        after: Option<u64>,
    ) -> Self {
        let (last, notice) = start(hub, resumed.gap, resumed.reset, after);
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
                    received = self.live.recv() => match received {
                        Ok(event) => event,
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            // Too slow for the live channel: catch up from what is kept.
                            let resumed = self.hub.since(Some(self.last));
                            let (last, notice) =
                                start(&self.hub, resumed.gap, resumed.reset, Some(self.last));
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
                    .id(event.id.to_string())
                    .event(event.kind)
                    .data(event.json.clone()),
            );
        }
    }
}

/// `GET /api/v1/events[?types=decision,order][&last_event_id=N]`: every event from now (or,
/// with `Last-Event-ID: N`, every event after N still kept, then the live ones), as
/// server-sent events: `id` is the event's number, `event` its type, `data` its JSON. A
/// comment every 15 s keeps an idle stream open. When events after N are no longer kept, a
/// `gap` event says which were missed. When N is ahead of every event of this run (it comes
/// from a run before a restart: numbers start at 1 in each run), a `reset` event says so and
/// every event kept follows, from the first. The stream ends when the bot stops.
pub(crate) async fn events(
    State(app): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let types = parse_types(query.types.as_deref())?;
    let header = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "Last-Event-ID: give the `id` of the last event received (a number)",
                    )
                })
        })
        .transpose()?;
    let after = header.or(query.last_event_id);
    let client = Client::new(&app.hub, types, app.hub.since(after), after);
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
}
