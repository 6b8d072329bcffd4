//! Keeping the paper account bounded: a bot that runs for months places thousands of orders,
//! and the account is saved after every one. Finished orders and fills beyond the newest few
//! are let go; the client order ids of the newest 4,096 orders let go are kept (retired), so one
//! of them submitted again is refused, never placed twice (older ones are the order journal's to
//! refuse: it keeps every intent).

use super::PaperEngine;
use std::collections::HashSet;

impl PaperEngine {
    /// Finished orders kept after a compaction (working orders and attached exits are always
    /// kept).
    pub const KEEP_FINISHED_ORDERS: usize = 64;
    /// Fills kept after a compaction.
    pub const KEEP_FILLS: usize = 128;
    /// Client order ids of orders let go that the broker itself still refuses (the engine's
    /// order journal refuses every id it ever sent).
    pub const KEEP_RETIRED: usize = 4096;

    /// Whether `client_id` is an order let go by [`compact`](Self::compact) (known, finished,
    /// never placed again).
    pub fn is_retired(&self, client_id: &tradegraph_core::order::ClientOrderId) -> bool {
        self.retired.contains(client_id)
    }

    /// Lets go of finished orders beyond the newest [`KEEP_FINISHED_ORDERS`] and fills beyond
    /// the newest [`KEEP_FILLS`], once there are twice as many (so it runs rarely). Order ids
    /// and fill numbers go on from where they were; [`order`](Self::order) of an order let go
    /// is `None`, and submitting its client order id again is refused. Returns whether anything
    /// was let go. The [`PaperBroker`](super::PaperBroker) calls it after every order and price
    /// event.
    ///
    /// [`KEEP_FINISHED_ORDERS`]: Self::KEEP_FINISHED_ORDERS
    /// [`KEEP_FILLS`]: Self::KEEP_FILLS
    pub fn compact(&mut self) -> bool {
        let fills = self.compact_fills();
        let orders = self.compact_orders();
        fills || orders
    }

    fn compact_fills(&mut self) -> bool {
        if self.fills.len() <= 2 * Self::KEEP_FILLS {
            return false;
        }
        let drop = self.fills.len() - Self::KEEP_FILLS;
        self.fills.drain(..drop);
        self.fills_base += drop as u64;
        true
    }

    fn compact_orders(&mut self) -> bool {
        // Cheap first: most calls have nothing to do.
        if self.orders.len() <= 2 * Self::KEEP_FINISHED_ORDERS + self.working.len() {
            return false;
        }
        // Working orders, attached exits and the entries they belong to stay.
        let parents: Vec<usize> = self
            .exit_groups
            .values()
            .filter_map(|g| self.submitted.get(&g.parent).map(|(index, _)| *index))
            .collect();
        let referenced: HashSet<usize> = self
            .working
            .iter()
            .copied()
            .chain(
                self.exit_groups
                    .values()
                    .flat_map(|g| g.orders.iter().copied()),
            )
            .chain(parents)
            .collect();
        let finished = self.orders.len() - referenced.len().min(self.orders.len());
        if finished <= 2 * Self::KEEP_FINISHED_ORDERS {
            return false;
        }
        // Keep what is referenced, and the newest finished orders.
        let mut keep = vec![false; self.orders.len()];
        let mut finished_kept = 0;
        for index in (0..self.orders.len()).rev() {
            if referenced.contains(&index) {
                keep[index] = true;
            } else if finished_kept < Self::KEEP_FINISHED_ORDERS {
                keep[index] = true;
                finished_kept += 1;
            }
        }
        let mut moved = vec![usize::MAX; self.orders.len()];
        let (mut orders, mut meta) = (Vec::new(), Vec::new());
        for (index, (order, m)) in self.orders.drain(..).zip(self.meta.drain(..)).enumerate() {
            if keep[index] {
                moved[index] = orders.len();
                orders.push(order);
                meta.push(m);
            } else {
                self.retired.push_back(order.client_id().clone());
                self.order_base += 1;
            }
        }
        // The newest retired ids are remembered; older ones are the order journal's to refuse.
        while self.retired.len() > Self::KEEP_RETIRED {
            self.retired.pop_front();
        }
        self.orders = orders;
        self.meta = meta;
        self.submitted
            .retain(|_, (index, _)| moved.get(*index).is_some_and(|m| *m != usize::MAX));
        for (index, _) in self.submitted.values_mut() {
            *index = moved[*index];
        }
        for index in &mut self.working {
            *index = moved[*index];
        }
        for group in self.exit_groups.values_mut() {
            for index in &mut group.orders {
                *index = moved[*index];
            }
        }
        true
    }
}
