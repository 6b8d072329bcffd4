//! `tradegraph store`: upkeep of a bot's stores.

use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::config::Flags;
use clap::{Args, Subcommand};
use std::io::Write;

/// The subcommands of `tradegraph store`.
#[derive(Debug, Subcommand)]
pub(super) enum StoreCommand {
    /// Write the records MongoDB refused for good (the spill file's `.rejected`) to MongoDB again.
    ///
    /// Run it once their cause is fixed, with the bot that writes the spill file stopped: the
    /// bot's settings (flags, environment, configuration file) name MongoDB and the spill file,
    /// as for `run`. Each record keeps its original version, so one older than what MongoDB
    /// holds changes nothing. The file keeps only what is still not written: records refused
    /// again, with their new reason, and lines that cannot be read, as they were; each is named
    /// on stderr with its line number. Exit code 0 when nothing is left, 1 when lines are left,
    /// 2 when the settings are wrong or the bot still runs, 3 when MongoDB cannot take the
    /// records (the file keeps every line not written).
    ReplayRejected(ReplayArgs),
}

/// The options of `tradegraph store replay-rejected`.
#[derive(Debug, Args)]
pub(super) struct ReplayArgs {
    #[command(flatten)]
    flags: Flags,
}

pub(super) fn run(command: StoreCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        StoreCommand::ReplayRejected(args) => replay_rejected(&args, out, err),
    }
}

const NAME: &str = "store replay-rejected";

fn replay_rejected(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let settings = match super::bot::settings(NAME, &args.flags, super::bot::LiveUse::None, err) {
        Ok(settings) => settings,
        // 1 is this command's "lines are left": settings it cannot use are 2.
        Err(_) => return EXIT_USAGE,
    };
    let spill = &settings.stores.spill_path;
    let Some(uri) = settings.stores.mongodb_uri.clone() else {
        let _ = writeln!(
            err,
            "{NAME}: no MongoDB is configured for {} (MONGODB_URI or [stores] mongodb_uri), so \
             the rejected records of {} have nowhere to go",
            settings.name,
            spill.display()
        );
        return EXIT_USAGE;
    };
    let runtime = match super::bot::runtime(NAME, err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let database = settings.stores.database.clone();
    match runtime.block_on(replay(uri, database, spill)) {
        Ok(report) => print(&report, out, err),
        Err(e) => {
            let _ = writeln!(err, "{NAME}: {e}");
            match e {
                tradegraph_store::StoreError::Config(_)
                | tradegraph_store::StoreError::InUse { .. } => EXIT_USAGE,
                _ => EXIT_FAILED,
            }
        }
    }
}

#[cfg(feature = "mongodb")]
async fn replay(
    uri: String,
    database: String,
    spill: &std::path::Path,
) -> Result<tradegraph_store::ReplayReport, tradegraph_store::StoreError> {
    use tradegraph_store::mongo::{MongoConfig, MongoStore};
    let store = MongoStore::connect(&MongoConfig::new(uri).database(database)).await?;
    tradegraph_store::replay_rejected(spill, &store).await
}

#[cfg(not(feature = "mongodb"))]
async fn replay(
    _uri: String,
    _database: String,
    _spill: &std::path::Path,
) -> Result<tradegraph_store::ReplayReport, tradegraph_store::StoreError> {
    Err(tradegraph_store::StoreError::Config(
        "this tradegraph was built without the `mongodb` feature; rebuild with it".into(),
    ))
}

/// The summary on `out`, each line left on `err`; the exit code.
fn print(report: &tradegraph_store::ReplayReport, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let path = report.path.display();
    if report.lines == 0 {
        let _ = writeln!(out, "{NAME}: nothing to replay: {path} is empty or absent");
        return EXIT_OK;
    }
    let _ = writeln!(
        out,
        "{path}: {} lines: {} written, {} refused again, {} unreadable",
        report.lines,
        report.written,
        report.refused.len(),
        report.unreadable.len()
    );
    for (line, reason) in &report.refused {
        let _ = writeln!(err, "{path} line {line}: refused again, kept: {reason}");
    }
    for (line, why) in &report.unreadable {
        let _ = writeln!(err, "{path} line {line}: unreadable, kept as it was: {why}");
    }
    if report.kept() == 0 {
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}
