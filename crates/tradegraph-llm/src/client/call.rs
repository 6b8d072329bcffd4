//! One call through the chain: cache, budget, admission, the provider, bookkeeping, failover.

use super::member::{Admission, Member, ProbeGuard};
use super::Inner;
use crate::cache::{CacheKey, CacheMode, CacheRecord};
use crate::fallback::{Blocked, BreakerState, LlmEvent, Permit, Transition};
use crate::metrics::CallLabels;
use crate::structured::{decode, run_structured, Decoded, Decoder};
use crate::{FailedAttempt, LlmError, PreparedSchema, Request, Response, Usage};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tracing::Instrument;

/// Undoes, when dropped armed, what a member admitted: the tokens back to its limiter, a
/// half-open probe released.
struct Unadmit<'a> {
    member: &'a Member,
    tokens: u64,
    armed: bool,
}

impl Drop for Unadmit<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.member.lock();
            state.limiter.refund(self.tokens);
            state.breaker.on_abandoned();
        }
    }
}

/// What to do with each provider.
#[derive(Clone, Copy)]
pub(crate) enum Op<'a> {
    /// A text answer.
    Text,
    /// A validated answer, repaired if need be.
    Structured {
        schema: &'a PreparedSchema,
        decoder: Decoder<'a>,
    },
}

/// A finished call.
pub(crate) struct Done {
    pub(crate) response: Response,
    pub(crate) value: Option<Decoded>,
    pub(crate) repairs: u32,
}

enum Step {
    Done(Box<Done>),
    Next(LlmError),
    Stop(LlmError),
}

/// Whether a failed attempt's answer was billed by the vendor though its usage is unknown: an
/// answer the model generated, then cut at the token limit, refused, filtered or left empty.
/// What may never have reached the model (a timeout, which a connection that could not be
/// made in time also is; an unreadable body, a proxy's page; a 401, 429, 5xx or bad request)
/// is not charged: a provider that is down must not spend the budget its backup needs (a
/// request that reached a slow vendor and timed out may be billed all the same: the budgets
/// do not see it).
fn billed_unknown(error: &LlmError) -> bool {
    matches!(
        error,
        LlmError::Truncated { .. }
            | LlmError::Refusal { .. }
            | LlmError::ContentFilter { .. }
            | LlmError::EmptyAnswer { .. }
    )
}

/// `member` was not asked `request` (`error` says why): the provider hears of it (a recording
/// notes it, so that a replay skips it too), and it is the call's attempt there.
fn passed_over(member: &Member, request: &Request, error: LlmError) -> FailedAttempt {
    member.provider.skipped(request);
    FailedAttempt {
        provider: member.name().to_owned(),
        error,
    }
}

impl Inner {
    /// Announces a call or a turn the budget refused (`BudgetExceeded`; other errors are not
    /// refusals and say nothing here).
    fn announce_refusal(&self, error: &LlmError) {
        if let LlmError::BudgetExceeded { window, what } = error {
            self.events.emit(LlmEvent::BudgetExceeded {
                window: *window,
                what: what.clone(),
            });
        }
    }

