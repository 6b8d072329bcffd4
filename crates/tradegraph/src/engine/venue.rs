//! A venue's broker as the engine's [`Execution`]: its [`VenueBook`] (the venue's orders the
//! bot tracks and the numbered fills) is the state the bot keeps across restarts.
//!
//! [`VenueBook`]: tradegraph_broker::live::venue::VenueBook

use super::journal::Execution;
use tradegraph_broker::live::venue::VenueBroker;
use tradegraph_broker::live::Live;
use tradegraph_broker::BrokerError;

/// The venue keeps the orders and the account; the bot keeps the book that numbers the
/// venue's fills (saved whenever its revision moves, see the order journal) so that fill
/// numbers go on after a restart and the trade ledger never reads past what is saved. A venue
/// broker is connected with the saved book (`BinanceBroker::connect`, `KiteBroker::connect`
/// take it), so [`restored`](Execution::restored) has nothing left to do.
impl<V: VenueBroker + 'static> Execution for Live<V> {
    fn revision(&self) -> u64 {
        self.book().revision()
    }

    fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
        serde_json::to_value(self.book().snapshot())
            .map(Some)
            .map_err(|e| {
                BrokerError::Snapshot(format!("the venue's order book cannot be saved: {e}"))
            })
    }

    fn last_fill_seq(&self) -> Option<u64> {
        Some(self.book().last_seq())
    }

    fn kept_orders(&self) -> Option<Vec<tradegraph_core::order::Order>> {
        None
    }

    fn tracked_order(
        &self,
        client_id: &tradegraph_core::order::ClientOrderId,
    ) -> Option<tradegraph_core::order::Order> {
        self.book().order(client_id)
    }

    fn restored(self, state: serde_json::Value) -> Result<Self, BrokerError> {
        // Connected with it already: only checked, so a bad saved book is not silently lost.
        serde_json::from_value::<tradegraph_broker::live::venue::VenueBookSnapshot>(state)
            .map_err(|e| {
                BrokerError::Snapshot(format!(
                    "the saved venue order book cannot be read ({e}); move the bot's state aside \
                     only after checking the venue's orders and fills by hand"
                ))
            })?;
        Ok(self)
    }
}
