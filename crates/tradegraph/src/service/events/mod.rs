//! The event stream: the bot's [`BotEvent`](crate::engine::BotEvent)s numbered and kept by the
//! [`EventHub`], served as server-sent events.

mod hub;
mod sse;

pub use hub::{EventHub, Stamped, Subscription};
pub(crate) use sse::events;
