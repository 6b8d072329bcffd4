//! One line per decision cycle, for the terminal.

use rust_decimal::Decimal;
use tradegraph_agents::reports::{AgentMode, Stance};
use tradegraph_agents::TradingState;

/// A concise line for a finished cycle: the analysts' signals, the debate, the decision, the
/// guard's verdict and the orders. Agents that fell back to rules while a model was configured
/// are marked `*`.
pub fn describe_cycle(s: &TradingState) -> String {
    let mark = |m: &AgentMode| if m.is_fallback() { "*" } else { "" };
    let mut line = format!("{} {}", s.as_of, s.instrument.symbol);
    if let Some(r) = &s.technical {
        line += &format!(
            " | T {} {:.2}{}",
            r.report.signal,
            r.report.confidence,
            mark(&r.mode)
        );
    }
    if let Some(r) = &s.fundamental {
        line += &format!(" F {}{}", r.report.signal, mark(&r.mode));
    }
    if let Some(r) = &s.sentiment {
        line += &format!(" S {:+.2}{}", r.report.score, mark(&r.mode));
    }
    if let Some(r) = &s.macro_view {
        line += &format!(" M {:?}{}", r.report.regime, mark(&r.mode));
    }
    let conviction = |stance| s.last_turn(stance).map(|e| e.turn.report.conviction);
    if let (Some(bull), Some(bear)) = (conviction(Stance::Bull), conviction(Stance::Bear)) {
        line += &format!(" | debate bull {bull:.2} bear {bear:.2}");
    }
    if let Some(d) = &s.decision {
        line += &format!(
            " | PM {:?} {:.2}%{}",
            d.report.action,
            d.report.size_pct,
            mark(&d.mode)
        );
    }
    if let Some(v) = &s.verdict {
        line += &format!(" | guard {:?}", v.status);
        if let Some(f) = v.findings.first() {
            line += &format!(" ({})", f.reason);
        }
    }
    if let Some(refusal) = &s.refusal {
        line += &format!(" | refused at execution ({})", refusal.reason);
    }
    for o in &s.orders {
        line += &format!(
            " | order {:?} {} {:?}",
            o.request.side, o.request.quantity, o.status
        );
    }
    line
}

/// One-minute bars in a year of `instrument`'s market: 525,600 around the clock; the session's
/// minutes times 252 trading days on an exchange (the rule of
/// [`Annualization`](crate::backtest::metrics::Annualization), for one-minute bars).
pub fn bars_per_year(instrument: &tradegraph_core::Instrument) -> f64 {
    crate::backtest::metrics::Annualization::new(&instrument.session, 60_000).periods_per_year
}

/// `1d 2h 3m` for a span of milliseconds.
fn span(millis: i64) -> String {
    let minutes = millis / 60_000;
    let (d, h, m) = (minutes / 1_440, minutes / 60 % 24, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

/// The summary of a run, as the command line prints it.
pub fn summary_text(s: &super::BotSummary, instrument: &tradegraph_core::Instrument) -> String {
    let pct = |x: Option<f64>| x.map_or("n/a".to_owned(), |v| format!("{v:+.2}%"));
    let ratio = |x: Option<f64>| x.map_or("n/a".to_owned(), |v| format!("{v:.2}"));
    let money = |x: Option<Decimal>| x.map_or("n/a".to_owned(), |v| v.round_dp(2).to_string());
    let m = s.metrics(instrument);
    let v = s.verdicts;
    let mut text = String::from("--- summary ---\n");
    text += &format!(
        "cycles {} (acted on {}), verdicts approved {} / clamped {} / rejected {}, orders {}, refused at execution {}\n",
        s.cycles, s.decisions_to_act, v.approved, v.clamped, v.rejected, s.orders, s.refusals
    );
    // A service lets old equity points go: its drawdown and Sharpe still cover the whole run
    // (running figures), the other curve figures only the points kept. Each line says which.
    let (whole, window) = if s.equity_dropped > 0 {
        (
            "whole run: ",
            format!(
                "over the last {} bars (of {}): ",
                s.equity.len(),
                s.equity_dropped + s.equity.len() as u64
            ),
        )
    } else {
        ("", String::new())
    };
    text += &format!(
        "trades {}, win rate {}, realized {}, P&L {} ({:+.2}%), {whole}max drawdown {:.2}%, Sharpe {}, \
         price change {} (no costs, not a baseline)\n",
        s.trades,
        s.win_rate_pct()
            .map_or("n/a".to_owned(), |w| format!("{w:.0}%")),
        s.realized_pnl.round_dp(2),
        s.pnl().round_dp(2),
        s.return_pct(),
        s.max_drawdown_pct(),
        ratio(s.sharpe(m.annualization.periods_per_year)),
        pct(s.price_change_pct()),
    );
    let by_kind: Vec<String> = m
        .fees_by_kind
        .iter()
        .map(|(kind, amount)| format!("{kind} {}", amount.round_dp(2)))
        .collect();
    let fees = if by_kind.len() > 1 {
        format!("{} ({})", m.fees_paid.round_dp(2), by_kind.join(", "))
    } else {
        m.fees_paid.round_dp(2).to_string()
    };
    text += &format!(
        "{window}annual return {}, volatility {}, Sortino {}, Calmar {}, longest drawdown {} bars ({}), \
         profit factor {}, expectancy {}, exposure {}, turnover {}, fees {}\n",
        pct(m.annual_return.map(|r| 100.0 * r)),
        m.annual_volatility
            .map_or("n/a".to_owned(), |v| format!("{:.2}%", 100.0 * v)),
        ratio(m.sortino),
        ratio(m.calmar),
        m.max_drawdown_bars,
        span(m.max_drawdown_millis),
        ratio(m.profit_factor),
        money(m.expectancy),
        m.exposure
            .map_or("n/a".to_owned(), |e| format!("{:.0}%", 100.0 * e)),
        m.turnover.map_or("n/a".to_owned(), |t| format!("{t:.2}x")),
        fees,
    );
    text += &format!(
        "annualized: {}, on per-bar returns as empyrical defines them\n",
        m.annualization.describe()
    );
    if let Some(warning) = m.suspicious() {
        text += &format!("{warning}\n");
    }
    text += &format!(
        "reports by model {}, by rules {} (fallbacks from a model: {}), lessons written {}\n",
        s.reports_by_model, s.reports_by_rules, s.fallbacks, s.lessons
    );
    if s.store_errors + s.cycle_errors + s.malformed_events + s.gaps + s.reconnects > 0 {
        text += &format!(
            "store errors {}, failed cycles {}, malformed input {}, feed gaps {}, reconnects {}\n",
            s.store_errors, s.cycle_errors, s.malformed_events, s.gaps, s.reconnects
        );
    }
    text
}
