//! The `tradegraph` command: see `tradegraph --help`.

use std::io::Write;
use std::process::ExitCode;

/// mimalloc: a year's backtest allocates and frees tens of millions of small blocks (reports,
/// candles, records), and glibc's allocator spent a fifth of the run on them
/// (`cargo bench -p tradegraph --bench year_report`; the README's table).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Unlocked handles: each write takes the lock for itself. Holding stderr's lock for the
    // whole command would stop every other thread's log line (the backtest's baselines run on
    // one) until the command ends, and the command waits for them.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = tradegraph::cli::run(std::env::args_os(), &mut out, &mut err);
    // a closed pipe (`tradegraph graph render x | head`) is not worth a second error
    let _ = out.flush();
    let _ = err.flush();
    ExitCode::from(code)
}