    pub(crate) async fn call(&self, request: &Request, op: Op<'_>) -> Result<Done, LlmError> {
        if self.members.is_empty() {
            return Err(LlmError::NoProviders);
        }
        if self.cache_mode == CacheMode::ReplayOnly {
            // The configured order, whatever the selection: a replay must be deterministic.
            let order: Vec<usize> = (0..self.members.len()).collect();
            return self.replay(request, op, &order).await;
        }
        let order = self.order();
        let tokens = request.estimated_tokens();
        let mut attempts = Vec::new();
        let mut deferred: Vec<usize> = Vec::new();
        for &i in &order {
            let member = &self.members[i];
            if member.provider.skips(request) {
                // passed over, as the recording's chain did (a replay)
                attempts.push(FailedAttempt {
                    provider: member.name().to_owned(),
                    error: LlmError::CircuitOpen {
                        provider: member.name().to_owned(),
                        retry_in: Duration::ZERO,
                    },
                });
                continue;
            }
            if let Some(done) = self.cache_first(member, request, op).await {
                return Ok(done);
            }
            match self.admit(member, tokens, None).await {
                Admission::Go(permit, transition) => {
                    self.transition(member, transition);
                    match self.attempt(member, request, op, permit).await {
                        Step::Done(done) => return Ok(*done),
                        Step::Next(error) => attempts.push(FailedAttempt {
                            provider: member.name().to_owned(),
                            error,
                        }),
                        Step::Stop(error) => return Err(error),
                    }
                }
                Admission::Later(_) => deferred.push(i),
                Admission::Skip(error) => attempts.push(passed_over(member, request, error)),
            }
        }
        if !deferred.is_empty() {
            if let Some(done) = self
                .wait_for_deferred(request, op, tokens, deferred, &mut attempts)
                .await?
            {
                return Ok(done);
            }
        }
        if self.members.len() == 1 {
            if let Some(only) = attempts.pop() {
                return Err(only.error);
            }
        }
        Err(LlmError::AllFailed { attempts })
    }

