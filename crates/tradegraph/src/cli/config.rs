//! `tradegraph config show` and `tradegraph config env-example`.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::config::{env_example, env_example_names, Flags, Settings, ShowFormat};
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub(super) enum ConfigCommand {
    /// Print the effective configuration of a bot: every setting with where it came from
    /// (flag, env, .env.<instrument>, .env, file or default), keys and tokens as ***, URLs
    /// without their password.
    ///
    /// Precedence: flags, the environment, .env.<instrument>, .env, the configuration file
    /// (--config, TRADEGRAPH_CONFIG or ./tradegraph.toml), the defaults. Exit code 1 when the
    /// configuration is invalid (the problem is named with its file and line, or its variable),
    /// 2 when a file it names cannot be read.
    Show {
        #[command(flatten)]
        flags: Flags,
        /// The output's format.
        #[arg(long, value_enum, default_value_t)]
        format: ShowFormat,
    },
    /// Print the example `.env` file of a built-in instrument, written from the defaults in
    /// code (the `.env.*.example` files of the repository are its output): every LLM
    /// provider's key, base URL and default model, the venue's keys, the stores.
    EnvExample {
        /// `btc`, `banknifty` or `nifty`.
        #[arg(long, default_value = "btc")]
        instrument: String,
    },
}

pub(super) fn run(command: ConfigCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        ConfigCommand::Show { flags, format } => show(&flags, format, out, err),
        ConfigCommand::EnvExample { instrument } => match env_example(&instrument) {
            Some(text) => {
                let _ = write!(out, "{text}");
                EXIT_OK
            }
            None => {
                let _ = writeln!(
                    err,
                    "tradegraph config env-example: no example for `{instrument}`; the built-in instruments are {}",
                    env_example_names().join(", ")
                );
                EXIT_USAGE
            }
        },
    }
}

fn show(flags: &Flags, format: ShowFormat, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let cwd = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(e) => {
            let _ = writeln!(
                err,
                "tradegraph config: cannot read the current directory: {e}"
            );
            return EXIT_USAGE;
        }
    };
    match Settings::resolve(flags, &|k| std::env::var(k).ok(), &cwd) {
        Ok(settings) => {
            let _ = write!(out, "{}", settings.show(format));
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph config: {e}");
            if e.is_unreadable() {
                EXIT_USAGE
            } else {
                EXIT_INVALID
            }
        }
    }
}
