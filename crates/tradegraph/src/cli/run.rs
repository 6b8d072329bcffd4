//! `tradegraph run`: a long-running paper bot on a live, replayed or synthetic feed.

use super::bot::{assemble, drive, BudgetWatch, DefaultBudget};
use super::{EXIT_FAILED, EXIT_OK};
use crate::config::{Flags, Settings};
use crate::engine::{describe_cycle, summary_text, Mode};
use clap::Args;
use std::io::Write;

/// The options of `tradegraph run` (its help text is on `Command::Run`).
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    #[command(flatten)]
    flags: Flags,
}

pub(super) fn run(args: RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let settings = match super::bot::settings("run", &args.flags, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match super::bot::runtime("run", err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(serve(&settings, out)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "run: {e}");
            EXIT_FAILED
        }
    }
}

async fn serve(settings: &Settings, out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
    let bot = assemble(settings, Mode::Service, DefaultBudget::default(), out).await?;
    writeln!(
        out,
        "{}: paper trading {} on the {} feed with {} {:?}; a decision every {}",
        settings.name,
        settings.instrument.symbol,
        settings.feed.kind().as_str(),
        settings.cash,
        settings.instrument.currency,
        settings.decision_every,
    )?;
    if bot.llm.is_some() {
        writeln!(
            out,
            "models: up to {} calls per decision cycle",
            super::bot::MODEL_CALLS_PER_CYCLE
        )?;
    }
    let mut budget = BudgetWatch::new(bot.llm.clone());
    let instrument = bot.config.instrument.clone();
    let summary = {
        let out = &mut *out;
        Box::pin(drive(
            settings,
            bot.config,
            shutdown_signal(),
            |state| {
                let _ = writeln!(out, "{}", describe_cycle(state));
                if let Some(line) = budget.check() {
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
            },
            |feed| feed,
        ))
        .await?
    };
    writeln!(out, "{}", summary_text(&summary, &instrument))?;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM; a second one exits at once (code 130), without
/// waiting for the cycle in flight.
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the cycle in flight, saving, stopping (again to stop at once)"),
            _ = int.recv() => tracing::info!("SIGINT: finishing the cycle in flight, saving, stopping (again to stop at once)"),
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::warn!("second signal: stopping at once; the state saved so far is restored at the next start");
            std::process::exit(130);
        });
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
