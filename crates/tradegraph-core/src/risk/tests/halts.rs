//! Kill switch, daily loss, market hours, circuit breaker, open positions and unusable inputs.

use super::*;

#[test]
fn the_kill_switch_blocks_entries_and_closes_positions() {
    let switch = KillSwitch::new();
    let mut guard = RiskGuard::default().with_kill_switch(switch.clone());
    let fx = Fx::btc().holding("BTCUSDT", "0.05", "40000");
    switch.engage();
    let v = fx.judge(&mut guard, &buy(1.0, 39_000.0));
    assert_eq!(v.status, VerdictStatus::Rejected);
    assert!(has(&v, Effect::Rejected, |r| *r == RiskReason::KillSwitch));
    assert!(v.is_forced_close());
    assert_close_of(&v, "0.05");
    let v = fx.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    assert_close_of(&v, "0.05");
    switch.release();
    let v = fx.judge(&mut guard, &buy(1.0, 39_000.0));
    assert_eq!(v.status, VerdictStatus::Approved, "{v}");

    let mut only_blocks = RiskGuard::new(RiskLimits {
        kill_switch_closes_positions: false,
        ..RiskLimits::default()
    })
    .unwrap()
    .with_kill_switch(switch.clone());
    switch.engage();
    let v = fx.judge(&mut only_blocks, &buy(1.0, 39_000.0));
    assert!(v.is_rejected() && v.intent.is_none());
}

#[test]
fn the_daily_loss_limit_halts_entries_for_the_day_and_closes_positions() {
    let mut guard = RiskGuard::default();
    let mut fx = Fx::btc().holding("BTCUSDT", "0.05", "40000");
    fx.account.day_started_at = Some(t("2024-01-01T00:00:00Z"));
    fx.account.equity = d("97900"); // −2.1%
    let v = fx.judge(&mut guard, &buy(1.0, 39_000.0));
    assert!(v.is_rejected());
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::DailyLossLimit { .. }
    )));
    assert_close_of(&v, "0.05");
    assert!(
        v.findings.iter().any(|f| f.to_string()
            == "forced close: daily loss of 2.1% reached the 2% limit: no new entries today"),
        "{v}"
    );
    // A HOLD is overridden by the close.
    let v = fx.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    assert!(v.is_rejected() && v.is_forced_close());
    // Latched: recovering to −1% the same day does not reopen entries.
    let mut flat = Fx::btc();
    flat.account.day_started_at = fx.account.day_started_at;
    flat.account.equity = d("99000");
    let v = flat.judge(&mut guard, &buy(1.0, 39_000.0));
    assert!(
        has(&v, Effect::Rejected, |r| matches!(
            r,
            RiskReason::DailyLossLimit { .. }
        )),
        "{v}"
    );
    // The next trading day starts afresh.
    flat.account.day_started_at = Some(t("2024-01-02T00:00:00Z"));
    flat.account.day_start_equity = d("99000");
    let v = flat.judge(&mut guard, &buy(1.0, 39_000.0));
    assert!(v.is_approved(), "{v}");
    // Just under the limit is allowed.
    let mut fx = Fx::btc();
    fx.account.equity = d("98000.01");
    assert!(fx.judge_fresh(&buy(1.0, 39_000.0)).is_approved());
}

#[test]
fn nse_hours_cutoff_and_square_off() {
    let b = || buy(5.0, 49_500.0);
    let closed = Fx::bank_nifty().at("2025-01-06T09:14:59+05:30");
    let v = closed.judge_fresh(&b());
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::MarketClosed { .. }
    )));
    let weekend = Fx::bank_nifty().at("2025-01-04T11:00:00+05:30");
    assert!(weekend.judge_fresh(&b()).is_rejected());
    assert!(Fx::bank_nifty()
        .at("2025-01-06T09:15:00+05:30")
        .judge_fresh(&b())
        .is_approved());
    assert!(Fx::bank_nifty()
        .at("2025-01-06T14:59:59+05:30")
        .judge_fresh(&b())
        .is_approved());

    let cutoff = Fx::bank_nifty().at("2025-01-06T15:00:00+05:30");
    let v = cutoff.judge_fresh(&b());
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::EntryCutoff { minutes: 30, .. }
    )));

    let square =
        Fx::bank_nifty()
            .at("2025-01-06T15:15:00+05:30")
            .holding("BANKNIFTY", "-30", "50000");
    let v = square.judge_fresh(&Proposal::hold(DecisionId::new("h")));
    assert!(v.is_rejected() && v.is_forced_close(), "{v}");
    assert_close_of(&v, "-30");
    assert!(has(&v, Effect::ForcedClose, |r| matches!(
        r,
        RiskReason::SquareOff { minutes: 15, .. }
    )));
    // A CLOSE is fine near the close, and cannot be done while the market is shut.
    assert!(square
        .judge_fresh(&proposal(Action::Close, 0.0))
        .is_approved());
    let overnight =
        Fx::bank_nifty()
            .at("2025-01-06T16:00:00+05:30")
            .holding("BANKNIFTY", "30", "50000");
    let v = overnight.judge_fresh(&proposal(Action::Close, 0.0));
    assert!(v.is_rejected() && v.intent.is_none());
    // Crypto never closes.
    assert!(Fx::btc()
        .at("2024-01-06T23:59:00Z")
        .judge_fresh(&buy(1.0, 39_000.0))
        .is_approved());
}

