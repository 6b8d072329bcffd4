//! One line per decision cycle.

use tradegraph_agents::reports::{AgentMode, Stance};
use tradegraph_agents::TradingState;

/// A concise line for a finished cycle: the analysts' signals, the debate, the decision, the
/// guard's verdict and the orders. Agents that fell back to rules while a model was configured
/// are marked `*`.
pub fn describe_cycle(s: &TradingState) -> String {
    let mark = |m: &AgentMode| match m {
        AgentMode::Llm { .. } => "",
        AgentMode::Rule { reason } if reason == "no provider configured" => "",
        AgentMode::Rule { .. } => "*",
    };
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
    for o in &s.orders {
        line += &format!(
            " | order {:?} {} {:?}",
            o.request.side, o.request.quantity, o.status
        );
    }
    line
}
