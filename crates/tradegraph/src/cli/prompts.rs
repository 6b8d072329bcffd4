//! `tradegraph prompts render`.

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
    let PromptsCommand::Render {
        agent,
        instrument,
        dir,
        round,
    } = command;
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
        context.map(|c| prompts.render(agent, &c)).transpose()
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
