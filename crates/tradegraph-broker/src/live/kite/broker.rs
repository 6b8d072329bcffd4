//! [`KiteBroker`]: Zerodha Kite Connect as a [`Broker`].

use super::exits::Exits;
use super::rest::{Cost, KiteRest, VENUE};
use super::roll::{resolve, Contract};
use super::rules::{tag_of, KiteRules};
use super::KiteConfig;
use crate::live::venue::{
    keep_streaming, poll_while_down, Link, VenueBook, VenueBookSnapshot, VenueBroker,
};
use crate::live::{Live, LiveTradingEnabled, VenueReason};
use crate::{Amendment, Broker, BrokerError, PriceEvent};
use async_trait::async_trait;
use reqwest::Method;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderKind, OrderRequest, OrderStatus};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// What the broker's tasks share.
#[derive(Debug)]
pub(crate) struct Inner {
    /// As configured: `tradingsymbol` names a contract or an underlying (see [`Contract`]).
    pub(crate) config: KiteConfig,
    pub(crate) symbol: Symbol,
    /// The contract traded now (an underlying's rolls over time).
    pub(crate) contract: Mutex<Contract>,
    pub(crate) rest: KiteRest,
    pub(crate) book: VenueBook,
    pub(crate) link: Arc<Link>,
    pub(crate) exits: Mutex<Exits>,
    pub(crate) price: watch::Sender<Option<Decimal>>,
    /// One order update is applied at a time (the stream and the poller may both have one).
    pub(crate) syncing: tokio::sync::Mutex<()>,
    /// What the keeper remembers between its rounds.
    pub(crate) keep: Mutex<super::keeper::Keep>,
    /// Orders sent with their answers lost that Kite has not listed since, as sent (see
    /// [`Inner::lost_order`]).
    pub(crate) lost: Mutex<std::collections::HashMap<ClientOrderId, Order>>,
}

