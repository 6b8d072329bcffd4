//! The bot under test: its data, its configuration, and `tradegraph run` as a child process
//! whose output goes to files (so that a SIGKILL loses nothing of it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tradegraph_core::Timestamp;

/// Where the data starts: a Monday, midnight UTC (the guard's trading day for crypto).
pub const START: &str = "2024-03-04T00:00:00Z";

/// `minutes` one-minute bars from [`START`]: a slow slide (6% over the data) with a 40-minute
/// swing of 0.4% on top, so that the scripted entries mostly lose, some to their stops between
/// decisions, and the daily loss limit is reached part of the way.
pub fn write_bars(path: &Path, minutes: usize) {
    let start: Timestamp = START.parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    let mut previous = 100.0_f64;
    for i in 0..minutes {
        let progress = i as f64 / minutes as f64;
        let wave = 0.004 * (std::f64::consts::TAU * i as f64 / 40.0).sin();
        let close = 100.0 * (1.0 - 0.06 * progress) * (1.0 + wave);
        let (high, low) = (previous.max(close) * 1.0004, previous.min(close) * 0.9996);
        let ts = start.add_millis(i as i64 * 60_000);
        csv += &format!("{ts},{previous:.2},{high:.2},{low:.2},{close:.2},10\n");
        previous = close;
    }
    std::fs::write(path, csv).unwrap();
}

/// A directory of its own for one bot: the data, `tradegraph.toml` pointing at `mongodb_uri`
/// and `database`, the spill file, and each run's output.
pub fn prepare(dir: &Path, data: &Path, mongodb_uri: &str, database: &str, loss_pct: &str) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(data, dir.join("bars.csv")).unwrap();
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!(
            "[bot]\n# the claim of a run killed here is taken over at once (its process is gone);\n\
             # one that cannot be told gone, after a second, not 30\ninstance_lease_secs = 1\n\n\
             [risk]\nmax_daily_loss_pct = \"{loss_pct}\"\n\n\
             [stores]\nmongodb_uri = \"{mongodb_uri}\"\ndatabase = \"{database}\"\n\
             spill_file = \"spill.jsonl\"\n"
        ),
    )
    .unwrap();
}

const ARGS: [&str; 7] = [
    "run",
    "--instrument",
    "btc",
    "--feed",
    "replay",
    "--data",
    "bars.csv",
];

/// One run of the bot.
pub struct Run {
    child: Child,
    pub started: Instant,
    out: PathBuf,
    err: PathBuf,
}

/// How a run ended.
#[derive(Debug)]
pub struct Ended {
    /// `None`: killed by the test.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Ended {
    /// Both streams, to show when an assertion fails.
    pub fn dump(&self) -> String {
        format!(
            "status {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.took, self.stdout, self.stderr
        )
    }

    /// The decision times of the cycle lines this run printed.
    pub fn cycles(&self) -> Vec<Timestamp> {
        cycle_lines(&self.stdout)
    }
}

/// The decision times of the cycle lines (`<time> BTCUSDT | ...`) in `stdout`.
fn cycle_lines(stdout: &str) -> Vec<Timestamp> {
    stdout
        .lines()
        .filter_map(|l| {
            let (at, rest) = l.split_once(' ')?;
            rest.starts_with("BTCUSDT | ").then(|| at.parse().ok())?
        })
        .collect()
}

impl Run {
    /// Starts run number `n` in `dir` with only the environment `env`.
    pub fn spawn(dir: &Path, n: usize, env: &[(&str, String)]) -> Self {
        let out = dir.join(format!("run-{n}.out"));
        let err = dir.join(format!("run-{n}.err"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
        command
            .args(ARGS)
            .current_dir(dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        // The HTTP service on a port of its own (runs of tests at once must not collide).
        command.env("TRADEGRAPH_LISTEN", "127.0.0.1:0");
        for (key, value) in env {
            command.env(key, value);
        }
        Self {
            child: command.spawn().unwrap(),
            started: Instant::now(),
            out,
            err,
        }
    }

    /// The decision times of the cycle lines printed so far.
    pub fn printed_cycles(&self) -> Vec<Timestamp> {
        cycle_lines(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn ended(&self, status: Option<ExitStatus>) -> Ended {
        Ended {
            status,
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
            took: self.started.elapsed(),
        }
    }

    /// SIGKILL: no signal handler, no flush, no last save.
    pub fn kill(mut self) -> Ended {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.ended(None)
    }

    /// Waits for the exit; fails after `limit` (a hung bot).
    pub fn wait(mut self, limit: Duration) -> Ended {
        while self.running() {
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the bot did not finish within {limit:?}\n{}",
                    self.ended(None).dump()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = self.child.wait().unwrap();
        self.ended(Some(status))
    }
}

impl Drop for Run {
    /// A test that fails half-way leaves no bot running.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
