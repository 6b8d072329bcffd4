//! `tradegraph prompts render`, and a running bot's prompt versions: `versions`, `approve`,
//! `withdraw`, `rollback`.

use super::bot_ctl::{self, Target};
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use tradegraph_agents::prompt::{PromptContext, Prompts};
use tradegraph_agents::{fixture, AgentName};
use tradegraph_core::{Instrument, Timeframe};

#[derive(Debug, Subcommand)]
pub(super) enum PromptsCommand {
    /// Render an agent's prompt (system and user messages) from the bundled fixture state of an
    /// instrument: 450 one-minute bars of sample data, the bundled news and macro figures, and
    /// rule-mode reports from the other agents.
    Render {
        /// The agent: technical, fundamental, sentiment, macro, bull, bear, risk_manager,
        /// portfolio_manager or learning (execution is code and has no prompt).
        #[arg(long)]
        agent: String,
        /// The instrument.
        #[arg(long, value_enum)]
        instrument: InstrumentKey,
        /// A directory whose templates replace the embedded ones (as TRADEGRAPH_PROMPTS_DIR does
        /// for the bots).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The debate round, for bull and bear.
        #[arg(long, default_value_t = 1)]
        round: u32,
    },
    /// A running bot's prompt versions, over its HTTP API: each analyst's versions (the
    /// learning agent's amendments), with the record they were proposed on, their shadow
    /// evaluation and every change of status. Exit code 3 when the bot cannot be reached.
    Versions {
        #[command(flatten)]
        target: Target,
        /// Only this agent's versions.
        #[arg(long)]
        agent: Option<String>,
    },
    /// Adopt a proposed, rejected or withdrawn version of an analyst's prompt on a running bot:
    /// its prompt carries the amendment from the next cycle (recorded in the operator log). Needs
    /// the control token in TRADEGRAPH_API_TOKEN. Exit code 3 when the bot refuses or cannot be
    /// reached.
    Approve(VersionArgs),
    /// Withdraw a pending proposal for an analyst's prompt on a running bot: it is not
    /// evaluated, and no longer holds back the learning agent's next one (it can still be
    /// approved). Needs the control token in TRADEGRAPH_API_TOKEN. Exit code 3 when the bot
    /// refuses or cannot be reached.
    Withdraw(VersionArgs),
    /// Roll an analyst's prompt on a running bot back to a version it used before (0: the
    /// template as shipped). Needs the control token in TRADEGRAPH_API_TOKEN. Exit code 3 when
    /// the bot refuses or cannot be reached.
    Rollback {
        #[command(flatten)]
        target: Target,
        /// The agent.
        #[arg(long)]
        agent: String,
        /// The version to go back to.
        #[arg(long)]
        to: u32,
    },
}

/// Which bot, and which version of which agent's prompt.
#[derive(Debug, clap::Args)]
pub(super) struct VersionArgs {
    #[command(flatten)]
    target: Target,
    /// The agent.
    #[arg(long)]
    agent: String,
    /// The version's number (as `tradegraph prompts versions` shows it).
    #[arg(long)]
    version: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum InstrumentKey {
    /// BTC/USDT on Binance.
    Btc,
    /// Nifty Bank (NSE futures).
    Banknifty,
    /// Nifty 50 (NSE futures).
    Nifty,
}

pub(super) fn run(command: PromptsCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        PromptsCommand::Render {
            agent,
            instrument,
            dir,
            round,
        } => render(&agent, instrument, dir, round, out, err),
        PromptsCommand::Versions { target, agent } => {
            let mut path = "/api/v1/prompts/versions".to_owned();
            if let Some(agent) = agent {
                match agent.parse::<AgentName>() {
                    Ok(agent) => path.push_str(&format!("?agent={agent}")),
                    Err(e) => {
                        let _ = writeln!(err, "tradegraph: --agent: {e}");
                        return EXIT_USAGE;
                    }
                }
            }
            call(&target, &path, None, out, err, |body, out| {
                let items = body["items"].as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    let _ = writeln!(
                        out,
                        "no prompt versions: every analyst's prompt is the template as shipped"
                    );
                }
                for version in &items {
                    for line in version_lines(version) {
                        let _ = writeln!(out, "{line}");
                    }
                }
            })
        }
        PromptsCommand::Approve(args) => on_version(&args, "approve", out, err),
        PromptsCommand::Withdraw(args) => on_version(&args, "withdraw", out, err),
        PromptsCommand::Rollback { target, agent, to } => match agent.parse::<AgentName>() {
            Ok(agent) => {
                let path = format!("/api/v1/prompts/versions/{agent}/rollback");
                let body = serde_json::json!({ "to": to });
                call(&target, &path, Some(body), out, err, said)
            }
            Err(e) => {
                let _ = writeln!(err, "tradegraph: --agent: {e}");
                EXIT_USAGE
            }
        },
    }
}