#[test]
fn the_circuit_breaker_trips_and_cools_down() {
    let mut guard = RiskGuard::default();
    let mut fx = Fx::btc();
    fx.vol.realized_pct = Some(4.2);
    // A HOLD in a wild bar trips it too.
    let v = fx.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    assert!(v.is_approved());
    assert_eq!(guard.state().breaker_until, Some(t("2024-01-01T10:45:00Z")));
    let v = fx.judge(&mut guard, &buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::CircuitBreaker {
            trigger: VolatilityTrigger::RealizedVolatility,
            ..
        }
    )));
    let mut calm = Fx::btc().at("2024-01-01T10:40:00Z");
    calm.vol.realized_pct = Some(0.5);
    let v = calm.judge(&mut guard, &buy(1.0, 39_000.0));
    assert!(
        has(&v, Effect::Rejected, |r| matches!(
            r,
            RiskReason::CircuitBreakerCooldown { .. }
        )),
        "{v}"
    );
    let later = Fx::btc().at("2024-01-01T10:45:00Z");
    assert!(later.judge(&mut guard, &buy(1.0, 39_000.0)).is_approved());

    let mut range = Fx::btc();
    range.vol.bar_range_pct = Some(7.5);
    let v = range.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::CircuitBreaker {
            trigger: VolatilityTrigger::BarRange,
            ..
        }
    )));
}

#[test]
fn the_number_of_open_positions_is_capped() {
    let fx = Fx::btc()
        .holding("ETHUSDT", "1", "2000")
        .holding("SOLUSDT", "10", "100")
        .holding("BNBUSDT", "1", "300");
    let v = fx.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| *r
        == RiskReason::MaxOpenPositions { open: 3, max: 3 }));
    // Adding to an open position is not a new one.
    let fx = Fx::btc()
        .holding("ETHUSDT", "1", "2000")
        .holding("SOLUSDT", "10", "100")
        .holding("BTCUSDT", "0.01", "40000");
    assert!(fx.judge_fresh(&buy(1.0, 39_000.0)).is_approved());
}

#[test]
fn unusable_inputs_block_entries() {
    let mut fx = Fx::btc();
    fx.price = Decimal::ZERO;
    let v = fx.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::BadInput {
            input: BadInput::Price,
            ..
        }
    )));
    let mut fx = Fx::btc();
    fx.price = crate::MAX_PRICE + Decimal::ONE;
    let v = fx.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::BadInput {
            input: BadInput::Price,
            ..
        }
    )));
    let mut fx = Fx::btc();
    fx.vol.atr = Some(f64::NAN);
    let v = fx.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::BadInput {
            input: BadInput::Volatility,
            ..
        }
    )));
    let mut fx = Fx::btc();
    fx.account.equity = d("-1");
    assert!(fx.judge_fresh(&buy(1.0, 39_000.0)).is_rejected());
    let mut fx = Fx::btc();
    fx.account.currency = Currency::Inr;
    let v = fx.judge_fresh(&buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::CurrencyMismatch { .. }
    )));
}

