//! The chaos's schedule: a seeded generator, what each run suffers (a kill after a random
//! delay, a `mongod` outage before it starts or under it), and the figures counted on the way.

use super::bot::Run;
use super::compare::Checked;
use super::desk::Desk;
use super::private::PrivateMongo;
use std::collections::BTreeSet;
use std::time::Duration;

/// `TRADEGRAPH_CHAOS_SEED`, or one from the clock.
pub fn seed() -> u64 {
    match std::env::var("TRADEGRAPH_CHAOS_SEED")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        Some(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TRADEGRAPH_CHAOS_SEED={text} is not a number")),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// SplitMix64: small, seeded, good enough for a schedule.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A duration in `[low, high)`.
    pub fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_millis().max(1) as u64;
        low + Duration::from_millis(self.next() % span)
    }
}

/// What one run suffers.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// SIGKILL this long after the start (`None`: let it run).
    pub kill_at: Option<Duration>,
    /// `mongod` is stopped before the bot starts.
    pub outage_before_start: bool,
    /// `mongod` is stopped this long after the bot started.
    pub outage_at: Option<Duration>,
    /// How long `mongod` stays away.
    pub outage_for: Duration,
    /// A clean shutdown (`shutdown` command) rather than a SIGKILL.
    pub clean_stop: bool,
}

/// Kills wanted before runs are let finish, and starts after the guard's halt among them.
pub const KILLS: usize = 16;
pub const HALTED_STARTS: usize = 3;

/// Run `n`'s plan. A full uninterrupted run takes `full_run`: kills land anywhere from the
/// process start to a fifth of that (a restarted bot replays the data it already decided on
/// quickly, so each run goes a little further), and one in five early, while it starts,
/// restores its state and reconciles its orders; runs are killed until there were
/// [`KILLS`] kills and [`HALTED_STARTS`] starts after the guard's halt. About one run in three
/// has an outage, the second run always.
pub fn plan(rng: &mut Rng, n: usize, full_run: Duration, figures: &Figures) -> Plan {
    let wanted = figures.kills < KILLS || figures.halted_starts < HALTED_STARTS;
    let kill_at = (wanted && n < 45).then(|| {
        if rng.chance(0.2) {
            rng.between(Duration::ZERO, Duration::from_millis(400))
        } else {
            rng.between(Duration::from_millis(100), full_run / 5)
        }
    });
    // The second run always has one (so every chaos run has an outage), the others by chance.
    let outage = n == 1 || (n > 0 && rng.chance(0.35));
    let before = outage && rng.chance(0.4);
    let outage_at = (outage && !before).then(|| {
        let until = kill_at.unwrap_or(full_run);
        rng.between(Duration::ZERO, until)
    });
    Plan {
        kill_at,
        outage_before_start: before,
        outage_at,
        outage_for: rng.between(Duration::from_millis(200), Duration::from_millis(2_500)),
        clean_stop: rng.chance(0.5),
    }
}

/// Stops `mongod`: SIGKILL, or the `shutdown` command.
pub fn stop(
    rt: &tokio::runtime::Runtime,
    client: &mongodb::Client,
    mongod: &mut PrivateMongo,
    clean: bool,
    figures: &mut Figures,
) {
    if clean {
        // The server closes the connection as it goes: the command's error is expected.
        let admin = client.database("admin");
        let _ = rt.block_on(async { admin.run_command(mongodb::bson::doc! {"shutdown": 1}).await });
        // It stops by itself; a server that does not within ten seconds is killed below and
        // counted so.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let port = mongod.port;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            figures.killed_stops += 1;
        } else {
            figures.clean_stops += 1;
        }
    } else {
        figures.killed_stops += 1;
    }
    // Waits until the port is closed (and reaps a server that shut down by itself).
    mongod.stop();
}

/// What the chaos did and what was checked.
#[derive(Debug, Default)]
pub struct Figures {
    pub seed: u64,
    pub runs: usize,
    pub kills: usize,
    pub kills_starting: usize,
    pub kills_in_cycle: usize,
    pub kills_between: usize,
    pub clean_stops: usize,
    pub killed_stops: usize,
    pub error_exits: usize,
    pub outage_exits_ok: usize,
    pub cycles_run: usize,
    /// Starts with the guard's halt in the saved state.
    pub halted_starts: usize,
    /// Times a run's write-behind queue spilled to its file, and records written back from it.
    pub spills: usize,
    pub drained: u64,
    pub model_calls: u64,
    pub reference_run: Duration,
    pub wall: Duration,
}

impl Figures {
    /// Counts a kill of `run`, by where it lands: before its first decision cycle (start-up,
    /// state, reconciliation, the replay up to where it left off), in a cycle (its models were
    /// asked about a decision not yet printed), or between cycles.
    pub fn count_kill(&mut self, run: &Run, desk: &Desk) {
        self.kills += 1;
        let asked = *desk.last_asked.lock().unwrap();
        let printed = run.printed_cycles().last().copied();
        match asked.filter(|(when, _)| *when >= run.started) {
            None => self.kills_starting += 1,
            Some((_, at)) if printed.is_none_or(|p| at > p) => self.kills_in_cycle += 1,
            Some(_) => self.kills_between += 1,
        }
    }

    /// Counts what the stores of a run reported in its log: spills, and records written back.
    pub fn count_store_events(&mut self, stderr: &str) {
        for line in stderr.lines() {
            if line.contains("event=Spilling") {
                self.spills += 1;
            }
            if let Some(rest) = line.split("event=Drained").nth(1) {
                let records = rest
                    .split("records: ")
                    .nth(1)
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse::<u64>().ok());
                self.drained += records.unwrap_or(0);
            }
        }
    }

    pub fn print(&self, checked: &Checked, failed: &BTreeSet<String>) {
        eprintln!("chaos figures (seed {}):", self.seed);
        eprintln!(
            "  runs {}: {} killed (SIGKILL) — {} while starting, {} in a decision cycle, {} between cycles",
            self.runs, self.kills, self.kills_starting, self.kills_in_cycle, self.kills_between
        );
        eprintln!(
            "  mongod outages {} ({} SIGKILL, {} clean shutdown); runs that stopped on the store error {}, that finished through an outage {}; spills to the file {}, records written back from it {}",
            self.clean_stops + self.killed_stops,
            self.killed_stops,
            self.clean_stops,
            self.error_exits,
            self.outage_exits_ok,
            self.spills,
            self.drained
        );
        eprintln!(
            "  starts with the halt saved {}; cycles run across the runs {}; checked: {} decisions, {} trades, {} fills, {} order intents ({} abandoned), {} lessons, {} cycles after the halt",
            self.halted_starts,
            self.cycles_run,
            checked.decisions,
            checked.trades,
            checked.fills,
            checked.intents,
            checked.abandoned,
            checked.lessons,
            checked.halted_cycles
        );
        if let Some(at) = checked.diverged_at {
            eprintln!(
                "  the account parts from the reference's at {at} (an order that did not go out)"
            );
        }
        if !checked.decided_again.is_empty() {
            eprintln!(
                "  decided again after a kill between their order and their checkpoint (their record lacks the order the first attempt sent): {:?}",
                checked.decided_again
            );
        }
        if !failed.is_empty() {
            eprintln!("  cycles that failed in a run: {failed:?}");
        }
        eprintln!(
            "  model calls answered {}; uninterrupted run {:.1?}, whole test {:.1?}",
            self.model_calls, self.reference_run, self.wall
        );
    }
}