/// `POST .../{agent}/{version}/{action}` on the bot, with the control token.
fn on_version(args: &VersionArgs, action: &str, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match args.agent.parse::<AgentName>() {
        Ok(agent) => {
            let path = format!("/api/v1/prompts/versions/{agent}/{}/{action}", args.version);
            call(
                &args.target,
                &path,
                Some(serde_json::json!({})),
                out,
                err,
                said,
            )
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph: --agent: {e}");
            EXIT_USAGE
        }
    }
}

/// What the bot said it did.
fn said(body: &serde_json::Value, out: &mut dyn Write) {
    let _ = writeln!(out, "{}", bot_ctl::message(body));
}

/// `GET` (no `body`) or `POST` (with the control token) `path` on the bot at `target`, and
/// `show` its answer.
fn call(
    target: &Target,
    path: &str,
    body: Option<serde_json::Value>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    show: impl FnOnce(&serde_json::Value, &mut dyn Write),
) -> u8 {
    match bot_ctl::call(target, path, body, err) {
        Ok((answer, bot)) => {
            // A command that changed the bot says which bot first.
            if let Some(bot) = bot {
                let _ = write!(out, "{bot}: ");
            }
            show(&answer, out);
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// A prompt version as lines of text: agent, number and status; the record it was proposed
/// on and its shadow evaluation; the amendment; its history.
fn version_lines(v: &serde_json::Value) -> Vec<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let history = v["history"].as_array().cloned().unwrap_or_default();
    // as the bot's messages say it (`rolled back`)
    let status_of = |c: &serde_json::Value| text(&c["status"]).replace('_', " ");
    let status = history.last().map_or("-".to_owned(), status_of);
    let evidence = &v["evidence"];
    let mut lines = vec![format!(
        "{} v{}  {status}  (amends {})",
        text(&v["agent"]),
        text(&v["number"]),
        text(&v["amends"])
    )];
    lines.push(format!(
        "  record    {} of {} calls right",
        text(&evidence["hits"]),
        text(&evidence["calls"])
    ));
    let shadow = &evidence["shadow"];
    if shadow.is_object() {
        let score = |s: &serde_json::Value| {
            let hits = s["hits"].as_i64().unwrap_or(0);
            format!(
                "{hits} right, net {:+}",
                hits - s["misses"].as_i64().unwrap_or(0)
            )
        };
        lines.push(format!(
            "  shadow    amended {} | as sent {} | {} cycles asked, {} unanswered, {} changed",
            score(&shadow["amended"]),
            score(&shadow["current"]),
            text(&shadow["cycles"]),
            text(&shadow["unanswered"]),
            text(&shadow["changed"])
        ));
    }
    for line in text(&v["amendment"]).lines() {
        lines.push(format!("  | {line}"));
    }
    for change in &history {
        let by = &change["by"];
        let who = match by["kind"].as_str() {
            Some("person") => format!("a person ({})", text(&by["via"])),
            Some(kind) => kind.to_owned(),
            None => "-".to_owned(),
        };
        lines.push(format!(
            "  {}  {}  by {who}: {}",
            text(&change["at"]),
            status_of(change),
            text(&change["note"])
        ));
    }
    lines
}

fn render(
    agent: &str,
    instrument: InstrumentKey,
    dir: Option<PathBuf>,
    round: u32,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let agent: AgentName = match agent.parse() {
        Ok(agent) => agent,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: --agent: {e}");
            return EXIT_USAGE;
        }
    };
    let instrument = match instrument {
        InstrumentKey::Btc => Instrument::btc_usdt(),
        InstrumentKey::Banknifty => Instrument::bank_nifty(),
        InstrumentKey::Nifty => Instrument::nifty_50(),
    };
    let prompts = match dir {
        Some(dir) => Prompts::with_overrides(&dir),
        None => Prompts::embedded(),
    };
    let rendered = prompts.and_then(|prompts| {
        let state = fixture::state(&instrument)?;
        let round = if matches!(agent, AgentName::Bull | AgentName::Bear) {
            round.max(1)
        } else {
            0
        };
        let context = PromptContext::for_agent(agent, &state, Timeframe::M15, round);
        context.map(|c| prompts.render_owned(agent, c)).transpose()
    });
    match rendered {
        Ok(Some(p)) => {
            let _ = writeln!(
                out,
                "# {} ({})\n\n## system\n\n{}\n\n## user\n\n{}",
                p.agent, p.version, p.system, p.user
            );
            EXIT_OK
        }
        Ok(None) => {
            let _ = writeln!(
                err,
                "tradegraph: {agent} is deterministic code and has no prompt"
            );
            EXIT_USAGE
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            EXIT_INVALID
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_agents::learning::{Call, PromptVersions, RefinePolicy, Score, Shadow};
    use tradegraph_agents::reports::Signal;
    use tradegraph_core::Timestamp;

    #[test]
    fn a_version_reads_as_its_record_its_shadow_scores_its_words_and_its_history() {
        let mut book = PromptVersions::default();
        for n in 0..6_i64 {
            book.record(
                AgentName::Macro,
                Call {
                    trade_id: format!("t{n}"),
                    closed_at: Timestamp::from_secs(n),
                    signal: Signal::Sell,
                    moved: if n == 0 { Signal::Sell } else { Signal::Buy },
                    version: "macro@01".into(),
                    prompt_hash: None,
                    situation: Default::default(),
                },
            );
        }
        let at = Timestamp::from_secs(1_700_000_000);
        book.propose(
            AgentName::Macro,
            "macro@01",
            &[],
            &RefinePolicy::default(),
            at,
        )
        .unwrap();
        let shadow = Shadow {
            cycles: 6,
            changed: 4,
            unanswered: 1,
            current: Score { hits: 1, misses: 4 },
            amended: Score { hits: 4, misses: 1 },
        };
        book.settle(AgentName::Macro, 1, shadow, at).unwrap();
        let json = serde_json::to_value(book.version(AgentName::Macro, 1).unwrap()).unwrap();
        let lines = version_lines(&json);
        assert_eq!(lines[0], "macro v1  adopted  (amends macro@01)");
        assert_eq!(lines[1], "  record    1 of 6 calls right");
        assert_eq!(
            lines[2],
            "  shadow    amended 4 right, net +3 | as sent 1 right, net -3 | 6 cycles asked, 1 unanswered, 4 changed"
        );
        assert!(lines[3].starts_with("  | Your record under this prompt: 1 of your last 6"));
        let history: Vec<&String> = lines.iter().filter(|l| l.contains(" by ")).collect();
        assert_eq!(history.len(), 2, "{lines:#?}");
        assert!(
            history[0].contains("proposed  by learner"),
            "{}",
            history[0]
        );
        assert!(
            history[1].contains("adopted  by shadow: better"),
            "{}",
            history[1]
        );
    }
}
