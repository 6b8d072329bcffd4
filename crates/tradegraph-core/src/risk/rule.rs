//! The name of the rule behind a [`RiskReason`]: the `rule` tag of its serialized form, as a
//! fixed word for metric labels and logs.

use super::RiskReason;

impl RiskReason {
    /// The rule's name, exactly the `rule` tag the reason is serialized with (`kill_switch`,
    /// `daily_loss_limit`, `size_clamped`, ...).
    ///
    /// ```
    /// use tradegraph_core::risk::RiskReason;
    ///
    /// assert_eq!(RiskReason::KillSwitch.rule(), "kill_switch");
    /// assert_eq!(
    ///     serde_json::to_value(RiskReason::NothingToClose)?["rule"],
    ///     RiskReason::NothingToClose.rule()
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub const fn rule(&self) -> &'static str {
        match self {
            Self::KillSwitch => "kill_switch",
            Self::DailyLossLimit { .. } => "daily_loss_limit",
            Self::MarketClosed { .. } => "market_closed",
            Self::EntryCutoff { .. } => "entry_cutoff",
            Self::SquareOff { .. } => "square_off",
            Self::CircuitBreaker { .. } => "circuit_breaker",
            Self::CircuitBreakerCooldown { .. } => "circuit_breaker_cooldown",
            Self::MaxOpenPositions { .. } => "max_open_positions",
            Self::ShortNotAllowed { .. } => "short_not_allowed",
            Self::BadInput { .. } => "bad_input",
            Self::CurrencyMismatch { .. } => "currency_mismatch",
            Self::InvalidConfidence { .. } => "invalid_confidence",
            Self::LowConfidence { .. } => "low_confidence",
            Self::InvalidSize { .. } => "invalid_size",
            Self::SizeClamped { .. } => "size_clamped",
            Self::PositionLimitReached { .. } => "position_limit_reached",
            Self::PositionCapped { .. } => "position_capped",
            Self::InsufficientCash { .. } => "insufficient_cash",
            Self::BelowOneLot { .. } => "below_one_lot",
            Self::OppositePosition { .. } => "opposite_position",
            Self::StopLossDerived { .. } => "stop_loss_derived",
            Self::StopLossInvalid { .. } => "stop_loss_invalid",
            Self::StopLossWrongSide { .. } => "stop_loss_wrong_side",
            Self::StopLossTooWide { .. } => "stop_loss_too_wide",
            Self::NoValidStop { .. } => "no_valid_stop",
            Self::TakeProfitDropped { .. } => "take_profit_dropped",
            Self::TakeProfitTooFar { .. } => "take_profit_too_far",
            Self::TrailingDropped { .. } => "trailing_dropped",
            Self::TrailingTooWide { .. } => "trailing_too_wide",
            Self::VerdictStale { .. } => "verdict_stale",
            Self::WrongInstrument { .. } => "wrong_instrument",
            Self::MissingStopLoss => "missing_stop_loss",
            Self::PriceThroughStop { .. } => "price_through_stop",
            Self::PriceMoved { .. } => "price_moved",
            Self::NothingToClose => "nothing_to_close",
            Self::OrderNotRepeated { .. } => "order_not_repeated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BadInput, NotRepeated, StopBasis, VolatilityTrigger};
    use super::*;
    use crate::order::ClientOrderId;
    use crate::{Currency, Decimal, Symbol, Timestamp};

    /// One reason of every rule (a new variant fails to compile in `rule` until named there,
    /// and belongs here too).
    fn every_reason() -> Vec<RiskReason> {
        let d = Decimal::ONE;
        let at = Timestamp::from_millis(0);
        vec![
            RiskReason::KillSwitch,
            RiskReason::DailyLossLimit {
                loss_pct: d,
                limit_pct: d,
            },
            RiskReason::MarketClosed { at },
            RiskReason::EntryCutoff {
                close: at,
                minutes: 5,
            },
            RiskReason::SquareOff {
                close: at,
                minutes: 5,
            },
            RiskReason::CircuitBreaker {
                trigger: VolatilityTrigger::BarRange,
                value: 1.0,
                limit: 1.0,
                until: at,
            },
            RiskReason::CircuitBreakerCooldown { until: at },
            RiskReason::MaxOpenPositions { open: 1, max: 1 },
            RiskReason::ShortNotAllowed { spot: true },
            RiskReason::BadInput {
                input: BadInput::Price,
                value: "0".into(),
            },
            RiskReason::CurrencyMismatch {
                account: Currency::Inr,
                instrument: Currency::Usdt,
            },
            RiskReason::InvalidConfidence { given: 2.0 },
            RiskReason::LowConfidence {
                given: 0.1,
                min: 0.5,
            },
            RiskReason::InvalidSize { given: -1.0 },
            RiskReason::SizeClamped {
                requested_pct: 9.0,
                max_pct: d,
            },
            RiskReason::PositionLimitReached {
                exposure_pct: d,
                max_pct: d,
            },
            RiskReason::PositionCapped {
                allowed: d,
                max_pct: d,
            },
            RiskReason::InsufficientCash { wanted: d, cash: d },
            RiskReason::BelowOneLot {
                allowed: d,
                lot_notional: d,
            },
            RiskReason::OppositePosition { held: d },
            RiskReason::StopLossDerived {
                stop: d,
                basis: StopBasis::Atr,
            },
            RiskReason::StopLossInvalid {
                given: 0.0,
                stop: d,
            },
            RiskReason::StopLossWrongSide {
                given: 2.0,
                stop: d,
            },
            RiskReason::StopLossTooWide {
                given: 0.5,
                stop: d,
                max_pct: d,
            },
            RiskReason::NoValidStop {
                max_distance: d,
                tick: d,
            },
            RiskReason::TakeProfitDropped { given: 0.0 },
            RiskReason::TakeProfitTooFar {
                given: 9.0,
                take_profit: d,
                max_pct: d,
            },
            RiskReason::TrailingDropped { given: 0.0 },
            RiskReason::TrailingTooWide {
                given: 9.0,
                distance: d,
            },
            RiskReason::VerdictStale {
                age_ms: 2,
                max_ms: 1,
            },
            RiskReason::WrongInstrument {
                verdict: Symbol::new("A"),
                market: Symbol::new("B"),
            },
            RiskReason::MissingStopLoss,
            RiskReason::PriceThroughStop { price: d, stop: d },
            RiskReason::PriceMoved {
                reference: d,
                price: d,
                max_move: d,
            },
            RiskReason::NothingToClose,
            RiskReason::OrderNotRepeated {
                client_id: ClientOrderId::new("tg-1").unwrap(),
                why: NotRepeated::Abandoned,
            },
        ]
    }

    #[test]
    fn every_rule_name_is_its_serialized_tag() {
        let reasons = every_reason();
        assert_eq!(reasons.len(), 36);
        let mut names = std::collections::BTreeSet::new();
        for reason in reasons {
            let tag = serde_json::to_value(&reason).unwrap()["rule"].clone();
            assert_eq!(tag, reason.rule(), "{reason:?}");
            assert!(names.insert(reason.rule()), "{} named twice", reason.rule());
        }
    }
}
