//! The `tradegraph` command: see `tradegraph --help`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = tradegraph::cli::run(std::env::args_os(), &mut out, &mut err);
    // a closed pipe (`tradegraph graph render x | head`) is not worth a second error
    let _ = out.flush();
    let _ = err.flush();
    ExitCode::from(code)
}
