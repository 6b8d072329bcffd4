//! The guard's second look at execution time: one test per refusal, and the passing case.

use super::*;

/// An approved BTC entry at 40 000 with its stop at 39 000, at the fixture's time.
fn approved(guard: &mut RiskGuard, fx: &Fx) -> Verdict {
    let v = fx.judge(guard, &buy(3.0, 39_000.0));
    assert!(v.is_approved(), "{v}");
    v
}

fn refusal(guard: &RiskGuard, v: &Verdict, fx: &Fx, max_age_ms: i64) -> RiskReason {
    let finding = guard.recheck(v, &fx.ctx(), max_age_ms).unwrap_err();
    assert_eq!(finding.effect, Effect::Rejected);
    assert!(finding.to_string().starts_with("rejected: "), "{finding}");
    finding.reason
}

fn later(mut fx: Fx, millis: i64, price: &str) -> Fx {
    fx.now = fx.now.add_millis(millis);
    fx.price = d(price);
    fx
}

#[test]
fn a_fresh_verdict_on_a_calm_market_goes_out() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    let state = guard.state().clone();
    for price in ["40000", "39900", "39001", "40999", "41000"] {
        let fx = later(Fx::btc(), 30_000, price);
        assert_eq!(guard.recheck(&v, &fx.ctx(), 60_000), Ok(()), "at {price}");
    }
    assert_eq!(guard.recheck(&v, &Fx::btc().ctx(), 0), Ok(()));
    assert_eq!(guard.state(), &state, "a recheck changes nothing");
    // Nothing to send, nothing to refuse.
    let hold = Fx::btc().judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    assert_eq!(
        guard.recheck(&hold, &later(Fx::btc(), i64::MAX, "0").ctx(), 0),
        Ok(())
    );
}

#[test]
fn an_old_verdict_is_stale() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    let old = later(Fx::btc(), 60_001, "40000");
    assert_eq!(
        refusal(&guard, &v, &old, 60_000),
        RiskReason::VerdictStale {
            age_ms: 60_001,
            max_ms: 60_000
        }
    );
    assert!(guard.recheck(&v, &old.ctx(), 60_001).is_ok());
    // Dated after now: a little is clock skew, more is refused.
    let early = later(Fx::btc(), -500, "40000");
    assert!(guard.recheck(&v, &early.ctx(), 1_000).is_ok());
    let reason = refusal(&guard, &v, &early, 100);
    assert_eq!(
        reason,
        RiskReason::VerdictStale {
            age_ms: -500,
            max_ms: 100
        }
    );
    assert!(reason.to_string().contains("500 ms after the current time"));
}

#[test]
fn a_verdict_for_another_instrument_is_refused() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    let mut other = Fx::btc();
    other.instrument.symbol = Symbol::new("ETHUSDT");
    assert!(matches!(
        refusal(&guard, &v, &other, 60_000),
        RiskReason::WrongInstrument { .. }
    ));
}

#[test]
fn an_unusable_price_is_bad_input() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    for price in ["0", "-1"] {
        let fx = later(Fx::btc(), 0, price);
        assert!(matches!(
            refusal(&guard, &v, &fx, 60_000),
            RiskReason::BadInput {
                input: BadInput::Price,
                ..
            }
        ));
    }
}

#[test]
fn entries_stop_when_the_session_forbids_them_now() {
    let mut guard = RiskGuard::default();
    let morning = Fx::bank_nifty().at("2025-01-06T14:50:00+05:30");
    let v = morning.judge(&mut guard, &buy(5.0, 49_500.0));
    assert!(v.entry().is_some(), "{v}");
    let minutes = 60 * 60_000;
    let at = |s: &str| {
        let fx = Fx::bank_nifty().at(s);
        refusal(&guard, &v, &fx, minutes)
    };
    assert!(matches!(
        at("2025-01-06T15:00:00+05:30"),
        RiskReason::EntryCutoff { minutes: 30, .. }
    ));
    assert!(matches!(
        at("2025-01-06T15:16:00+05:30"),
        RiskReason::SquareOff { minutes: 15, .. }
    ));
    assert!(matches!(
        at("2025-01-06T15:31:00+05:30"),
        RiskReason::MarketClosed { .. }
    ));
    assert!(guard
        .recheck(
            &v,
            &Fx::bank_nifty().at("2025-01-06T14:59:59+05:30").ctx(),
            minutes
        )
        .is_ok());
}

