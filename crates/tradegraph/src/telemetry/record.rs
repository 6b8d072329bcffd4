//! The engine's side: what a cycle, the account and the trading state record. Each call takes
//! the engine's own types, so the labels stay the fixed words of [`names`](super::names).

use super::names;
use crate::engine::{CheckId, CheckState, Trading};
use metrics::Label;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::time::Duration;
use tradegraph_agents::reports::AgentMode;
use tradegraph_agents::TradingState;
use tradegraph_core::position::Account;
use tradegraph_core::risk::{Effect, Finding, VerdictStatus};

fn instrument_label(instrument: &str) -> Label {
    Label::new("instrument", instrument.to_owned())
}

fn labels(instrument: &str, rest: &[(&'static str, &str)]) -> Vec<Label> {
    let mut labels = vec![instrument_label(instrument)];
    labels.extend(
        rest.iter()
            .map(|(key, value)| Label::new(*key, (*value).to_owned())),
    );
    labels
}

/// Records one decision cycle of `instrument` that ran for `duration` and left `state`: the
/// decision, the guard's verdict and findings, the execution refusal, and how each agent's
/// report was made.
///
/// ```
/// use std::time::Duration;
/// use tradegraph::agents::fixture;
/// use tradegraph::core::Instrument;
/// use tradegraph::telemetry;
///
/// let state = fixture::state(&Instrument::btc_usdt())?;
/// telemetry::record_cycle("BTCUSDT", &state, Duration::from_millis(3));
/// # Ok::<(), tradegraph::agents::AgentError>(())
/// ```
pub fn record_cycle(instrument: &str, state: &TradingState, duration: Duration) {
    record_cycle_time(instrument, state.as_of, duration);
    record_cycle_outcome(instrument, state);
}

/// Records how long a decision cycle of `instrument` took to decide (a cycle waiting for an
/// operator's approval: until it paused).
pub(crate) fn record_cycle_time(
    instrument: &str,
    as_of: tradegraph_core::Timestamp,
    duration: Duration,
) {
    metrics::histogram!(
        names::CYCLE_DURATION_SECONDS,
        labels(instrument, &[("outcome", "ok")])
    )
    .record(duration.as_secs_f64());
    // The newest cycle decided, as the bot's status says it (a cycle waiting for approval too).
    metrics::gauge!(
        names::LAST_CYCLE_TIMESTAMP_SECONDS,
        vec![instrument_label(instrument)]
    )
    .set(as_of.millis() as f64 / 1000.0);
}

/// Records what a decision cycle of `instrument` came to, once it ended (a cycle that waited
/// for an operator's approval: when it was approved, rejected, expired or replaced).
pub(crate) fn record_cycle_outcome(instrument: &str, state: &TradingState) {
    if let Some(decision) = &state.decision {
        // The documented label values are lower case (`buy`, ...): `Action::as_str`, lowered.
        let action = decision.report.action.as_str().to_ascii_lowercase();
        metrics::counter!(
            names::DECISIONS_TOTAL,
            labels(instrument, &[("action", &action)])
        )
        .increment(1);
    }
    if let Some(verdict) = &state.verdict {
        let status = match verdict.status {
            VerdictStatus::Approved => "approved",
            VerdictStatus::Clamped => "clamped",
            VerdictStatus::Rejected => "rejected",
        };
        metrics::counter!(
            names::VERDICTS_TOTAL,
            labels(instrument, &[("status", status)])
        )
        .increment(1);
        for finding in &verdict.findings {
            record_finding(instrument, finding, "guard");
        }
    }
    if let Some(refusal) = &state.refusal {
        record_finding(instrument, refusal, "execution");
    }
    for (agent, mode) in state.report_modes() {
        metrics::counter!(
            names::AGENT_REPORTS_TOTAL,
            labels(
                instrument,
                &[("agent", agent.as_str()), ("mode", mode_label(mode))]
            )
        )
        .increment(1);
    }
}

/// Records a decision cycle of `instrument` that failed after `duration` (the bot went on).
pub fn record_cycle_failure(instrument: &str, duration: Duration) {
    metrics::histogram!(
        names::CYCLE_DURATION_SECONDS,
        labels(instrument, &[("outcome", "failed")])
    )
    .record(duration.as_secs_f64());
}

/// Records the account of `instrument`'s bot: realized and unrealized P&L, equity, open
/// positions, and the drawdown from `peak_equity` (the highest equity seen; 0 when equity is
/// at or above it).
///
/// ```
/// use tradegraph::core::position::Account;
/// use tradegraph::core::{Currency, Decimal, Timestamp};
/// use tradegraph::telemetry;
///
/// let account = Account::flat(Currency::Usdt, Decimal::from(10_000), Timestamp::EPOCH);
/// telemetry::record_account("BTCUSDT", &account, Decimal::from(12_500));
/// assert_eq!(telemetry::drawdown(account.equity, Decimal::from(12_500)), 0.2);
/// ```
pub fn record_account(instrument: &str, account: &Account, peak_equity: Decimal) {
    let currency = currency_label(account);
    let money = |name: &'static str, value: Decimal| {
        metrics::gauge!(name, labels(instrument, &[("currency", currency)]))
            .set(value.to_f64().unwrap_or(0.0));
    };
    money(names::REALIZED_PNL, account.realized_pnl);
    money(names::UNREALIZED_PNL, account.unrealized_pnl);
    money(names::EQUITY, account.equity);
    metrics::gauge!(names::DRAWDOWN_RATIO, vec![instrument_label(instrument)])
        .set(drawdown(account.equity, peak_equity));
    metrics::gauge!(names::OPEN_POSITIONS, vec![instrument_label(instrument)])
        .set(account.positions.len() as f64);
}

/// Records the trading state of `instrument`'s bot and whether its kill switch is engaged.
///
/// ```
/// use tradegraph::engine::Trading;
/// use tradegraph::telemetry;
/// telemetry::record_trading_status("BTCUSDT", Trading::Reducing, false);
/// ```
pub fn record_trading_status(instrument: &str, status: Trading, kill_switch_engaged: bool) {
    for state in Trading::ALL {
        metrics::gauge!(
            names::TRADING_STATE,
            labels(instrument, &[("state", state.as_str())])
        )
        .set(if state == status { 1.0 } else { 0.0 });
    }
    metrics::gauge!(
        names::KILL_SWITCH_ENGAGED,
        vec![instrument_label(instrument)]
    )
    .set(if kill_switch_engaged { 1.0 } else { 0.0 });
}

/// Records health check `check`'s state for the bot of `instrument`: the gauge
/// `tradegraph_health_check_state`, 0 ok, 1 degraded, 2 failing.
///
/// ```
/// use tradegraph::engine::{CheckId, CheckState};
/// tradegraph::telemetry::record_health_check(CheckId::Redis, "BTCUSDT", CheckState::Failing);
/// ```
pub fn record_health_check(check: CheckId, instrument: &str, state: CheckState) {
    let value = match state {
        CheckState::Ok => 0.0,
        CheckState::Degraded => 1.0,
        CheckState::Failing => 2.0,
    };
    metrics::gauge!(
        names::HEALTH_CHECK_STATE,
        labels(instrument, &[("check", check.as_str())])
    )
    .set(value);
}

/// The fall of `equity` from `peak`, from 0 to 1 (0 without a positive peak).
pub fn drawdown(equity: Decimal, peak: Decimal) -> f64 {
    if peak <= Decimal::ZERO || equity >= peak {
        return 0.0;
    }
    ((peak - equity) / peak)
        .to_f64()
        .unwrap_or(0.0)
        .clamp(0.0, 1.0)
}

fn record_finding(instrument: &str, finding: &Finding, stage: &'static str) {
    let rule = rule_label(finding);
    match finding.effect {
        Effect::Rejected => metrics::counter!(
            names::RISK_REFUSALS_TOTAL,
            labels(instrument, &[("stage", stage), ("rule", rule)])
        )
        .increment(1),
        Effect::Clamped => metrics::counter!(
            names::RISK_CLAMPS_TOTAL,
            labels(instrument, &[("rule", rule)])
        )
        .increment(1),
        Effect::ForcedClose => metrics::counter!(
            names::RISK_FORCED_CLOSES_TOTAL,
            labels(instrument, &[("rule", rule)])
        )
        .increment(1),
    }
}

/// The rule behind a finding, as its reason is tagged in the decision log (`kill_switch`,
/// `daily_loss_limit`, `size_clamped`, ...): a fixed set of words.
pub(crate) fn rule_label(finding: &Finding) -> &'static str {
    finding.reason.rule()
}