    /// Admits a call of about `tokens` tokens to `member`: its own limits, then the shared
    /// ones. A call the shared buckets cannot take now gives back what it took of the member's
    /// and waits like any rate-limited call. When the shared buckets cannot be consulted, the
    /// member's own limits decide (logged).
    async fn admit(
        &self,
        member: &Member,
        tokens: u64,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Admission {
        let admitted = member.admit_with(tokens, slot);
        let (Some(shared), Admission::Go(permit, transition)) = (&self.shared, &admitted) else {
            return admitted;
        };
        let limits = member.limits;
        if limits.requests_per_minute.is_none() && limits.tokens_per_minute.is_none() {
            return admitted;
        }
        // Until the shared buckets answer, what the member admitted is undone if the caller
        // gives up (a cycle's deadline): its tokens back, a half-open probe released.
        let mut undo = Unadmit {
            member,
            tokens: permit.tokens,
            armed: true,
        };
        match shared.take(member.name(), limits, tokens).await {
            Some(wait) if !wait.is_zero() => {
                self.transition(member, *transition);
                drop(undo);
                Admission::Later(Blocked::Rate(wait))
            }
            _ => {
                undo.armed = false;
                admitted
            }
        }
    }

    /// Corrects the shared token bucket with a call's real usage (on a task of its own).
    fn settle_shared(&self, member: &Member, estimated: u64, actual: u64) {
        if let Some(shared) = &self.shared {
            shared.settle(member.name(), member.limits, estimated, actual);
        }
    }

    /// The providers that were only at their rate or concurrency limit: waits (at most
    /// `max_wait`) for whichever frees up first, and tries it.
    async fn wait_for_deferred(
        &self,
        request: &Request,
        op: Op<'_>,
        tokens: u64,
        deferred: Vec<usize>,
        attempts: &mut Vec<FailedAttempt>,
    ) -> Result<Option<Done>, LlmError> {
        let deadline = crate::later(Instant::now(), self.max_wait);
        let mut pending = deferred;
        let mut slots: HashMap<usize, OwnedSemaphorePermit> = HashMap::new();
        'scan: while !pending.is_empty() {
            let mut rate_wait: Option<Duration> = None;
            let mut busy = Vec::new();
            for (at, &i) in pending.iter().enumerate() {
                let member = &self.members[i];
                match self.admit(member, tokens, slots.remove(&i)).await {
                    Admission::Go(permit, transition) => {
                        pending.remove(at);
                        self.transition(member, transition);
                        match self.attempt(member, request, op, permit).await {
                            Step::Done(done) => return Ok(Some(*done)),
                            Step::Next(error) => attempts.push(FailedAttempt {
                                provider: member.name().to_owned(),
                                error,
                            }),
                            Step::Stop(error) => return Err(error),
                        }
                        continue 'scan;
                    }
                    Admission::Later(Blocked::Rate(w)) => {
                        rate_wait = Some(rate_wait.map_or(w, |r| r.min(w)))
                    }
                    Admission::Later(Blocked::Busy) => busy.push(i),
                    Admission::Skip(error) => {
                        pending.remove(at);
                        attempts.push(passed_over(member, request, error));
                        continue 'scan;
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                for i in pending {
                    let member = &self.members[i];
                    let error = LlmError::RateLimited {
                        provider: member.name().to_owned(),
                        retry_after: rate_wait,
                    };
                    attempts.push(passed_over(member, request, error));
                }
                break;
            }
            // Whichever comes first: a rate limit refills, or a busy provider frees a slot.
            let sleep = rate_wait.unwrap_or(deadline - now).min(deadline - now);
            let mut waits: Vec<BoxFuture<'_, Option<(usize, OwnedSemaphorePermit)>>> =
                vec![Box::pin(async move {
                    tokio::time::sleep(sleep).await;
                    None
                })];
            for i in busy {
                if let Some(sem) = self.members[i].lock().limiter.semaphore() {
                    waits.push(Box::pin(async move {
                        sem.acquire_owned().await.ok().map(|slot| (i, slot))
                    }));
                }
            }
            if let (Some((i, slot)), _, _) = futures::future::select_all(waits).await {
                slots.insert(i, slot);
            }
        }
        Ok(None)
    }

    async fn replay(
        &self,
        request: &Request,
        op: Op<'_>,
        order: &[usize],
    ) -> Result<Done, LlmError> {
        let mut first_key = None;
        let mut tried = Vec::new();
        for &i in order {
            let member = &self.members[i];
            let key = CacheKey::for_provider(member.provider.as_ref(), request);
            if let Some(done) = self.cached(member, &key, op, true, request).await? {
                labels(member, &done.response.model, request).counted("cached");
                return Ok(done);
            }
            first_key.get_or_insert(key);
            tried.push(member.name().to_owned());
        }
        Err(LlmError::CacheMiss {
            key: first_key.map(|k| k.as_str().to_owned()).unwrap_or_default(),
            providers: tried.join(", "),
        })
    }

    /// A read-write cache's answer for `member`, looked up before the chain admits the call:
    /// a cached answer waits for no rate limit and no breaker.
    async fn cache_first(&self, member: &Member, request: &Request, op: Op<'_>) -> Option<Done> {
        if self.cache_mode != CacheMode::ReadWrite {
            return None;
        }
        let key = CacheKey::for_provider(member.provider.as_ref(), request);
        let done = self.cached(member, &key, op, false, request).await.ok()??;
        labels(member, &done.response.model, request).counted("cached");
        Some(done)
    }

    /// The recorded answer for `key`, decoded for `op`. Records that no longer decode (a
    /// changed type) are misses.
    async fn cached(
        &self,
        member: &Member,
        key: &CacheKey,
        op: Op<'_>,
        strict: bool,
        request: &Request,
    ) -> Result<Option<Done>, LlmError> {
        let Some(cache) = &self.cache else {
            return Ok(None);
        };
        let record = match cache.get(key).await {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(e) if strict => return Err(e),
            Err(e) => {
                tracing::warn!(provider = member.name(), error = %e, "cache read failed; asking the provider");
                return Ok(None);
            }
        };
        let mut response = record.response;
        response.cached = true;
        response.latency = Duration::ZERO;
        response.cost = Some(rust_decimal::Decimal::ZERO);
        response.provider = member.name().to_owned();
        let value = match op {
            Op::Text => None,
            Op::Structured { schema, decoder } => {
                match decode(schema, &response.content, decoder) {
                    Ok((value, _)) => Some(value),
                    Err(problems) => {
                        tracing::warn!(provider = member.name(), key = %key, problem = %problems[0], "a cached answer no longer validates; ignoring it");
                        return Ok(None);
                    }
                }
            }
        };
        member.lock().health.cache_hits += 1;
        self.ledger().record_cached(member.name());
        self.events.emit(LlmEvent::Call {
            provider: member.name().to_owned(),
            agent: request.agent.clone(),
            model: response.model.clone(),
            usage: Usage::default(),
            cost: rust_decimal::Decimal::ZERO,
            latency: Duration::ZERO,
            cached: true,
            repairs: 0,
        });
        Ok(Some(Done {
            response,
            value,
            repairs: 0,
        }))
    }

    async fn attempt(
        &self,
        member: &Member,
        request: &Request,
        op: Op<'_>,
        permit: Permit,
    ) -> Step {
        let mut guard = ProbeGuard {
            member,
            armed: true,
        };
        // (a cached answer was looked up before the call was admitted: `cache_first`)
        let key = (self.cache_mode == CacheMode::ReadWrite && self.cache.is_some())
            .then(|| CacheKey::for_provider(member.provider.as_ref(), request));
        let model = request.model_or(member.provider.model()).to_owned();
        let meter = labels(member, &model, request);
        let worst = estimate(request);
        // A replay refuses what its recording's budget refused, before its own budget.
        let reserved = match member.provider.budget_refusal(request) {
            Some(refusal) => Err(refusal),
            None => self.ledger().reserve(member.name(), &model, worst),
        };
        if let Err(refusal @ LlmError::BudgetExceeded { .. }) = &reserved {
            member.provider.budget_refused(request, refusal);
        }
        let held = match reserved {
            Ok(reservation) => Held {
                inner: self,
                taken: std::sync::Mutex::new(Some((reservation, worst))),
                provider: member.name(),
                model: &model,
                agent: request.agent.as_deref(),
            },
            Err(error) => {
                meter.counted(error.kind().label());
                self.announce_refusal(&error);
                return Step::Stop(error);
            }
        };
        // the agent asking: a node's own span is at debug level, so the call's lines name it
        let span = tracing::info_span!(
            "llm_call",
            provider = member.name(),
            model = %model,
            agent = request.agent.as_deref().unwrap_or("-"),
        );
        let started = Instant::now();
        let (result, spent) = async {
            match op {
                Op::Text => {
                    let r = member.provider.complete(request).await;
                    let spent = r.as_ref().map_or(Usage::default(), |resp| resp.usage);
                    (r.map(|resp| (None, resp, 0)), spent)
                }
                Op::Structured { schema, decoder } => {
                    // Each repair turn is another call the vendor bills: it takes its
                    // place in the budget before it is sent.
                    // A replay refuses the turns its recording's budget refused; a
                    // recording notes the turns its budget refuses.
                    let admit_turn = |turn: &Request, spent: Usage| {
                        if let Some(refusal) = member.provider.budget_refusal(turn) {
                            self.announce_refusal(&refusal);
                            return Err(refusal);
                        }
                        held.extend(spent, estimate(turn)).inspect_err(|refusal| {
                            member.provider.budget_refused(turn, refusal);
                        })
                    };
                    let out = run_structured(
                        member.provider.as_ref(),
                        request,
                        schema,
                        self.repair.as_ref(),
                        decoder,
                        &admit_turn,
                    )
                    .await;
                    (
                        out.result
                            .map(|(v, resp, repairs)| (Some(v), resp, repairs)),
                        out.spent,
                    )
                }
            }
        }
        .instrument(span.clone())
        .await;
        let mut spent = spent;
        let taken = held.take();
        if let Err(error) = &result {
            if billed_unknown(error) {
                // The vendor generated (or may still be generating) an answer it bills, whose
                // usage the error does not carry: the worst case of the turn that failed (what
                // the reservation covered beyond the turns before it), as for a call abandoned
                // in flight, so that the budgets hold however often answers fail.
                spent = match &taken {
                    Some((_, covered)) if covered.total() > spent.total() => *covered,
                    _ => {
                        let mut with = spent;
                        with += worst;
                        with
                    }
                };
            }
        }
        let elapsed = started.elapsed();
        member.lock().limiter.settle(permit.tokens, spent.total());
        self.settle_shared(member, permit.tokens, spent.total());
        drop(permit);
        let cost = match taken {
            Some((reservation, _)) => {
                self.ledger()
                    .settle(reservation, member.name(), &model, spent)
            }
            None => self.ledger().record(member.name(), &model, spent),
        };
        guard.armed = false;
        match result {
            Ok((value, mut response, repairs)) => {
                let transition = {
                    let mut state = member.lock();
                    state.health.record_success(elapsed);
                    state.breaker.on_success()
                };
                self.transition(member, transition);
                meter.called("ok", elapsed, spent, cost);
                meter.repaired(repairs);
                response.cost = cost;
                tracing::debug!(parent: &span, latency_ms = elapsed.as_millis() as u64, tokens = spent.total(), repairs, "llm call answered");
                // Reported before the cache write: the accounting is settled, and a caller that
                // gives up during that await (a node timeout) must not hide the call from the
                // usage ledger (`UsageBook::run == accounting().run`).
                self.events.emit(LlmEvent::Call {
                    provider: member.name().to_owned(),
                    agent: request.agent.clone(),
                    model: response.model.clone(),
                    usage: spent,
                    cost: cost.unwrap_or_default(),
                    latency: response.latency,
                    cached: false,
                    repairs,
                });
                if let (Some(key), Some(cache)) = (key, &self.cache) {
                    let record = CacheRecord {
                        key,
                        response: Response {
                            cost: None,
                            ..response.clone()
                        },
                    };
                    if let Err(e) = cache.put(record).await {
                        tracing::warn!(error = %e, "could not record the answer in the cache");
                    }
                }
                Step::Done(Box::new(Done {
                    response,
                    value,
                    repairs,
                }))
            }
            Err(error) => {
                // A repair turn the budget refused is no fault of the provider's.
                let refused = matches!(error, LlmError::BudgetExceeded { .. });
                if refused {
                    // The provider answered (a half-open probe among them): its breaker
                    // closes, as for any answer.
                    let transition = member.lock().breaker.on_success();
                    self.transition(member, transition);
                } else {
                    self.record_failure(member, &error);
                }
                meter.called(error.kind().label(), elapsed, spent, cost);
                self.events.emit(LlmEvent::CallFailed {
                    provider: member.name().to_owned(),
                    agent: request.agent.clone(),
                    model: model.clone(),
                    usage: spent,
                    cost: cost.unwrap_or_default(),
                    kind: error.kind(),
                });
                if !refused && self.failover.fail_over(&error) {
                    meter.failed_over(error.kind());
                    tracing::warn!(parent: &span, error = %error, "llm call failed; failing over");
                    self.events.emit(LlmEvent::Failover {
                        provider: member.name().to_owned(),
                        kind: error.kind(),
                        message: error.to_string(),
                    });
                    Step::Next(error)
                } else {
                    tracing::warn!(parent: &span, error = %error, "llm call failed");
                    Step::Stop(error)
                }
            }
        }
    }

    fn record_failure(&self, member: &Member, error: &LlmError) {
        let now = Instant::now();
        let (transition, disabled) = {
            let mut state = member.lock();
            state.health.record_failure(error);
            if error.is_auth() {
                let first = !state.disabled;
                state.disabled = true;
                (None, first)
            } else if error.is_provider_failure() {
                (state.breaker.on_failure(now, error.retry_after()), false)
            } else {
                (state.breaker.on_success(), false)
            }
        };
        self.transition(member, transition);
        if disabled {
            if let LlmError::Unauthorized { status, .. } = error {
                tracing::error!(
                    provider = member.name(),
                    status,
                    "API key rejected; provider disabled"
                );
                self.events.emit(LlmEvent::ProviderDisabled {
                    provider: member.name().to_owned(),
                    status: *status,
                });
            }
        }
    }

    fn transition(&self, member: &Member, transition: Option<Transition>) {
        let provider = member.name().to_owned();
        if let Some(transition) = transition {
            let state = match transition {
                Transition::Opened(_) => BreakerState::Open,
                Transition::HalfOpened => BreakerState::HalfOpen,
                Transition::Closed => BreakerState::Closed,
            };
            crate::metrics::breaker(&provider, state);
        }
        let event = match transition {
            None => return,
            Some(Transition::Opened(retry_in)) => {
                tracing::warn!(provider = %provider, retry_in_ms = retry_in.as_millis() as u64, "circuit opened");
                LlmEvent::CircuitOpened { provider, retry_in }
            }
            Some(Transition::HalfOpened) => LlmEvent::CircuitHalfOpen { provider },
            Some(Transition::Closed) => {
                tracing::info!(provider = %provider, "circuit closed");
                LlmEvent::CircuitClosed { provider }
            }
        };
        self.events.emit(event);
    }
}

/// The metric labels of a call to `member` for `request`.
fn labels<'a>(member: &'a Member, model: &'a str, request: &'a Request) -> CallLabels<'a> {
    CallLabels {
        provider: member.name(),
        model,
        agent: request
            .agent
            .as_deref()
            .unwrap_or(crate::metrics::UNKNOWN_AGENT),
    }
}