/// The Kite Connect broker: orders (`MARKET`, `LIMIT`, `SL`, `SL-M`; MIS or NRML) with our
/// client order id as their `tag`, stop and target once the entry fills (a GTT OCO for NRML;
/// an SL order and a LIMIT target for MIS, one filling cancels the other), trailing
/// stops by modifying the SL order, order updates from the ticker WebSocket (polling while it
/// is down), positions and margins. Quantities must be whole lots and prices on the tick grid
/// of the instrument (from the instruments dump).
///
/// The exits (entries waiting for them, GTT trigger ids, trailing stops) are kept in the
/// book's venue state: a broker connected with a restored book goes on managing them, and
/// places at start the exits of an entry that filled while it was down (once: Kite's orders
/// and GTTs are looked at first). Kite has no reduce-only orders, so exits are fitted to the
/// position after every fill and position read: deleted or cancelled when it closed, cut when
/// it shrank. An underlying's contract rolls while running (see
/// [`reread_instruments`](Self::reread_instruments)).
///
/// Kite's trades carry no charges: fills have a fee of 0 (brokerage and taxes appear in the
/// margins, hence in [`account`](Broker::account)'s cash).
#[derive(Debug)]
pub struct KiteBroker {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

/// The contract a [`KiteBroker`] trades, read from beside it ([`KiteBroker::contract_reader`]).
#[derive(Debug, Clone)]
pub struct KiteContractReader {
    inner: std::sync::Weak<Inner>,
}

impl KiteContractReader {
    /// The trading symbol traded now (it changes when the broker rolls to the next month's
    /// future); `None` once the broker is gone.
    pub fn tradingsymbol(&self) -> Option<String> {
        self.inner.upgrade().map(|inner| inner.tradingsymbol())
    }
}

impl Drop for KiteBroker {
    fn drop(&mut self) {
        self.inner.link.stop();
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl KiteBroker {
    /// Connects: reads the instrument's lot and tick size from the instruments dump of
    /// `config.exchange` (when `config.tradingsymbol` names an underlying such as `BANKNIFTY`,
    /// the nearest-month future is traded, rolled `config.roll_days` before expiry), then
    /// starts the order-update stream and its polling fallback. `symbol` is what the engine
    /// calls the instrument; `book` is the state the runtime kept from the last run (`None` for
    /// a fresh start). It trades real money, so it takes the opt-in and comes back wrapped in
    /// [`Live`].
    ///
    /// ```no_run
    /// use tradegraph_broker::live::kite::{KiteBroker, KiteConfig, KiteProduct};
    /// use tradegraph_broker::live::LiveTradingEnabled;
    /// use tradegraph_broker::Broker;
    /// use tradegraph_core::redact::Secret;
    /// use tradegraph_core::Symbol;
    /// # async fn demo() -> Result<(), tradegraph_broker::BrokerError> {
    /// let config = KiteConfig::new(Secret::new("api-key"), Secret::new("access-token"), "NFO", "BANKNIFTY")
    ///     .with_product(KiteProduct::Mis);
    /// let opt_in = LiveTradingEnabled::i_understand_this_trades_real_money();
    /// let broker = KiteBroker::connect(config, Symbol::new("BANKNIFTY"), None, opt_in).await?;
    /// assert!(broker.is_live());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`BrokerError::Config`] for settings that cannot work or an instrument not in the dump;
    /// [`BrokerError::Venue`] when Kite refuses or cannot be reached.
    pub async fn connect(
        config: KiteConfig,
        symbol: Symbol,
        book: Option<VenueBookSnapshot>,
        enabled: LiveTradingEnabled,
    ) -> Result<Live<Self>, BrokerError> {
        let book = match book {
            Some(saved) => VenueBook::restore(VENUE, saved),
            None => VenueBook::new(VENUE),
        };
        let rest = KiteRest::new(&config)?;
        let contract = resolve(&rest, &config).await?;
        if contract.tradingsymbol != config.tradingsymbol {
            tracing::info!(venue = VENUE, underlying = %config.tradingsymbol, contract = %contract.tradingsymbol, expiry = ?contract.expiry, "trading the nearest-month future");
        }
        let exits = super::resume::restored_exits(&book)?;
        let lost = super::resume::restored_lost(&book)?;
        let inner = Arc::new(Inner {
            config,
            symbol,
            contract: Mutex::new(contract),
            rest,
            book,
            link: Arc::new(Link::new()),
            exits: Mutex::new(exits),
            price: watch::channel(None).0,
            syncing: tokio::sync::Mutex::new(()),
            keep: Mutex::new(super::keeper::Keep::default()),
            lost: Mutex::new(lost),
        });
        // A restored book's exits: what happened while the broker was down.
        inner.resume().await;
        let streaming = {
            let inner = inner.clone();
            let (link, backoff) = (inner.link.clone(), inner.config.backoff);
            tokio::spawn(keep_streaming(VENUE, link, backoff, move || {
                let inner = inner.clone();
                async move { inner.session().await }
            }))
        };
        let polling = {
            let inner = inner.clone();
            let (link, every) = (inner.link.clone(), inner.config.poll_every);
            tokio::spawn(poll_while_down(VENUE, link, every, move || {
                let inner = inner.clone();
                async move { inner.poll().await }
            }))
        };
        let trailing = tokio::spawn(super::trail::trail_loop(
            inner.clone(),
            inner.price.subscribe(),
        ));
        let keeper = tokio::spawn(super::keeper::keep_loop(inner.clone()));
        Ok(Live::new(
            Self {
                inner,
                tasks: vec![streaming, polling, trailing, keeper],
            },
            enabled,
        ))
    }

    /// The instrument's lot and tick size.
    pub fn rules(&self) -> KiteRules {
        self.inner.rules()
    }

    /// The contract traded (`BANKNIFTY25JANFUT`).
    pub fn tradingsymbol(&self) -> String {
        self.inner.tradingsymbol()
    }

    /// A reader of the contract traded, for a watcher beside whoever owns the broker (a bot
    /// whose feed streams one contract stops when the broker rolls to the next).
    pub fn contract_reader(&self) -> KiteContractReader {
        KiteContractReader {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The contract rolled to once the position in the expiring one is closed (`None` when no
    /// roll waits).
    pub fn pending_roll(&self) -> Option<String> {
        self.inner
            .contract()
            .next
            .as_ref()
            .map(|c| c.tradingsymbol.clone())
    }

    /// While a roll waits for the expiring contract's position and orders to close: the
    /// alert to show (close or roll the position by hand before expiry). The broker logs it
    /// as an error once a day too.
    pub fn roll_alert(&self) -> Option<String> {
        self.inner.roll_alert()
    }

    /// Whether exits are owed: a filled entry's that could not be placed yet, or an exit stop
    /// that ended unfilled and is not working again (the position is unprotected at Kite while
    /// they are retried).
    pub fn owes_exits(&self) -> bool {
        self.inner.owes_exits()
    }

    /// Reads the instruments dump again now, as the broker does at the start of each
    /// trading day (India): when an underlying's nearest-month future changed, the broker
    /// rolls to it at once if flat, else once the expiring contract's position and orders are
    /// closed (new entries are refused until then, naming the roll).
    ///
    /// # Errors
    /// [`BrokerError::Venue`] or [`BrokerError::Config`] when the dump cannot be read or no
    /// longer lists the instrument (the contract traded stays as it is).
    pub async fn reread_instruments(&self) -> Result<(), BrokerError> {
        self.inner.reread().await
    }

    /// Whether the order-update WebSocket is connected.
    pub fn is_streaming(&self) -> bool {
        self.inner.link.is_up()
    }
}

/// Whether a request sent again under a known client id is the same order: side, quantity,
/// kind and prices (exits are not compared: a request rebuilt from Kite's payload has none,
/// and a trailing stop comes back from Kite as the stop it is there).
fn same_order(known: &OrderRequest, again: &OrderRequest) -> bool {
    let same_kind = match (known.kind, again.kind) {
        (OrderKind::Stop { .. }, OrderKind::TrailingStop { .. }) => true,
        (a, b) => a == b,
    };
    known.side == again.side && known.quantity == again.quantity && same_kind
}

#[async_trait]
impl Broker for KiteBroker {
    fn name(&self) -> &str {
        VENUE
    }

    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        let inner = &self.inner;
        let mut known = inner.book.order(&request.client_id);
        if known.is_none() {
            // Refused here: it cannot have been placed before.
            let before = inner.tradingsymbol();
            inner.roll_check().await;
            let now = inner.tradingsymbol();
            let roll = if now != before
                && !request.reduce_only
                && inner.config.refuse_entry_that_rolls
            {
                Err(VenueReason::FilterFailed {
                    filter: "contract roll".into(),
                    detail: format!(
                        "the contract rolled from {before} to {now} just now: this entry was decided on {before}'s prices and is not sent"
                    ),
                })
            } else {
                inner.roll_refusal(&request).map_or(Ok(()), Err)
            };
            if let Err(reason) = roll
                .and_then(|()| tag_of(&request.client_id))
                .and_then(|_| inner.rules().check(&request))
            {
                return Ok(inner.rejected(request, &reason));
            }
            // Placed before the book was saved (a crash)? Today's orders carry its tag. Sent
            // with its answer lost and not listed yet? Of unknown outcome: never sent again.
            known = inner.find_or_lost(&request.client_id).await?;
        }
        if let Some(order) = known {
            if !same_order(&order.request, &request) {
                return Err(BrokerError::DuplicateClientOrderId(request.client_id));
            }
            return Ok(order);
        }
        let trailing = match request.kind {
            OrderKind::TrailingStop { distance } => match inner.last_price() {
                Some(last) => Some((
                    distance,
                    last,
                    super::exits::trail_trigger(&inner.rules(), request.side, last, distance),
                )),
                None => None,
            },
            _ => None,
        };
        // The plan is kept before the order is sent: an order placed whose answer is lost
        // still gets its exits once Kite shows it filled. (A crash before the book is saved
        // loses it; the journal's intent hands the request back at the restart: `recover`.)
        let planned = request.exits.filter(|e| !e.is_empty());
        if let Some(exits) = planned {
            let mut all = inner.exits();
            all.plan(&request, exits);
            all.submitting.insert(request.client_id.clone());
        }
        let order = inner.place(request.clone(), trailing.map(|t| t.2)).await;
        inner.exits().submitting.remove(&request.client_id);
        match &order {
            Ok(o) if o.status != OrderStatus::Rejected => {
                if let Some((distance, last, trigger)) = trailing {
                    inner.exits().trail(
                        o.client_id(),
                        request.side,
                        request.quantity,
                        distance,
                        last,
                        trigger,
                    );
                }
            }
            // Refused: no order at Kite, nothing to protect.
            Ok(_) => inner.exits().forget(&request.client_id),
            // Unknown outcome: the plan stays until Kite shows the order or says it has none
            // (the keeper asks).
            Err(e) => {
                if planned.is_some() {
                    tracing::warn!(venue = VENUE, client_id = %request.client_id, error = %e, "the entry's placement has no answer: its exits stay planned until Kite shows whether it has it");
                }
            }
        }
        let order = order?;
        // An update may have arrived before the plan was known to be needed.
        inner.after_update(order.client_id()).await;
        Ok(order)
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        let inner = &self.inner;
        if let Some(order) = inner.cancel_gtt_leg(client_id).await? {
            return Ok(order);
        }
        if let Some(order) = inner.cancel_lapsed(client_id) {
            return Ok(order);
        }
        let not_cancellable = |order: &Order| BrokerError::NotCancellable {
            client_id: client_id.clone(),
            status: order.status,
        };
        let order = match inner.book.order(client_id) {
            Some(order) => order,
            None => match inner.find_or_lost(client_id).await? {
                Some(order) if order.status == OrderStatus::Pending && order.id.as_str().is_empty() => {
                    return Err(inner.rest.error(VenueReason::Unavailable(format!(
                        "order {client_id} was sent with its answer lost and Kite does not list it yet: it cannot be cancelled before Kite lists it (or it is taken as never received)"
                    ))))
                }
                Some(order) => order,
                None => return Err(BrokerError::UnknownOrder(client_id.clone())),
            },
        };
        if order.status.is_terminal() {
            return Err(not_cancellable(&order));
        }
        // The exit plan stays until the order is seen ended (the update's `after_update` drops
        // it, or places the exits of what filled): a cancel Kite does not carry out, or a fill
        // that beats it, still gets its exits.
        let path = format!("/orders/regular/{}", order.id.as_str());
        // Cancelled here: an exit's end is no lapse (not placed again).
        let exit = order.request.reduce_only;
        if exit {
            inner.exits().cancelling.insert(client_id.clone());
        }
        let reply = inner
            .rest
            .send(Method::DELETE, &path, None, Cost::Write, None)
            .await;
        if exit {
            // A 5xx may have been carried out: its end is still ours.
            let taken = reply
                .as_ref()
                .map(|r| r.is_success() || r.status.is_server_error());
            inner.cancel_settled(client_id, &taken);
        }
        let reply = reply?;
        let now = inner.refresh(&order).await?.unwrap_or(order);
        if !reply.is_success() {
            if now.status.is_terminal() {
                return Err(not_cancellable(&now));
            }
            return Err(inner.rest.error(KiteRest::reason_of(&reply)));
        }
        Ok(now)
    }

    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        if let Some(order) = self.inner.amend_lapsed(client_id, &amendment) {
            return Ok(order);
        }
        self.inner.amend(client_id, amendment).await
    }

    fn reconnections(&self) -> u64 {
        self.inner.link.reconnections()
    }

    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        let inner = &self.inner;
        match inner.book.order(client_id) {
            Some(order) if order.status.is_terminal() => Ok(Some(order)),
            Some(order) => inner.refresh(&order).await,
            None => {
                let leg = inner.exits().gtt_leg(client_id);
                match leg {
                    Some(leg) => Ok(Some(leg)),
                    // Sent with its answer lost and not listed yet: of unknown outcome.
                    None => inner.find_or_lost(client_id).await,
                }
            }
        }
    }

    /// An entry the book lost or knows without exits (the bot stopped after sending it and
    /// before the book was saved) gets its exits planned again from `request`, with Kite asked first for any it
    /// already has (its GTTs, its stop and target tags); they are placed once Kite shows what
    /// filled.
    async fn recover(&self, request: &OrderRequest) -> Result<Option<Order>, BrokerError> {
        let inner = &self.inner;
        let client_id = &request.client_id;
        // The book manages the exits of an entry it knows with them, or whose exits it plans,
        // placed or watches (an entry learned of from Kite's list has none in its request,
        // although its exits went out); an entry it has no trace of lost them with the book.
        let lost = inner.book.order(client_id).is_none_or(|o| {
            o.parent.is_none()
                && o.request.exits.is_none_or(|e| e.is_empty())
                && !inner
                    .book
                    .open_orders()
                    .iter()
                    .any(|x| x.parent.as_ref() == Some(client_id))
        }) && inner.exits().gtt_leg(client_id).is_none()
            && !inner.exits().knows_exits_of(client_id);
        let planned = request.exits.filter(|e| !e.is_empty()).filter(|_| lost);
        if let Some(exits) = planned {
            let mut all = inner.exits();
            if !all.plans.contains_key(client_id) {
                tracing::warn!(venue = VENUE, %client_id, "an order the book lost (the bot stopped after sending it) has its exits planned again from the request recorded before it was sent");
                all.plan(request, exits);
                all.lookup.insert(client_id.clone());
            }
        }
        let order = self.order(client_id).await;
        match &order {
            Ok(Some(order)) => {
                // The book's order carries its exits from now on: recovered again, it is not
                // planned again.
                if let (Some(exits), Some(mut kept)) = (planned, inner.book.order(client_id)) {
                    kept.request.exits = Some(exits);
                    inner.book.track(kept);
                }
                inner.after_update(order.client_id()).await;
            }
            // Kite never had it: nothing to protect.
            Ok(None) if planned.is_some() => inner.exits().forget(client_id),
            _ => {}
        }
        order
    }

    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        self.inner.poll().await?;
        let mut open = self.inner.book.open_orders();
        open.extend(self.inner.exits().gtt_legs());
        // Sent with their answers lost and not listed yet: they may be working (a close sent
        // again in their place could reverse the position).
        open.extend(self.inner.lost_pending());
        Ok(open)
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let (positions, trusted) = self.inner.read_net().await?;
        // A read that does not show the trades booked yet fits nothing (the exits just placed
        // for an entry it does not show would go).
        if trusted && self.inner.has_working_exits() {
            let net = super::fit::net_of(&positions);
            if let Err(e) = self.inner.fit_exits_to(net, None).await {
                tracing::warn!(venue = VENUE, error = %e, "could not fit the exits to the position");
            }
        }
        Ok(positions)
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        self.inner.account().await
    }

    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        Ok(self.inner.book.fills_since(after))
    }

    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        if symbol == &self.inner.symbol {
            let price = match event {
                PriceEvent::Tick(t) => t.price,
                PriceEvent::Trade(t) => t.price,
                PriceEvent::Candle(c) => c.close,
            };
            if price > Decimal::ZERO {
                self.inner.price.send_replace(Some(price));
            }
        }
        Ok(Vec::new())
    }
}

impl VenueBroker for KiteBroker {
    fn book(&self) -> &VenueBook {
        &self.inner.book
    }
}
