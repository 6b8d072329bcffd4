//! `tradegraph run` as a child process: its output read line by line as it comes, SIGTERM, and
//! its exit.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running bot.
pub struct Bot {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// What a bot left when it exited.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Exited {
    /// Both streams, to show when an assertion fails.
    pub fn dump(&self) -> String {
        format!(
            "status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout.join("\n"),
            self.stderr.join("\n")
        )
    }
}

fn pump(
    from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            into.lock().unwrap().push(line);
        }
    })
}

impl Bot {
    /// Starts the binary in `dir` with `args` and only the environment `env` (nothing of the
    /// test's own environment leaks in: no keys, no `REDIS_URL`, no `TRADEGRAPH_*`).
    pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
        command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The HTTP service on a port of its own, so bots of tests running at once do not
        // collide on the instrument's default (8001).
        command.env("TRADEGRAPH_LISTEN", "127.0.0.1:0");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            pump(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            pump(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The lines printed so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The log lines so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    fn dump(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout().join("\n"),
            self.stderr().join("\n")
        )
    }

    /// Polls `done` (on the output so far and anything else it reads, such as the state file)
    /// until it holds; fails after `limit` (only there so that a broken bot cannot hang the
    /// test) or when the bot exits first.
    pub fn wait_until(&mut self, what: &str, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if done(self) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                if done(self) {
                    return;
                }
                panic!("the bot exited ({status}) before {what}\n{}", self.dump());
            }
            if Instant::now() > deadline {
                let dump = self.dump();
                let _ = self.child.kill();
                panic!("no {what} within {limit:?}\n{dump}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Sends SIGTERM, as `kill` or a service manager does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {} failed", self.child.id());
    }

    /// Waits for the bot to exit; kills it and fails after `limit`.
    pub fn wait_exit(mut self, limit: Duration) -> Exited {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let dump = self.dump();
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the bot did not exit within {limit:?} of SIGTERM\n{dump}");
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        Exited {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Bot {
    /// A test that fails half-way leaves no bot running.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Bot {
    /// Waits until the feed's reconnection attempts appear `n` times in the log.
    pub fn wait_for_reconnects(&mut self, n: usize) {
        self.wait_until(
            &format!("{n} reconnection attempts logged"),
            Duration::from_secs(20),
            |b| {
                b.stderr()
                    .iter()
                    .filter(|l| l.contains("feed: reconnecting"))
                    .count()
                    >= n
            },
        );
    }

    /// Waits until the cycle of `symbol` at `at` is printed.
    pub fn wait_for_cycle(&mut self, symbol: &str, at: tradegraph_core::Timestamp) {
        self.wait_until(
            &format!("a cycle of {symbol} at {at}"),
            Duration::from_secs(20),
            |b| {
                super::cycles(&b.stdout(), symbol)
                    .iter()
                    .any(|(t, _)| *t == at)
            },
        );
    }

    /// SIGKILL: the bot dies at once and saves nothing more; what it left.
    pub fn kill(mut self) -> Exited {
        let _ = self.child.kill();
        self.wait_exit(Duration::from_secs(15))
    }

    /// SIGTERM, then the exit, which must be clean (code 0).
    pub fn stop_cleanly(self) -> Exited {
        self.terminate();
        let exited = self.wait_exit(Duration::from_secs(15));
        assert_eq!(exited.status.code(), Some(0), "{}", exited.dump());
        exited
    }
}
