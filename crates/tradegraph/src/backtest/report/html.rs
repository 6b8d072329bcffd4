//! `report.html`: one self-contained page (inline SVG and CSS, no script, no external URL) with
//! the plots, the figures, the costs, the agents, the model usage and the trades. Everything
//! that comes from data is HTML-escaped.

use super::summary::Summary;
use super::trades::TradeRow;
use crate::backtest::metrics::{Metrics, RULE_MODE_IS_THE_RUN};
use std::fmt::Write;

/// The file name.
pub const REPORT_FILE: &str = "report.html";

/// Trades listed in the page at most (all of them are in `trades.csv`).
pub const MAX_TRADE_ROWS: usize = 1_000;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:.9em}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}\
th:first-child,td:first-child{text-align:left}.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.6em 1em}\
.note{background:#eef5fb;border:1px solid #b6d4ea;padding:.6em 1em}figure{margin:1em 0}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.8em}";

/// Escapes `text` for HTML text and attribute values.
///
/// ```
/// use tradegraph::backtest::report::escape;
/// assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The start of a page titled `title`.
pub(crate) fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    )
}

/// The end of a page.
pub(crate) const PAGE_END: &str = "</body></html>\n";

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| v.to_string())
}

/// A table: a header row and data rows, every cell escaped.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", escape(h));
    }
    t += "</tr></thead><tbody>\n";
    for row in rows {
        t += "<tr>";
        for cell in row {
            let _ = write!(t, "<td>{}</td>", escape(cell));
        }
        t += "</tr>\n";
    }
    t + "</tbody></table>\n"
}

/// The page of one run: `summary` and `trades`, with the plots `equity_svg` and `drawdown_svg`
/// (SVG documents, inlined).
pub fn render(
    summary: &Summary,
    trades: &[TradeRow],
    equity_svg: &str,
    drawdown_svg: &str,
) -> String {
    let mut h = page_start(&format!("Backtest of {}", summary.instrument));
    let _ = writeln!(h, "<h1>Backtest of {}</h1>", escape(&summary.instrument));
    let span = match (&summary.data.first, &summary.data.last) {
        (Some(a), Some(b)) => format!(
            "{} bars, from {} (open {}) to {} (close {})",
            summary.data.bars, a.ts, a.open, b.ts, b.close
        ),
        _ => "no bars".to_owned(),
    };
    let _ = writeln!(h, "<p>{}</p>", escape(&span));
    if let Some(why) = &summary.stopped {
        let _ = writeln!(
            h,
            "<p class=\"warn\" id=\"stopped\"><strong>The run stopped before the end of its \
             data</strong> (its figures cover the bars up to there): {}</p>",
            escape(why)
        );
    }
    if let Some(why) = &summary.suspicious {
        let _ = writeln!(
            h,
            "<p class=\"warn\" id=\"suspicious\"><strong>Suspicious:</strong> {}</p>",
            escape(why)
        );
    }
    for notice in &summary.model_notices {
        let _ = writeln!(h, "<p class=\"warn\">{}</p>", escape(notice));
    }
    let _ = writeln!(
        h,
        "<p class=\"note\" id=\"fills\"><strong>Fills:</strong> {}</p>",
        escape(&summary.costs.fills)
    );
    h += "<h2>Equity</h2>\n<figure id=\"equity\">";
    h += equity_svg;
    h += "</figure>\n<h2>Drawdown</h2>\n<figure id=\"drawdown\">";
    h += drawdown_svg;
    h += "</figure>\n<h2>Metrics</h2>\n";
    h += &figures(summary);
    h += "<h2>Agents</h2>\n";
    let agents: Vec<Vec<String>> = summary
        .agents
        .iter()
        .map(|(agent, s)| {
            vec![
                agent.as_str().to_owned(),
                s.reports.to_string(),
                s.by_model.to_string(),
                s.by_rules.to_string(),
                s.fallbacks.to_string(),
                s.buy.to_string(),
                s.sell.to_string(),
                s.hold.to_string(),
                s.judged.to_string(),
                opt(s.hit_rate.map(|v| format!("{:.0}%", 100.0 * v))),
            ]
        })
        .collect();
    h += &table(
        &[
            "agent",
            "reports",
            "by model",
            "by rules",
            "fallbacks",
            "buy",
            "sell",
            "hold",
            "trades judged",
            "hit rate",
        ],
        &agents,
    );
    h += "<h2>Models</h2>\n";
    match &summary.llm {
        None => h += "<p>No model configured: every report was made by rules (no calls, no tokens, no cost).</p>\n",
        Some(books) => {
            let row = |name: &str, a: &tradegraph_llm::budget::Account| {
                vec![
                    name.to_owned(),
                    a.calls.to_string(),
                    a.cached.to_string(),
                    a.usage.input_tokens.to_string(),
                    a.usage.output_tokens.to_string(),
                    a.cost.round_dp(4).to_string(),
                    a.unpriced_calls.to_string(),
                ]
            };
            let mut rows = vec![row("all", &books.run)];
            rows.extend(books.providers.iter().map(|(p, a)| row(p, a)));
            h += &table(
                &["provider", "calls", "cached", "input tokens", "output tokens", "cost (USD)", "unpriced calls"],
                &rows,
            );
        }
    }
    let _ = writeln!(h, "<h2>Trades ({})</h2>", trades.len());
    let rows: Vec<Vec<String>> = trades
        .iter()
        .take(MAX_TRADE_ROWS)
        .map(|t| {
            vec![
                t.trade_id.clone(),
                t.side.to_string(),
                t.entry_time.to_string(),
                t.entry_price.to_string(),
                t.exit_time.to_string(),
                t.exit_price.to_string(),
                t.quantity.to_string(),
                t.pnl.round_dp(4).to_string(),
                t.fees.round_dp(4).to_string(),
            ]
        })
        .collect();
    h += &table(
        &[
            "trade",
            "side",
            "entry time",
            "entry price",
            "exit time",
            "exit price",
            "quantity",
            "P&L",
            "fees",
        ],
        &rows,
    );
    if trades.len() > MAX_TRADE_ROWS {
        let _ = writeln!(
            h,
            "<p>The first {MAX_TRADE_ROWS} shown; every trade is in trades.csv.</p>"
        );
    }
    h += "<h2>Costs</h2>\n";
    let _ = writeln!(h, "<pre>{}</pre>", escape(&pretty(&summary.costs.fees)));
    h += "<h2>Versions</h2>\n";
    let mut versions = vec![vec![
        format!("graph ({})", summary.graph.origin),
        summary.graph.sha256.clone(),
    ]];
    versions.extend(
        summary
            .prompt_versions
            .iter()
            .map(|(a, v)| vec![format!("prompt: {}", a.as_str()), v.clone()]),
    );
    h += &table(&["what", "version"], &versions);
    h += "<h2>Configuration</h2>\n";
    let _ = writeln!(h, "<pre>{}</pre>", escape(&pretty(&summary.configuration)));
    h + PAGE_END
}