fn mode_label(mode: &AgentMode) -> &'static str {
    if mode.is_fallback() {
        "fallback"
    } else if mode.is_rule() {
        "rules"
    } else {
        "model"
    }
}

fn currency_label(account: &Account) -> &'static str {
    account.currency.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_agents::reports::RuleReason;
    use tradegraph_core::risk::RiskReason;

    #[test]
    fn drawdown_is_the_fall_from_the_peak() {
        assert_eq!(drawdown(Decimal::from(90), Decimal::from(100)), 0.1);
        assert_eq!(drawdown(Decimal::from(110), Decimal::from(100)), 0.0);
        assert_eq!(drawdown(Decimal::from(90), Decimal::ZERO), 0.0);
    }

    #[test]
    fn rules_are_labelled_by_their_tag() {
        let finding = Finding {
            effect: Effect::Rejected,
            reason: RiskReason::KillSwitch,
        };
        assert_eq!(rule_label(&finding), "kill_switch");
    }

    #[test]
    fn a_model_failure_is_a_fallback_and_no_provider_is_rules() {
        assert_eq!(mode_label(&AgentMode::unconfigured()), "rules");
        let failed = AgentMode::Rule {
            reason: RuleReason::ModelFailed("openai: timeout".into()),
        };
        assert_eq!(mode_label(&failed), "fallback");
        let model = AgentMode::Llm {
            provider: "openai".into(),
            model: "gpt".into(),
            spend: None,
        };
        assert_eq!(mode_label(&model), "model");
    }
}