#[test]
fn entries_stop_when_the_kill_switch_is_engaged_now() {
    let switch = KillSwitch::new();
    let mut guard = RiskGuard::default().with_kill_switch(switch.clone());
    let v = approved(&mut guard, &Fx::btc());
    switch.engage();
    assert_eq!(
        refusal(&guard, &v, &Fx::btc(), 60_000),
        RiskReason::KillSwitch
    );
    switch.release();
    assert!(guard.recheck(&v, &Fx::btc().ctx(), 60_000).is_ok());
}

#[test]
fn entries_stop_when_the_daily_halt_is_in_force_now() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    // The account lost 2.5% since: the halt applies now, without being latched by the recheck.
    let mut losing = Fx::btc();
    losing.account.equity = d("97500");
    assert!(matches!(
        refusal(&guard, &v, &losing, 60_000),
        RiskReason::DailyLossLimit { .. }
    ));
    assert_eq!(guard.state(), &GuardState::default());
    // Latched earlier by an evaluation: it holds though the loss recovered.
    losing.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    let recovered = Fx::btc();
    assert_eq!(
        refusal(&guard, &v, &recovered, 60_000),
        RiskReason::DailyLossLimit {
            loss_pct: d("2.5"),
            limit_pct: d("2")
        }
    );
}

#[test]
fn entries_stop_while_the_circuit_breaker_cools_down() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    let mut wild = Fx::btc();
    wild.vol.bar_range_pct = Some(8.0);
    assert!(matches!(
        refusal(&guard, &v, &wild, 60_000),
        RiskReason::CircuitBreaker { .. }
    ));
    assert_eq!(guard.state(), &GuardState::default(), "not latched");
    wild.judge(&mut guard, &Proposal::hold(DecisionId::new("h")));
    assert!(matches!(
        refusal(&guard, &v, &Fx::btc(), 60_000),
        RiskReason::CircuitBreakerCooldown { .. }
    ));
}

#[test]
fn entries_stop_when_the_price_is_through_the_stop() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    for price in ["39000", "38000"] {
        assert_eq!(
            refusal(&guard, &v, &later(Fx::btc(), 1_000, price), 60_000),
            RiskReason::PriceThroughStop {
                price: d(price),
                stop: d("39000")
            }
        );
    }
    // A short's stop is above.
    let fx = Fx::bank_nifty();
    let short = fx.judge(
        &mut guard,
        &proposal(Action::Sell, 4.0).with_stop_loss(50_600.0),
    );
    assert_eq!(intent(&short).side, OrderSide::Sell, "{short}");
    let up = later(Fx::bank_nifty(), 1_000, "50600");
    assert_eq!(
        refusal(&guard, &short, &up, 60_000),
        RiskReason::PriceThroughStop {
            price: d("50600"),
            stop: d("50600")
        }
    );
    assert!(guard
        .recheck(
            &short,
            &later(Fx::bank_nifty(), 1_000, "50599.95").ctx(),
            60_000
        )
        .is_ok());
}

#[test]
fn entries_stop_when_the_price_moved_more_than_the_stop_distance() {
    let mut guard = RiskGuard::default();
    let v = approved(&mut guard, &Fx::btc());
    let reason = refusal(&guard, &v, &later(Fx::btc(), 1_000, "41000.01"), 60_000);
    assert_eq!(
        reason,
        RiskReason::PriceMoved {
            reference: d("40000"),
            price: d("41000.01"),
            max_move: d("1000")
        }
    );
    assert_eq!(
        reason.to_string(),
        "the price moved from 40000 to 41000.01, more than the stop distance 1000: decide again"
    );
}

