//! What a running bot tells the world: typed [`BotEvent`]s as they happen (on a broadcast
//! channel the engine is given, at no cost when none is), a [`BotStatus`] snapshot kept current
//! on a `watch` channel, the [`EquityCurve`], and the engine's own health [`Check`]s that a
//! [`HealthReport`] gathers.

mod event;
mod health;
mod publish;
mod status;

pub use event::{
    AlertEvent, AlertKind, BotEvent, DecisionEvent, FillEvent, HealthChange, OrderEvent, Severity,
    TradeClosedEvent,
};
pub use health::{Check, CheckId, CheckState, HealthReport};
pub use publish::EquityCurve;
pub(crate) use publish::{wall_now, Observer};
pub use status::{BotStatus, FeedState, FeedStatus, Trading};
