//! One line per decision cycle, for the terminal.

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
/// minutes times 250 trading days on an exchange.
pub fn bars_per_year(instrument: &tradegraph_core::Instrument) -> f64 {
    match instrument.session.exchange() {
        Some(x) => {
            let minutes = (x.close - x.open).num_minutes().max(1);
            minutes as f64 * 250.0
        }
        None => 525_600.0,
    }
}

/// The summary of a run, as the command line prints it.
pub fn summary_text(s: &super::BotSummary, instrument: &tradegraph_core::Instrument) -> String {
    let pct = |x: Option<f64>| x.map_or("n/a".to_owned(), |v| format!("{v:+.2}%"));
    let v = s.verdicts;
    let mut text = String::from("--- summary ---\n");
    text += &format!(
        "cycles {} (acted on {}), verdicts approved {} / clamped {} / rejected {}, orders {}, refused at execution {}\n",
        s.cycles, s.decisions_to_act, v.approved, v.clamped, v.rejected, s.orders, s.refusals
    );
    text += &format!(
        "trades {}, win rate {}, realized {}, P&L {} ({:+.2}%), max drawdown {:.2}%, Sharpe {}, buy-and-hold {}\n",
        s.trades,
        s.win_rate_pct()
            .map_or("n/a".to_owned(), |w| format!("{w:.0}%")),
        s.realized_pnl.round_dp(2),
        s.pnl().round_dp(2),
        s.return_pct(),
        s.max_drawdown_pct(),
        s.sharpe(bars_per_year(instrument))
            .map_or("n/a".to_owned(), |v| format!("{v:.2}")),
        pct(s.buy_and_hold_pct()),
    );
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