#[test]
fn an_entry_without_a_stop_is_not_sent() {
    let mut guard = RiskGuard::default();
    let mut v = approved(&mut guard, &Fx::btc());
    if let Some(i) = v.intent.as_mut() {
        i.exits.stop_loss = None;
    }
    assert_eq!(
        refusal(&guard, &v, &Fx::btc(), 60_000),
        RiskReason::MissingStopLoss
    );
}

#[test]
fn a_close_needs_the_position_it_closes() {
    let mut guard = RiskGuard::default();
    let long = Fx::btc().holding("BTCUSDT", "0.05", "40000");
    let v = long.judge(&mut guard, &proposal(Action::Close, 0.0));
    assert_eq!(intent(&v).purpose, IntentPurpose::Close);
    assert!(guard.recheck(&v, &long.ctx(), 0).is_ok());
    // Closes go out whatever the price did and whatever halts entries.
    let mut crashed = later(Fx::btc(), 0, "20000").holding("BTCUSDT", "0.01", "20000");
    crashed.account.equity = d("50000");
    assert!(guard.recheck(&v, &crashed.ctx(), 0).is_ok());
    // A close goes out however old its verdict: a forced close that comes late still closes.
    let hour_later = later(Fx::btc(), 3_600_000, "40000").holding("BTCUSDT", "0.05", "40000");
    assert!(guard.recheck(&v, &hour_later.ctx(), 60_000).is_ok());
    // Stopped out meanwhile, or now short: nothing to close.
    assert_eq!(
        refusal(&guard, &v, &Fx::btc(), 0),
        RiskReason::NothingToClose
    );
    let short = Fx::btc().holding("BTCUSDT", "-0.05", "40000");
    assert_eq!(refusal(&guard, &v, &short, 0), RiskReason::NothingToClose);
    // A close waits for the open.
    let mut guard = RiskGuard::default();
    let open = Fx::bank_nifty().holding("BANKNIFTY", "30", "50000");
    let v = open.judge(&mut guard, &proposal(Action::Close, 0.0));
    let night =
        Fx::bank_nifty()
            .at("2025-01-06T20:00:00+05:30")
            .holding("BANKNIFTY", "30", "50000");
    assert!(matches!(
        refusal(&guard, &v, &night, i64::MAX),
        RiskReason::MarketClosed { .. }
    ));
}

#[test]
fn new_reasons_travel_through_json_like_the_others() {
    let reasons = [
        RiskReason::VerdictStale {
            age_ms: 61_000,
            max_ms: 60_000,
        },
        RiskReason::WrongInstrument {
            verdict: Symbol::new("BTCUSDT"),
            market: Symbol::new("NIFTY50"),
        },
        RiskReason::MissingStopLoss,
        RiskReason::PriceThroughStop {
            price: d("38950"),
            stop: d("39000"),
        },
        RiskReason::PriceMoved {
            reference: d("40000"),
            price: d("41500"),
            max_move: d("1000"),
        },
        RiskReason::NothingToClose,
    ];
    let rules = [
        "verdict_stale",
        "wrong_instrument",
        "missing_stop_loss",
        "price_through_stop",
        "price_moved",
        "nothing_to_close",
    ];
    for (reason, rule) in reasons.iter().zip(rules) {
        let json = serde_json::to_value(reason).unwrap();
        assert_eq!(json["rule"], rule);
        assert_eq!(&serde_json::from_value::<RiskReason>(json).unwrap(), reason);
        assert!(reason.to_string().len() > 20, "{reason}");
    }
    assert_eq!(
        serde_json::to_string(&reasons[3]).unwrap(),
        r#"{"rule":"price_through_stop","price":"38950","stop":"39000"}"#
    );
}