#[test]
fn every_failing_gate_is_recorded() {
    let switch = KillSwitch::new();
    switch.engage();
    let mut guard = RiskGuard::default().with_kill_switch(switch);
    let mut fx = Fx::btc();
    fx.account.equity = d("90000");
    fx.vol.bar_range_pct = Some(9.0);
    let v = fx.judge(
        &mut guard,
        &proposal(Action::Sell, f64::NAN).with_confidence(f64::NAN),
    );
    let rules: Vec<_> = reasons(&v, Effect::Rejected)
        .iter()
        .map(|r| {
            serde_json::to_value(r).unwrap()["rule"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        rules,
        [
            "kill_switch",
            "daily_loss_limit",
            "circuit_breaker",
            "short_not_allowed",
            "invalid_confidence"
        ]
    );
}

#[test]
fn limits_are_checked() {
    let bad = |limits: RiskLimits| RiskGuard::new(limits).unwrap_err().to_string();
    let msg = bad(RiskLimits {
        max_position_pct: Decimal::ZERO,
        ..RiskLimits::default()
    });
    assert!(msg.contains("max_position_pct"), "{msg}");
    let msg = bad(RiskLimits {
        default_stop_pct: d("6"),
        ..RiskLimits::default()
    });
    assert!(msg.contains("wider than max_stop_pct"), "{msg}");
    assert!(RiskGuard::new(RiskLimits {
        max_bar_range_pct: f64::NAN,
        ..RiskLimits::default()
    })
    .is_err());
}

#[test]
fn verdicts_round_trip_through_json_with_the_raw_numbers() {
    let v = Fx::btc().judge_fresh(&buy(f64::INFINITY, f64::NAN));
    let json = serde_json::to_string(&v).unwrap();
    assert!(json.contains("\"given\":\"inf\""), "{json}");
    let back: Verdict = serde_json::from_str(&json).unwrap();
    assert_eq!(back.to_string(), v.to_string());
    let s = Fx::btc().judge_fresh(&buy(50.0, 30_000.0)).to_string();
    assert!(
        s.starts_with("CLAMPED BUY BTCUSDT -> open: BUY 0.125 BTCUSDT @ 40000 SL 38000"),
        "{s}"
    );
}

#[test]
fn guard_state_resumes() {
    let mut guard = RiskGuard::default();
    let mut fx = Fx::btc();
    fx.vol.realized_pct = Some(10.0);
    fx.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    let saved = serde_json::to_string(guard.state()).unwrap();
    let mut resumed = RiskGuard::default().with_state(serde_json::from_str(&saved).unwrap());
    let v = Fx::btc().judge(&mut resumed, &buy(1.0, 39_000.0));
    assert!(has(&v, Effect::Rejected, |r| matches!(
        r,
        RiskReason::CircuitBreakerCooldown { .. }
    )));
}

#[test]
fn volatility_from_candles() {
    use crate::{Candle, Timeframe};
    let bar = |c: &str| Candle {
        open_time: Timestamp::EPOCH,
        timeframe: Timeframe::M1,
        open: d(c),
        high: d(c) + d("1"),
        low: d(c) - d("1"),
        close: d(c),
        volume: Decimal::ONE,
        trades: 1,
        quote_volume: None,
        taker_buy_volume: None,
        taker_buy_quote_volume: None,
    };
    let v = Volatility::from_candles(&[bar("100")], 14);
    assert_eq!((v.realized_pct, v.atr), (None, None));
    assert!((v.bar_range_pct.unwrap() - 2.0).abs() < 1e-12);
    let bars: Vec<_> = ["100", "101", "100", "101", "100"]
        .iter()
        .map(|c| bar(c))
        .collect();
    let v = Volatility::from_candles(&bars, 14);
    assert!((v.atr.unwrap() - 2.0).abs() < 1e-12);
    assert!(v.realized_pct.unwrap() > 0.9 && v.realized_pct.unwrap() < 1.2);
    let _ = Symbol::new("x");
}

#[test]
fn absorbing_a_state_keeps_the_latest_latches_and_drops_none() {
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let monday = ts("2024-03-04T00:00:00Z");
    let tuesday = ts("2024-03-05T00:00:00Z");
    let state = |until: Option<&str>, day: Option<Timestamp>, loss: &str| GuardState {
        breaker_until: until.map(ts),
        halted_day: day,
        halted_loss_pct: loss.parse().unwrap(),
    };
    // a newer halted day and a later cooldown are taken on
    let mut guard =
        RiskGuard::default().with_state(state(Some("2024-03-04T10:00:00Z"), Some(monday), "2.5"));
    guard.absorb(&state(Some("2024-03-05T10:30:00Z"), Some(tuesday), "2.1"));
    assert_eq!(
        guard.state(),
        &state(Some("2024-03-05T10:30:00Z"), Some(tuesday), "2.1")
    );
    // older ones change nothing
    guard.absorb(&state(Some("2024-03-04T10:00:00Z"), Some(monday), "9"));
    assert_eq!(
        guard.state(),
        &state(Some("2024-03-05T10:30:00Z"), Some(tuesday), "2.1")
    );
    // the same day keeps the worse loss
    guard.absorb(&state(None, Some(tuesday), "3.4"));
    assert_eq!(
        guard.state(),
        &state(Some("2024-03-05T10:30:00Z"), Some(tuesday), "3.4")
    );
    guard.absorb(&state(None, Some(tuesday), "2.2"));
    assert_eq!(guard.state().halted_loss_pct, "3.4".parse().unwrap());
}
