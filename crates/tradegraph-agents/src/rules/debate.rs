//! The bull and bear researchers in rule mode.

use super::text::quote;
use crate::reports::{DebateTurn, Signal, Stance};
use crate::{AgentName, TradingState};

/// One analyst's view, as the researchers weigh it.
pub(crate) struct Evidence {
    pub(crate) agent: AgentName,
    pub(crate) signal: Signal,
    /// Weight × confidence.
    pub(crate) strength: f64,
    /// What the view is, to put into words only when a researcher cites it.
    detail: Detail,
}

enum Detail {
    Signal(Signal, f64),
    Sentiment(f64, f64),
    Macro(crate::reports::Regime, f64),
}

impl Evidence {
    /// The view in a few words (`technical BUY (0.72)`).
    pub(crate) fn summary(&self) -> String {
        match self.detail {
            Detail::Signal(signal, confidence) => {
                format!("{} {signal} ({confidence:.2})", self.agent)
            }
            Detail::Sentiment(score, confidence) => {
                format!("news sentiment {score:+.2} ({confidence:.2})")
            }
            Detail::Macro(regime, confidence) => format!("macro {regime:?} ({confidence:.2})"),
        }
    }
}

/// The analysts' views, weighted by the portfolio manager's learned weights.
pub(crate) fn evidence(state: &TradingState) -> Vec<Evidence> {
    let w = |a| state.weights.weight(a);
    let mut out = Vec::new();
    if let Some(r) = &state.technical {
        let t = &r.report;
        out.push(Evidence {
            agent: AgentName::Technical,
            signal: t.signal,
            strength: w(AgentName::Technical) * t.confidence,
            detail: Detail::Signal(t.signal, t.confidence),
        });
    }
    if let Some(r) = &state.fundamental {
        let f = &r.report;
        out.push(Evidence {
            agent: AgentName::Fundamental,
            signal: f.signal,
            strength: w(AgentName::Fundamental) * f.confidence,
            detail: Detail::Signal(f.signal, f.confidence),
        });
    }
    if let Some(r) = &state.sentiment {
        let s = &r.report;
        out.push(Evidence {
            agent: AgentName::Sentiment,
            signal: s.signal(),
            strength: w(AgentName::Sentiment) * s.confidence,
            detail: Detail::Sentiment(s.score, s.confidence),
        });
    }
    if let Some(r) = &state.macro_view {
        let m = &r.report;
        out.push(Evidence {
            agent: AgentName::Macro,
            signal: m.signal(),
            strength: w(AgentName::Macro) * m.confidence,
            detail: Detail::Macro(m.regime, m.confidence),
        });
    }
    for e in &mut out {
        if !e.strength.is_finite() || e.strength < 0.0 {
            e.strength = 0.0;
        }
    }
    out
}

/// One researcher's turn in `round` (1-based): the case from the analysts that agree with its
/// side, and an answer to the other side's last turn.
pub fn debate_turn(state: &TradingState, stance: Stance, round: u32) -> DebateTurn {
    let wanted = match stance {
        Stance::Bull => Signal::Buy,
        Stance::Bear => Signal::Sell,
    };
    let views = evidence(state);
    let total = views.iter().fold(0.0, |sum, e| sum + e.strength);
    let mut support: Vec<&Evidence> = views.iter().filter(|e| e.signal == wanted).collect();
    support.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.agent.cmp(&b.agent))
    });
    let backing = support.iter().fold(0.0, |sum, e| sum + e.strength);
    let base = if total > 0.0 { backing / total } else { 0.0 };
    let opponent = state.last_turn(stance.opponent());
    // A side facing a stronger opponent concedes a little each round.
    let conviction = match opponent {
        Some(o) if o.turn.report.conviction > base => {
            base * 0.9f64.powi(round.saturating_sub(1) as i32)
        }
        _ => base,
    }
    .clamp(0.0, 1.0);
    let side = match stance {
        Stance::Bull => "buying",
        Stance::Bear => "selling",
    };
    let points: Vec<String> = support.iter().map(|e| e.summary()).collect();
    let argument = if points.is_empty() {
        format!("No analyst supports {side} now; the case rests on caution alone.")
    } else {
        format!(
            "The case for {side} rests on {} of {} analysts, led by {}.",
            points.len(),
            views.len(),
            points[0]
        )
    };
    let rebuttal = match opponent {
        None => String::new(),
        Some(o) => {
            let their = o
                .turn
                .report
                .points
                .first()
                .map_or_else(|| quote(&o.turn.report.argument, 120), |p| quote(p, 120));
            format!(
                "The {} leans on \"{their}\", but that view carries {:.0}% of the weighted evidence against {:.0}% for {side}.",
                match stance.opponent() {
                    Stance::Bull => "bull",
                    Stance::Bear => "bear",
                },
                100.0 * o.turn.report.conviction,
                100.0 * conviction
            )
        }
    };
    DebateTurn {
        argument,
        points,
        rebuttal,
        conviction,
    }
}