/// The size a call may reach: the prompt estimate in, the answer limit out.
fn estimate(request: &Request) -> Usage {
    let output = u64::from(request.max_tokens.unwrap_or(Request::DEFAULT_MAX_TOKENS));
    let input = request.estimated_tokens().saturating_sub(output);
    Usage::new(input, output)
}

/// A call's place in the budget while it is in flight. A call dropped before it settles (the
/// caller gave up: a cycle's deadline, a node's timeout) was already sent, and the vendor may
/// bill it: it is charged its worst case (the prompt estimate and the answer limit of every
/// turn sent), counted as a call, and reported as a call that failed by timing out, so the
/// budget still holds however often callers give up.
struct Held<'a> {
    inner: &'a Inner,
    /// The reservation and the worst case it covers (every turn admitted), until settled.
    taken: std::sync::Mutex<Option<(crate::budget::Reservation, Usage)>>,
    provider: &'a str,
    model: &'a str,
    agent: Option<&'a str>,
}

impl Held<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(crate::budget::Reservation, Usage)>> {
        self.taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Another turn of the call (a repair turn) of size `worst`, its turns so far having spent
    /// `spent`: admitted by the budget or refused (`BudgetExceeded`, announced as a refused
    /// call is).
    fn extend(&self, spent: Usage, worst: Usage) -> Result<(), LlmError> {
        let mut taken = self.lock();
        let Some((reservation, covered)) = taken.as_mut() else {
            return Ok(());
        };
        let extended =
            self.inner
                .ledger()
                .extend(reservation, self.provider, self.model, spent, worst);
        match extended {
            Ok(()) => {
                *covered = spent;
                *covered += worst;
                Ok(())
            }
            Err(error) => {
                *covered = spent;
                drop(taken);
                self.inner.announce_refusal(&error);
                Err(error)
            }
        }
    }

    /// The reservation, to settle with what the call spent.
    fn take(&self) -> Option<(crate::budget::Reservation, Usage)> {
        self.lock().take()
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let Some((reservation, worst)) = self.take() else {
            return;
        };
        let cost = self
            .inner
            .ledger()
            .settle(reservation, self.provider, self.model, worst);
        tracing::debug!(
            provider = self.provider,
            model = self.model,
            tokens = worst.total(),
            "llm call abandoned in flight: charged its worst case"
        );
        // A call that did not answer in the time its caller gave it.
        self.inner.events.emit(LlmEvent::CallFailed {
            provider: self.provider.to_owned(),
            agent: self.agent.map(str::to_owned),
            model: self.model.to_owned(),
            usage: worst,
            cost: cost.unwrap_or_default(),
            kind: crate::ErrorKind::Timeout,
        });
    }
}
