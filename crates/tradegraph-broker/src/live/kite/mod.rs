//! Zerodha Kite Connect (feature `kite`): the broker, the wire formats of its orders, GTTs,
//! errors and login, and the instrument's rules. Without the feature, only what the settings
//! name is here: [`KiteProduct`], the endpoints, the day in India ([`ist_today`]) and the day's
//! stored token ([`save_token`], [`load_token`]).
//!
//! | piece | what |
//! |---|---|
//! | [`KiteBroker`] | the [`Broker`](crate::Broker): orders, exits (GTT OCO for NRML, SL + LIMIT for MIS; retried until placed), trailing stops, stops that end unfilled while the position is open placed again, order updates (WebSocket, polling while down), positions, margins; the exits kept in the book's venue state across restarts and fitted to the position (none left working after a close); the nearest-month future rolled while running |
//! | [`KiteConfig`] | API key and access token (secrets), URLs, product (MIS/NRML), instrument, limits |
//! | [`login`], [`session_checksum`] | the login (`POST /session/token`): checksum = hex SHA-256 of api key + request token + api secret |
//! | [`place_form`], [`modify_stop_form`], [`gtt_oco_form`] | `POST /orders/regular`, `PUT /orders/regular/{id}`, `POST /gtt/triggers` (`two-leg`) |
//! | [`KiteRules`], [`tag_of`] | whole lots and the tick grid, checked before sending; `tag` = our client order id (alphanumeric, at most 20) |
//! | [`KiteOrder`], [`KiteTrade`] | order and trade payloads (REST and WebSocket order updates), exact decimals |
//! | [`save_token`], [`load_token`] | the day's access token in the data directory (0600, with its day) |
//! | [`KiteError`] | Kite's `error_type` and message to a [`VenueReason`](crate::live::VenueReason) |
//!
//! An order whose answer is lost (a timeout, a 5xx) is looked for by its tag in Kite's list of
//! today's orders: until listed it is of unknown outcome (`order` answers it pending and
//! `open_orders` lists it; it is never sent again, nor cancelled), and after
//! [`KiteConfig::unknown_outcome_after`] unlisted it is taken as never received. It is kept
//! in the book's venue state, so a broker restarted while Kite still lags knows it too.
//!
//! Every REST call carries `X-Kite-Version: 3` and `Authorization: token api_key:access_token`;
//! the header value is a secret and never logged.

#[cfg(feature = "kite")]
mod account;
#[cfg(feature = "kite")]
mod broker;
#[cfg(feature = "kite")]
mod config;
mod day;
#[cfg(feature = "kite")]
mod errors;
#[cfg(feature = "kite")]
mod exits;
#[cfg(feature = "kite")]
mod fit;
#[cfg(feature = "kite")]
mod keeper;
#[cfg(feature = "kite")]
mod lapse;
#[cfg(feature = "kite")]
mod order;
#[cfg(feature = "kite")]
mod params;
#[cfg(feature = "kite")]
mod place;
mod product;
#[cfg(feature = "kite")]
mod rest;
#[cfg(feature = "kite")]
mod resume;
#[cfg(feature = "kite")]
mod roll;
#[cfg(feature = "kite")]
mod rules;
#[cfg(feature = "kite")]
mod session;
#[cfg(feature = "kite")]
mod sync;
mod token;
#[cfg(feature = "kite")]
mod trail;

#[cfg(feature = "kite")]
pub use broker::{KiteBroker, KiteContractReader};
#[cfg(feature = "kite")]
pub use config::KiteConfig;
pub use day::ist_today;
#[cfg(feature = "kite")]
pub(crate) use day::now;
#[cfg(feature = "kite")]
pub use errors::KiteError;
#[cfg(feature = "kite")]
pub use order::{kite_time, orders_of, success_data, trades_of, KiteOrder, KiteTrade};
#[cfg(feature = "kite")]
pub use params::{
    gtt_oco_form, gtt_stop_limit, modify_limit_form, modify_stop_form, place_form, side_of,
    stop_limit, Form,
};
pub use product::{KiteProduct, DEFAULT_API_URL, DEFAULT_WS_URL};
#[cfg(feature = "kite")]
pub use rules::{tag_of, KiteRules, MAX_TAG_CHARS};
#[cfg(feature = "kite")]
pub use session::{login, session_checksum, session_form};
pub use token::{load_token, save_token, token_path, TOKEN_FILE};

#[cfg(feature = "kite")]
/// The API version header Kite requires on every call.
pub const KITE_VERSION: (&str, &str) = ("X-Kite-Version", "3");
