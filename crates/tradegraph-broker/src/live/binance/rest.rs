//! Signed REST calls: the key header, `timestamp` from the local clock plus the server-time
//! offset, `recvWindow`, the signature; the request weight kept under the limit; Binance's
//! error answers classified.

use super::codes::{classify, classify_status, ApiError, Classified};
use super::config::BinanceConfig;
use super::sign::{Query, Signer};
use crate::live::venue::{Call, Masker, RateLimiter, Reply, VenueHttp, Window};
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// How long past the venue's minute boundary a paced request waits (the offset's error).
const MINUTE_MARGIN_MS: u64 = 500;

/// What a signed call came to, short of a failed request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// 2xx: the body.
    Done(String),
    /// The venue refused the order (balance, filter, market closed, other), masked.
    Refused(VenueReason),
    /// `-2010 Duplicate order sent.`
    Duplicate,
    /// `-2011`/`-2013`: the venue does not know the order.
    Unknown,
    /// HTTP 409 (`-2021`, a cancel-replace that half failed): the body (masked), whose `data`
    /// says which half did what.
    Conflict(String),
}

/// The largest offset from Binance's clock taken as a clock skew (ms): a day.
const MAX_OFFSET_MS: u64 = 86_400_000;

pub(crate) struct Rest {
    http: VenueHttp,
    signer: Signer,
    api_key: HeaderValue,
    recv_window: u64,
    offset_ms: AtomicI64,
    synced_at: Mutex<Option<Instant>>,
    sync_every: Duration,
    limiter: RateLimiter,
    slow_until: Mutex<Option<Instant>>,
    headroom: u32,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("base", &self.http.base_shown())
            .finish_non_exhaustive()
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Rest {
    pub(crate) fn new(config: &BinanceConfig) -> Result<Self, BrokerError> {
        let masker = Masker::new([config.api_key.clone(), config.api_secret.clone()]);
        let http = VenueHttp::new("binance", &config.base_url, config.http, masker)?;
        let mut api_key = HeaderValue::from_str(config.api_key.expose()).map_err(|_| {
            BrokerError::Config("binance: api_key has characters a header cannot carry".into())
        })?;
        api_key.set_sensitive(true);
        let headroom = config
            .weight_per_minute
            .saturating_mul(config.weight_headroom_pct)
            / 100;
        Ok(Self {
            http,
            signer: Signer::new(&config.api_secret),
            api_key,
            recv_window: config.recv_window_ms,
            offset_ms: AtomicI64::new(0),
            synced_at: Mutex::new(None),
            sync_every: config.time_sync_every,
            limiter: RateLimiter::new([Window::new(headroom.max(1), Duration::from_secs(60))]),
            slow_until: Mutex::new(None),
            headroom,
        })
    }

    pub(crate) fn masker(&self) -> &Masker {
        self.http.masker()
    }

    pub(crate) fn error(&self, reason: VenueReason) -> BrokerError {
        self.http.error(reason)
    }

    /// The server's clock now, as this broker estimates it (ms).
    pub(crate) fn server_now(&self) -> i64 {
        wall_ms().saturating_add(self.offset_ms.load(Ordering::Acquire))
    }

    /// Measures the server-time offset (`GET /api/v3/time`), halfway through the round trip.
    pub(crate) async fn sync_time(&self) -> Result<i64, BrokerError> {
        let before = wall_ms();
        let reply = self.public("/api/v3/time", String::new(), 1).await?;
        let after = wall_ms();
        let server = serde_json::from_str::<serde_json::Value>(&reply)
            .ok()
            .and_then(|v| v.get("serverTime").and_then(serde_json::Value::as_i64))
            .ok_or_else(|| {
                self.error(VenueReason::Other {
                    code: "time".into(),
                    message: "GET /api/v3/time did not answer a serverTime".into(),
                })
            })?;
        // A day away or more is no clock skew but a garbled answer (or a clock to fix): signed
        // requests would carry a wrong timestamp.
        let offset = server
            .checked_sub(before.midpoint(after))
            .filter(|o| o.unsigned_abs() < MAX_OFFSET_MS)
            .ok_or_else(|| {
                self.error(VenueReason::Other {
                    code: "time".into(),
                    message: format!(
                        "GET /api/v3/time answered a serverTime ({server}) a day or more away from this machine's clock ({after}): check the clock"
                    ),
                })
            })?;
        self.offset_ms.store(offset, Ordering::Release);
        *self
            .synced_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        tracing::debug!(offset_ms = offset, "binance server time offset measured");
        Ok(offset)
    }

    /// Waits for room under the weight limits, but never longer than the client's longest
    /// in-call wait: an order call runs in the engine's loop, which must stay free (the kill
    /// switch); a longer wait is [`VenueReason::RateLimited`] with how long, and nothing is
    /// sent.
    async fn pace(&self, weight: u32) -> Result<(), BrokerError> {
        let max = self.http.max_wait();
        let limited = |wait: Duration| {
            self.error(VenueReason::RateLimited {
                retry_after: Some(wait),
                banned: false,
            })
        };
        let until = *self
            .slow_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(until) = until.filter(|u| *u > Instant::now()) {
            let wait = until - Instant::now();
            if wait > max {
                tracing::warn!(wait_ms = wait.as_millis() as u64, "binance request weight near the limit: nothing is sent until the venue's next minute");
                return Err(limited(wait));
            }
            tokio::time::sleep_until(until).await;
        }
        let deadline = Instant::now() + max;
        loop {
            match self.limiter.try_acquire(weight) {
                Ok(()) => return Ok(()),
                Err(wait) if Instant::now() + wait > deadline => return Err(limited(wait)),
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    fn note_weight(&self, reply: &Reply) {
        let Some(used) = reply
            .header("x-mbx-used-weight-1m")
            .and_then(|u| u.trim().parse::<u32>().ok())
        else {
            return;
        };
        metrics::gauge!(crate::metrics::BINANCE_USED_WEIGHT).set(f64::from(used));
        if used >= self.headroom {
            // Other clients on this IP count too: wait for the next minute's window.
            let into_minute = u64::try_from(self.server_now().rem_euclid(60_000)).unwrap_or(0);
            // Past the minute's end by a margin: the server-time offset is an estimate.
            let wait = Duration::from_millis(60_000 - into_minute + MINUTE_MARGIN_MS);
            tracing::warn!(
                used,
                limit = self.headroom,
                wait_ms = wait.as_millis() as u64,
                "binance request weight near its limit: slowing down until the next minute"
            );
            *self
                .slow_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + wait);
        }
    }

    /// An unsigned GET; the body of a 2xx.
    pub(crate) async fn public(
        &self,
        path: &'static str,
        query: String,
        weight: u32,
    ) -> Result<String, BrokerError> {
        self.pace(weight).await?;
        let reply = self
            .http
            .send(|| Ok(Call::new(Method::GET, path).query(query.clone())))
            .await?;
        self.note_weight(&reply);
        if reply.is_success() {
            return Ok(reply.body);
        }
        Err(self.error(match self.classified(&reply) {
            Classified::Reason(r) => r,
            _ => classify_status(reply.status.as_u16(), None),
        }))
    }

    fn classified(&self, reply: &Reply) -> Classified {
        match serde_json::from_str::<ApiError>(&reply.body) {
            Ok(e) => classify(
                reply.status.as_u16(),
                e.code,
                &self.masker().mask(&e.msg),
                None,
            ),
            Err(_) => Classified::Reason(classify_status(reply.status.as_u16(), None)),
        }
    }

    /// A signed call: `params` writes the call's parameters; `recvWindow`, `timestamp` and
    /// `signature` follow. A `-1021` (clock skew) measures the offset again and sends once
    /// more.
    pub(crate) async fn signed(
        &self,
        method: Method,
        path: &'static str,
        weight: u32,
        params: &(dyn Fn(&mut Query) + Send + Sync),
    ) -> Result<Outcome, BrokerError> {
        let due = self
            .synced_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|at| at.elapsed() >= self.sync_every);
        if due {
            self.sync_time().await?;
        }
        for attempt in 0..2 {
            self.pace(weight).await?;
            let reply = self
                .http
                .send(|| Ok(self.call(method.clone(), path, params)))
                .await?;
            self.note_weight(&reply);
            if reply.is_success() {
                return Ok(Outcome::Done(reply.body));
            }
            if reply.status.as_u16() == 409 {
                return Ok(Outcome::Conflict(self.masker().mask(&reply.body)));
            }
            match self.classified(&reply) {
                Classified::ClockSkew if attempt == 0 => {
                    tracing::warn!("binance refused the timestamp (-1021): measuring the server time again and sending once more");
                    self.sync_time().await?;
                }
                Classified::ClockSkew => {
                    return Err(self.error(VenueReason::Other {
                        code: "-1021".into(),
                        message: "the timestamp is outside recvWindow even after measuring the server time again: check the machine's clock (NTP) or raise recv_window_ms".into(),
                    }))
                }
                Classified::Duplicate => return Ok(Outcome::Duplicate),
                Classified::Reason(VenueReason::UnknownOrder) => return Ok(Outcome::Unknown),
                Classified::Reason(r) if r.is_refusal() => return Ok(Outcome::Refused(r)),
                Classified::Reason(r) => return Err(self.error(r)),
            }
        }
        Err(self.error(VenueReason::Unavailable(
            "no answer after resynchronising the clock".into(),
        )))
    }

    /// Builds one attempt: the parameters, `recvWindow`, a fresh `timestamp`, the signature.
    pub(crate) fn call(
        &self,
        method: Method,
        path: &'static str,
        params: &(dyn Fn(&mut Query) + Send + Sync),
    ) -> Call {
        let mut query = Query::with_capacity(256);
        params(&mut query);
        query
            .push_num("recvWindow", self.recv_window)
            .push_num("timestamp", self.server_now());
        self.signer.sign(&mut query);
        Call::new(method, path).query(query.into_string()).header(
            HeaderName::from_static("x-mbx-apikey"),
            self.api_key.clone(),
        )
    }

    /// The signature of the WebSocket API's subscription (parameters sorted by name).
    pub(crate) fn ws_subscribe_params(&self, api_key: &str) -> serde_json::Value {
        let ts = self.server_now();
        let payload = format!(
            "apiKey={api_key}&recvWindow={}&timestamp={ts}",
            self.recv_window
        );
        serde_json::json!({
            "apiKey": api_key,
            "recvWindow": self.recv_window,
            "timestamp": ts,
            "signature": self.signer.signature(&payload),
        })
    }
}
