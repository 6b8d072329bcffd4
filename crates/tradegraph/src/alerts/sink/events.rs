use super::Sink;
use crate::alerts::AlertError;
use crate::engine::{AlertEvent, BotEvent};
use crate::service::EventHub;
use async_trait::async_trait;

/// The event stream: a `BotEvent::Alert` on the hub (`GET /api/v1/events`, type `alert`).
#[derive(Debug, Clone)]
pub struct EventSink(pub EventHub);

#[async_trait]
impl Sink for EventSink {
    fn name(&self) -> String {
        "events".into()
    }

    async fn deliver(&self, alert: &AlertEvent) -> Result<(), AlertError> {
        self.0.publish(BotEvent::Alert(alert.clone()));
        Ok(())
    }
}
