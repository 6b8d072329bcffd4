//! `tradegraph kite login`: the day's Kite access token from the login's request token.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use tradegraph_broker::live::kite::{ist_today, login, save_token, DEFAULT_API_URL};
use tradegraph_core::redact::Secret;

#[derive(Debug, Subcommand)]
pub(super) enum KiteCommand {
    /// Exchange the request token of Kite's login redirect for today's access token, and keep
    /// it in the data directory (file `kite-access-token`, readable by its owner only, with
    /// its day: Kite's tokens last until the next morning, so a bot refuses a token of another
    /// day and asks to log in again). The bot uses it when KITE_ACCESS_TOKEN is not set.
    ///
    /// Needs KITE_API_KEY and KITE_API_SECRET (the Kite Connect app's); KITE_API_URL sets
    /// another API address. The token is never printed. Exit code 2 when the options or the
    /// credentials are missing, 3 when Kite refuses the login or the file cannot be written.
    Login(LoginArgs),
}

/// `tradegraph kite login`.
#[derive(Debug, Args)]
pub(super) struct LoginArgs {
    /// The `request_token` Kite appended to the app's redirect URL after the login.
    #[arg(long, value_name = "TOKEN")]
    request_token: String,
    /// The bot's data directory, where the token is kept.
    #[arg(long, value_name = "DIR", default_value = "./data")]
    data_dir: PathBuf,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub(super) fn run(command: KiteCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let KiteCommand::Login(args) = command;
    let (Some(key), Some(secret)) = (env("KITE_API_KEY"), env("KITE_API_SECRET")) else {
        let _ = writeln!(
            err,
            "tradegraph: set KITE_API_KEY and KITE_API_SECRET to the Kite Connect app's key and secret"
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
    let (key, secret) = (Secret::new(key), Secret::new(secret));
    let api_url = env("KITE_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned());
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
    match save_token(&args.data_dir, &token, &day) {
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
