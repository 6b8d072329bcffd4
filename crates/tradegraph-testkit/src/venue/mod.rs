//! Local venue servers for tests (feature `venues`): each speaks its venue's wire format on
//! 127.0.0.1 and checks every request as the venue would.

pub mod binance;
mod form;
pub mod kite;
