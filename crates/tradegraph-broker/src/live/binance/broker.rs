//! [`BinanceBroker`]: the Binance spot broker, its start and its shared state.

use super::config::BinanceConfig;
use super::exchange_info::parse_exchange_info;
use super::filters::SymbolRules;
use super::rest::{Outcome, Rest};
use super::saved::ExitsState;
use super::stream;
use crate::live::venue::{Link, VenueBook, VenueBookSnapshot};
use crate::live::VenueReason;
use crate::live::{Live, LiveTradingEnabled};
use crate::BrokerError;
use reqwest::Method;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::task::JoinHandle;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Symbol;

/// The venue's name: the broker's `name()`, its logs' and metrics' `venue`/`broker` label.
pub(crate) const VENUE: &str = "binance";

/// What the broker's tasks (the stream, the poller) share with its calls.
pub(crate) struct Inner {
    pub(crate) config: BinanceConfig,
    pub(crate) rest: Rest,
    pub(crate) rules: SymbolRules,
    pub(crate) symbol: Symbol,
    pub(crate) book: VenueBook,
    pub(crate) link: Arc<Link>,
    /// The last price seen (fills, market data): the reference for checks and trailing stops.
    pub(crate) last_price: Mutex<Option<Decimal>>,
    /// Prices of fee assets (`BNB`) in the quote asset.
    pub(crate) fee_prices: Mutex<HashMap<String, Decimal>>,
    /// Which entries had their exits placed (kept with the book), placements under way.
    pub(crate) exits: ExitsState,
    /// The cursor of `myTrades` polling: the next trade id to read.
    pub(crate) next_trade_id: AtomicU64,
    /// Whether a poll ran to its end since the stream last came up (the catch-up poll).
    pub(crate) caught_up: std::sync::atomic::AtomicBool,
    /// Orders being sent now (their answer awaited): polling does not ask about them.
    pub(crate) sending: Mutex<std::collections::HashSet<ClientOrderId>>,
}

impl Inner {
    pub(crate) fn lock<'a, T>(&self, m: &'a Mutex<T>) -> MutexGuard<'a, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn reference(&self) -> Option<Decimal> {
        *self.lock(&self.last_price)
    }

    pub(crate) fn saw_price(&self, price: Decimal) {
        if price > Decimal::ZERO {
            *self.lock(&self.last_price) = Some(price);
        }
    }

    /// Whether the order `client_id` is being sent now.
    pub(crate) fn is_sending(&self, client_id: &ClientOrderId) -> bool {
        self.lock(&self.sending).contains(client_id)
    }

    pub(crate) fn fee_prices(&self) -> HashMap<String, Decimal> {
        self.lock(&self.fee_prices).clone()
    }

    /// The body of a signed call that must succeed.
    pub(crate) async fn must(
        &self,
        method: Method,
        path: &'static str,
        weight: u32,
        params: &(dyn Fn(&mut super::sign::Query) + Send + Sync),
    ) -> Result<String, BrokerError> {
        match self.rest.signed(method, path, weight, params).await? {
            Outcome::Done(body) => Ok(body),
            Outcome::Refused(r) => Err(self.rest.error(r)),
            Outcome::Duplicate => Err(self.rest.error(VenueReason::Other {
                code: "-2010".into(),
                message: "Duplicate order sent.".into(),
            })),
            Outcome::Unknown => Err(self.rest.error(VenueReason::UnknownOrder)),
            Outcome::Conflict(body) => Err(self.rest.error(super::orders::conflict_reason(&body))),
        }
    }

    /// Parses a venue answer, naming the call when it is not as documented.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        body: &str,
    ) -> Result<T, BrokerError> {
        serde_json::from_str(body).map_err(|e| {
            self.rest.error(VenueReason::Other {
                code: what.to_owned(),
                message: format!("the answer is not as Binance documents it: {e}"),
            })
        })
    }
}