/// The metrics table (the run and its baselines side by side) and the run's counts.
fn figures(summary: &Summary) -> String {
    let r = &summary.results;
    let m = &summary.metrics;
    let hold = summary.baselines.as_ref().map(|b| &b.buy_and_hold);
    let rules = summary
        .baselines
        .as_ref()
        .and_then(|b| b.rule_mode.as_ref());
    let frac =
        |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{:.2}%", 100.0 * v));
    let num = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"));
    let money = |v: Option<rust_decimal::Decimal>| {
        v.map_or_else(|| "n/a".to_owned(), |v| v.round_dp(2).to_string())
    };
    type Cell = Box<dyn Fn(&Metrics) -> String>;
    let rows: Vec<(&str, Cell)> = vec![
        ("total return", Box::new(move |m| frac(m.total_return))),
        ("annual return", Box::new(move |m| frac(m.annual_return))),
        (
            "annual volatility",
            Box::new(move |m| frac(m.annual_volatility)),
        ),
        ("Sharpe", Box::new(move |m| num(m.sharpe))),
        ("Sortino", Box::new(move |m| num(m.sortino))),
        ("Calmar", Box::new(move |m| num(m.calmar))),
        ("max drawdown", Box::new(move |m| frac(m.max_drawdown))),
        (
            "longest drawdown",
            Box::new(|m| {
                format!(
                    "{} bars ({:.1} days)",
                    m.max_drawdown_bars,
                    m.max_drawdown_millis as f64 / 86_400_000.0
                )
            }),
        ),
        ("trades", Box::new(|m| m.trades.to_string())),
        ("win rate", Box::new(move |m| frac(m.win_rate))),
        ("profit factor", Box::new(move |m| num(m.profit_factor))),
        ("expectancy", Box::new(move |m| money(m.expectancy))),
        ("average win", Box::new(move |m| money(m.average_win))),
        ("average loss", Box::new(move |m| money(m.average_loss))),
        ("exposure", Box::new(move |m| frac(m.exposure))),
        ("turnover", Box::new(move |m| num(m.turnover))),
        ("fees paid", Box::new(move |m| money(Some(m.fees_paid)))),
        (
            "underwater at the end",
            Box::new(|m| if m.underwater_at_end { "yes" } else { "no" }.to_owned()),
        ),
    ];
    let note = summary
        .baselines
        .as_ref()
        .and_then(|b| b.rule_mode_note.clone())
        .unwrap_or_else(|| "not run".to_owned());
    let rule_run = summary.baselines.as_ref().is_some_and(|b| {
        b.rule_mode.is_none() && b.rule_mode_note.as_deref() == Some(RULE_MODE_IS_THE_RUN)
    });
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, cell)| {
            vec![
                (*label).to_owned(),
                cell(m),
                hold.map_or_else(|| "not run".to_owned(), cell),
                // a run in rule mode is its own rule-mode baseline (the note says so)
                rules.map_or_else(
                    || {
                        if rule_run {
                            cell(m)
                        } else {
                            "not run".to_owned()
                        }
                    },
                    cell,
                ),
            ]
        })
        .collect();
    let mut h = format!("<p>{}</p>\n", escape(&m.annualization.describe()));
    h += &table(&["metric", "strategy", "buy-and-hold", "rule mode"], &cells);
    if rules.is_none() {
        let _ = writeln!(h, "<p>Rule mode: {}</p>", escape(&note));
    }
    if let Some(why) = &summary.baselines_error {
        let _ = writeln!(
            h,
            "<p class=\"warn\" id=\"baselines-error\">The baselines failed: {}</p>",
            escape(why)
        );
    }
    match summary
        .baselines
        .as_ref()
        .map(|b| b.buy_and_hold_entry.as_ref())
    {
        Some(Some(e)) => {
            let _ = writeln!(
                h,
                "<p id=\"hold-entry\">Buy-and-hold bought {} at {} on {} (fee {}).</p>",
                escape(&e.quantity.to_string()),
                escape(&e.price.to_string()),
                escape(&e.at.to_string()),
                escape(&e.fee.round_dp(4).to_string())
            );
        }
        Some(None) => {
            h += "<p id=\"hold-entry\">Buy-and-hold bought nothing: the cash could not buy one lot, or no decision came.</p>\n";
        }
        None => {}
    }
    h += "<h2>Costs</h2>\n";
    let fees: Vec<Vec<String>> = m
        .fees_by_kind
        .iter()
        .map(|(kind, amount)| vec![kind.to_string(), amount.round_dp(4).to_string()])
        .chain(std::iter::once(vec![
            "all fees".to_owned(),
            m.fees_paid.round_dp(4).to_string(),
        ]))
        .collect();
    h += &table(&["charge", "amount"], &fees);
    h += "<h2>Run</h2>\n";
    let d = |v: rust_decimal::Decimal| v.round_dp(2).to_string();
    let run = vec![
        vec!["starting cash".to_owned(), d(r.initial_cash)],
        vec!["final equity".to_owned(), d(r.final_equity)],
        vec![
            "P&L".to_owned(),
            format!("{} ({:+.2}%)", d(r.pnl), r.return_pct),
        ],
        vec!["realized P&L".to_owned(), d(r.realized_pnl)],
        vec![
            "decision cycles (acted on)".to_owned(),
            format!("{} ({})", r.cycles, r.decisions_to_act),
        ],
        vec![
            "verdicts approved / clamped / rejected".to_owned(),
            format!("{} / {} / {}", r.approved, r.clamped, r.rejected),
        ],
        vec![
            "orders (refused at execution)".to_owned(),
            format!("{} ({})", r.orders, r.refusals),
        ],
        vec![
            "reports by model / by rules (fallbacks)".to_owned(),
            format!(
                "{} / {} ({})",
                r.reports_by_model, r.reports_by_rules, r.fallbacks
            ),
        ],
    ];
    h + &table(&["", ""], &run)
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::decisions::{AgentStats, DataSpan};
    use super::super::summary::{Costs, GraphVersion, Results, SUMMARY_FORMAT};
    use super::*;
    use crate::backtest::metrics::{compute, Annualization};
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    use tradegraph_agents::AgentName;
    use tradegraph_core::{Instrument, Side, Timestamp};

    #[test]
    fn everything_from_data_is_escaped() {
        let hostile = "<script>alert('x')</script>";
        let instrument = Instrument::btc_usdt();
        let metrics = compute(
            &[],
            &[],
            &[],
            Annualization::new(&instrument.session, 60_000),
        );
        let summary = Summary {
            format: SUMMARY_FORMAT,
            tradegraph_version: hostile.into(),
            instrument: hostile.into(),
            period: crate::backtest::metrics::Period::default(),
            window: None,
            data: DataSpan::default(),
            data_sha256: hostile.into(),
            results: Results::of(&crate::engine::BotSummary::default(), &instrument),
            metrics,
            baselines: None,
            baselines_error: Some(hostile.into()),
            stopped: Some(hostile.into()),
            suspicious: Some(hostile.into()),
            costs: Costs {
                fills: hostile.into(),
                fees: serde_json::json!({ "note": hostile }),
            },
            model_notices: vec![hostile.into()],
            graph: GraphVersion::of(hostile, "nodes: []"),
            prompt_versions: BTreeMap::from([(AgentName::Technical, hostile.to_owned())]),
            agents: BTreeMap::from([(AgentName::Technical, AgentStats::default())]),
            llm: None,
            configuration: serde_json::json!({ "bot": { "name": hostile } }),
        };
        let trade = TradeRow {
            trade_id: hostile.into(),
            side: Side::Sell,
            entry_time: Timestamp::EPOCH,
            entry_price: Decimal::ONE,
            exit_time: Timestamp::EPOCH,
            exit_price: Decimal::ONE,
            quantity: Decimal::ONE,
            pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
        };
        let page = render(&summary, &[trade], "<svg></svg>", "<svg></svg>");
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)"), "{page}");
        assert!(page.contains("id=\"suspicious\""), "the flag is shown");
        assert!(page.contains("id=\"stopped\""), "the stop is shown");
        assert!(page.contains("<td>SELL</td>"), "{page}");
    }
}
