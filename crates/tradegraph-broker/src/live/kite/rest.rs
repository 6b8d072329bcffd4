//! [`KiteRest`]: Kite's REST calls on the shared venue layer, authenticated, rate limited, and
//! with Kite's error envelope read into typed reasons.

use super::order::{orders_of, success_data, trades_of, KiteOrder, KiteTrade};
use super::{KiteConfig, KiteError, KITE_VERSION};
use crate::live::venue::{Call, Masker, RateLimiter, Reply, VenueHttp, Window};
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// The name the shared layer knows the venue by.
pub(crate) const VENUE: &str = "kite";
/// The instruments dump is large (tens of MB for NFO).
const DUMP_MAX_BODY: usize = 128 << 20;

/// What a call does to orders: a read, or a write counted against the order limits too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cost {
    /// Reads only.
    Read,
    /// Places an order.
    Order,
    /// Changes orders or GTTs (modify, cancel, GTT place/modify/delete): paced by the order
    /// windows like a placement.
    Write,
}

/// Kite's REST API for one account.
#[derive(Debug)]
pub(crate) struct KiteRest {
    pub(crate) http: VenueHttp,
    auth: HeaderValue,
    requests: RateLimiter,
    orders: RateLimiter,
}

/// `pairs` form-encoded.
pub(crate) fn encode(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl KiteRest {
    /// A client for `config`'s account, masking its key and token everywhere.
    pub(crate) fn new(config: &KiteConfig) -> Result<Self, BrokerError> {
        config.validate()?;
        let masker = Masker::new([
            config.api_key.clone(),
            config.access_token.clone(),
            config.authorization(),
        ]);
        let http = VenueHttp::new(VENUE, &config.api_url, config.http, masker)?;
        let mut auth = HeaderValue::from_str(config.authorization().expose()).map_err(|_| {
            BrokerError::Config(
                "the Kite API key or access token holds characters a header cannot carry: check KITE_API_KEY and log in again".into(),
            )
        })?;
        auth.set_sensitive(true);
        let second = Duration::from_secs(1);
        Ok(Self {
            http,
            auth,
            requests: RateLimiter::new([Window::new(config.requests_per_second, second)]),
            orders: RateLimiter::new([
                Window::new(config.orders_per_second, second),
                Window::new(config.orders_per_minute, Duration::from_secs(60)),
                Window::new(config.orders_per_day, Duration::from_secs(86_400)),
            ]),
        })
    }

    /// `reason` as the Kite broker's error, masked.
    pub(crate) fn error(&self, reason: VenueReason) -> BrokerError {
        self.http.error(reason)
    }

    /// Sends an authenticated call and returns the venue's answer, whatever its status.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        form: Option<String>,
        cost: Cost,
        max_body: Option<usize>,
    ) -> Result<Reply, BrokerError> {
        if cost != Cost::Read {
            self.orders.acquire(1).await;
        }
        self.requests.acquire(1).await;
        self.http
            .send(|| {
                let mut call = Call::new(method.clone(), path)
                    .header(
                        HeaderName::from_static("x-kite-version"),
                        HeaderValue::from_static(KITE_VERSION.1),
                    )
                    .header(AUTHORIZATION, self.auth.clone());
                if let Some(form) = &form {
                    call = call.form(form.clone());
                }
                if let Some(max) = max_body {
                    call = call.max_body(max);
                }
                Ok(call)
            })
            .await
    }

    /// The typed reason of an error answer.
    pub(crate) fn reason_of(reply: &Reply) -> VenueReason {
        let retry = reply
            .header("retry-after")
            .and_then(tradegraph_core::retry_after::parse);
        KiteError::from_body(&reply.body).reason(reply.status.as_u16(), retry)
    }

    /// A call whose success `data` is returned; any error answer is a [`BrokerError::Venue`].
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        form: Option<String>,
        cost: Cost,
    ) -> Result<Value, BrokerError> {
        let shown = format!("{method} {path}");
        let reply = self.send(method, path, form, cost, None).await?;
        self.data(&shown, &reply)
    }

    /// The `data` of a successful reply, or its typed error.
    pub(crate) fn data(&self, shown: &str, reply: &Reply) -> Result<Value, BrokerError> {
        if !reply.is_success() {
            return Err(self.error(Self::reason_of(reply)));
        }
        success_data(&reply.body).map_err(|e| self.unreadable(shown, &e))
    }

    /// An answer that could not be read.
    pub(crate) fn unreadable(&self, shown: &str, what: &str) -> BrokerError {
        self.error(VenueReason::Other {
            code: "unreadable".into(),
            message: format!("{shown}: {what}"),
        })
    }

    /// `GET /orders`: today's orders.
    pub(crate) async fn orders(&self) -> Result<Vec<KiteOrder>, BrokerError> {
        let data = self.call(Method::GET, "/orders", None, Cost::Read).await?;
        orders_of(&data).map_err(|e| self.unreadable("GET /orders", &e))
    }

    /// `GET /orders/{id}`: the order's history; its last state.
    pub(crate) async fn order(&self, order_id: &str) -> Result<Option<KiteOrder>, BrokerError> {
        let path = format!("/orders/{}", urlencode(order_id));
        let data = self.call(Method::GET, &path, None, Cost::Read).await?;
        let history = orders_of(&data).map_err(|e| self.unreadable(&path, &e))?;
        Ok(history.into_iter().last())
    }

    /// `GET /orders/{id}/trades`.
    pub(crate) async fn trades(&self, order_id: &str) -> Result<Vec<KiteTrade>, BrokerError> {
        let path = format!("/orders/{}/trades", urlencode(order_id));
        let data = self.call(Method::GET, &path, None, Cost::Read).await?;
        trades_of(&data).map_err(|e| self.unreadable(&path, &e))
    }

    /// `GET /instruments/{exchange}`: the dump's CSV text.
    pub(crate) async fn instruments(&self, exchange: &str) -> Result<String, BrokerError> {
        let path = format!("/instruments/{}", urlencode(exchange));
        let reply = self
            .send(Method::GET, &path, None, Cost::Read, Some(DUMP_MAX_BODY))
            .await?;
        if !reply.is_success() {
            return Err(self.error(Self::reason_of(&reply)));
        }
        Ok(reply.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_encoded() {
        let form = encode(&[("a", "x y".into()), ("json", "[{\"p\":1.5}]".into())]);
        assert_eq!(form, "a=x%20y&json=%5B%7B%22p%22%3A1.5%7D%5D");
    }
}
