//! `tradegraph kite login`: the day's Kite access token from the login's request token.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use tradegraph_broker::live::kite::{ist_today, login, save_token};

#[derive(Debug, Subcommand)]
pub(super) enum KiteCommand {
    /// Exchange the request token of Kite's login redirect for today's access token, and keep
    /// it in the bot's data directory (`[live] data_dir`, TRADEGRAPH_DATA_DIR, or --data-dir;
    /// file `kite-access-token`, readable by its owner only, with its day: Kite's tokens last
    /// until the next morning, so a bot refuses a token of another day and asks to log in
    /// again). The bot uses it when KITE_ACCESS_TOKEN is not set.
    ///
    /// Needs KITE_API_KEY and KITE_API_SECRET (the Kite Connect app's); KITE_API_URL sets
    /// another API address. They are read as the bot reads its settings: the environment,
    /// `.env.<instrument>`, `.env`, the configuration file. The token is never printed. Exit
    /// code 2 when the options or the credentials are missing, 3 when Kite refuses the login
    /// or the file cannot be written.
    Login(LoginArgs),
}

/// `tradegraph kite login`.
#[derive(Debug, Args)]
pub(super) struct LoginArgs {
    /// The `request_token` Kite appended to the app's redirect URL after the login.
    #[arg(long, value_name = "TOKEN")]
    request_token: String,
    /// The instrument whose `.env.<name>` holds the app's key and secret [env:
    /// TRADEGRAPH_INSTRUMENT].
    #[arg(long, value_name = "NAME")]
    instrument: Option<String>,
    /// The configuration file [env: TRADEGRAPH_CONFIG; default: tradegraph.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the token is kept, instead of the bot's data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(super) fn run(command: KiteCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let KiteCommand::Login(args) = command;
    // The settings as the bot resolves them (a synthetic feed: the login is what the Kite
    // feed is missing).
    let flags = crate::config::Flags {
        instrument: args.instrument.clone(),
        config: args.config.clone(),
        feed: Some(crate::config::FeedKind::Synthetic),
        ..crate::config::Flags::default()
    };
    let settings = match super::bot::settings("kite login", &flags, super::bot::LiveUse::None, err)
    {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let app = settings.live_trading.kite_app;
    let (Some(key), Some(secret)) = (app.api_key, app.api_secret) else {
        let _ = writeln!(
            err,
            "tradegraph: set KITE_API_KEY and KITE_API_SECRET to the Kite Connect app's key and \
             secret (in the environment, .env.{} or .env)",
            settings.name
        );
        return EXIT_USAGE;
    };
    let request_token = args.request_token.trim();
    if request_token.is_empty() {
        let _ = writeln!(
            err,
            "tradegraph: --request-token is empty: pass the request_token of Kite's login redirect"
        );
        return EXIT_USAGE;
    }
    let api_url = app.api_url;
    let data_dir = args.data_dir.unwrap_or(settings.live_trading.data_dir);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let token = match runtime.block_on(login(&api_url, &key, &secret, request_token)) {
        Ok(token) => token,
        Err(e) => {
            let _ = writeln!(
                err,
                "tradegraph: Kite login failed: {e}; log in at Kite again for a new request token"
            );
            return EXIT_FAILED;
        }
    };
    let day = ist_today();
    match save_token(&data_dir, &token, &day) {
        Ok(path) => {
            let _ = writeln!(
                out,
                "Kite access token for {day} saved to {} (owner-only); the bot uses it until the day ends",
                path.display()
            );
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            EXIT_FAILED
        }
    }
}