/// The Binance spot broker: signed REST orders checked against the symbol's filters, the user
/// data stream over the WebSocket API (REST polling while it is down), OCO exits placed once
/// an entry fills, request weight kept under the limit.
///
/// The runtime wraps it in [`Live`](crate::live::Live): it trades real money (or the testnet's).
/// Its tasks stop when it is dropped.
pub struct BinanceBroker {
    pub(crate) inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for BinanceBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceBroker")
            .field("symbol", &self.inner.symbol)
            .field("rest", &self.inner.rest)
            .finish_non_exhaustive()
    }
}

impl Drop for BinanceBroker {
    fn drop(&mut self) {
        self.inner.link.stop();
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl BinanceBroker {
    /// Connects: validates the configuration, measures the server time, reads the symbol's
    /// rules (`exchangeInfo`) and starts the user data stream (and the polling that covers for
    /// it while it is down). `book` is the state the runtime kept from the last run (`None` for
    /// a fresh start): fill numbers go on from it. It trades real money, so it takes the
    /// opt-in and comes back wrapped in [`Live`].
    ///
    /// # Errors
    /// [`BrokerError::Config`] for a configuration that cannot work; [`BrokerError::Venue`]
    /// when the venue cannot be reached or refuses the keys.
    pub async fn connect(
        config: BinanceConfig,
        book: Option<VenueBookSnapshot>,
        enabled: LiveTradingEnabled,
    ) -> Result<Live<Self>, BrokerError> {
        config.validate()?;
        let rest = Rest::new(&config)?;
        rest.sync_time().await?;
        let symbol = config.instrument.symbol.clone();
        let info = rest
            .public("/api/v3/exchangeInfo", format!("symbol={symbol}"), 20)
            .await?;
        let rules = parse_exchange_info(&info, symbol.as_str())
            .map_err(|e| BrokerError::Config(format!("binance: {}", rest.masker().mask(&e))))?;
        let restored = book.is_some();
        let book = match book {
            Some(saved) => VenueBook::restore(VENUE, saved),
            None => VenueBook::new(VENUE),
        };
        let exits = ExitsState::restore(&book)?;
        let fee_prices = config.fee_asset_prices.clone();
        let inner = Arc::new(Inner {
            rest,
            rules,
            symbol,
            book,
            link: Arc::new(Link::new()),
            last_price: Mutex::new(None),
            fee_prices: Mutex::new(fee_prices),
            exits,
            next_trade_id: AtomicU64::new(0),
            sending: Mutex::new(std::collections::HashSet::new()),
            caught_up: std::sync::atomic::AtomicBool::new(false),
            config,
        });
        // The keys work (or the error says they do not) before anything starts.
        inner
            .must(Method::GET, "/api/v3/account", 20, &|_| {})
            .await?;
        stream::start_cursor(&inner).await?;
        if restored {
            // What happened while the bot was down: fills of the orders it had working (and
            // the exits they call for, the venue asked first).
            stream::catch_up(&inner).await?;
        }
        let tasks = stream::spawn(&inner);
        Ok(Live::new(Self { inner, tasks }, enabled))
    }

    /// The symbol's rules as the venue gave them.
    pub fn rules(&self) -> &SymbolRules {
        &self.inner.rules
    }

    /// Sets the price of an asset fees may be charged in (`BNB`), in the quote asset.
    pub fn set_fee_asset_price(&self, asset: &str, price: Decimal) {
        self.inner
            .lock(&self.inner.fee_prices)
            .insert(asset.to_owned(), price);
    }

    /// Whether the user data stream is up (polling covers while it is not).
    pub fn stream_is_up(&self) -> bool {
        self.inner.link.is_up()
    }

    /// Whether the stream is up and the poll for what happened before it came up (the
    /// catch-up) has run to its end.
    pub fn caught_up(&self) -> bool {
        self.inner.link.is_up() && self.inner.caught_up.load(Ordering::Acquire)
    }

    /// Waits until no exit placement (or flat check) is under way: after it, the venue has
    /// every exit the fills booked so far call for.
    pub async fn exits_settled(&self) {
        self.inner.exits.settled().await;
    }

    /// The `myTrades` cursor (the next trade id polling reads).
    pub fn trade_cursor(&self) -> u64 {
        self.inner.next_trade_id.load(Ordering::Acquire)
    }
}
