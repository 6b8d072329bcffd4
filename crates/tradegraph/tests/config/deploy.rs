//! Issue 17, item 6: the container layout. Docker is not on these machines, so what can be
//! checked here is checked: `compose.yaml` against the Compose Specification's JSON Schema
//! (fetched by scripts/services.sh), the specification's layout in it, every bot's settings as
//! `tradegraph config show` resolves them from the service's command and environment, the
//! health check's command, and the Dockerfile's stages, user and paths.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// compose.yaml as Compose reads it (YAML, merge keys resolved), as JSON.
fn compose() -> Value {
    serde_saphyr::from_str::<Value>(&read("compose.yaml")).unwrap()
}

/// The schema scripts/services.sh fetched (TRADEGRAPH_COMPOSE_SCHEMA).
fn schema() -> Option<Value> {
    let path = std::env::var("TRADEGRAPH_COMPOSE_SCHEMA").map_or_else(
        |_| repo().join(".services/compose-spec.schema.json"),
        PathBuf::from,
    );
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(e) => tradegraph_testkit::services::unavailable(&format!(
            "the Compose Specification's schema at {} ({e})",
            path.display()
        )),
    }
}

/// Compose's interpolation of the two forms compose.yaml uses, `${NAME:-default}` and
/// `${NAME:?message}`, from `env`; any other `$` form fails the test.
fn interpolate(text: &str, env: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("an unclosed `$` in `{text}`"));
        let inner = after
            .strip_prefix("${")
            .and_then(|s| s.get(..end - 2))
            .unwrap_or_else(|| panic!("a `$` form compose.yaml should not use in `{text}`"));
        let value = if let Some((name, default)) = inner.split_once(":-") {
            env.get(name).copied().unwrap_or(default).to_owned()
        } else if let Some((name, message)) = inner.split_once(":?") {
            (*env
                .get(name)
                .unwrap_or_else(|| panic!("compose refuses to start without {name}: {message}")))
            .to_owned()
        } else {
            panic!("`${{{inner}}}`: only `:-` and `:?` are used")
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let Some(schema) = schema() else {
        return;
    };
    let validator = jsonschema::validator_for(&schema).unwrap();
    let compose = compose();
    let errors: Vec<String> = validator
        .iter_errors(&compose)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "compose.yaml: {errors:#?}");
    // The schema catches what it should: a misspelt key, a port of the wrong type.
    let mut broken = compose.clone();
    broken["services"]["redis"]["restrat"] = "always".into();
    assert!(!validator.is_valid(&broken));
    let mut broken = compose;
    broken["services"]["bot-btc"]["ports"] = Value::Bool(true);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn the_compose_file_has_the_specifications_layout() {
    let compose = compose();
    let services = compose["services"].as_object().unwrap();
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "mongodb",
            "redis",
            "bot-btc",
            "bot-banknifty",
            "bot-nifty",
            "worker-1",
            "worker-2"
        ]
    );
    assert!(compose["services"]["mongodb"]["command"]
        .as_array()
        .unwrap()
        .contains(&"--replSet".into()));
    // The health check fails until the set has a primary (mongosh exits 0 unless told).
    let probe = compose["services"]["mongodb"]["healthcheck"]["test"][4]
        .as_str()
        .unwrap();
    assert!(
        probe.contains("rs.initiate(")
            && probe.contains("quit(db.hello().isWritablePrimary ? 0 : 1)"),
        "{probe}"
    );
    let redis = compose["services"]["redis"]["command"].as_array().unwrap();
    for flag in ["--appendonly", "--appendfsync", "always"] {
        assert!(redis.contains(&flag.into()), "redis runs with {flag}");
    }
    for (bot, instrument, port) in [
        ("bot-btc", "btc", 8001),
        ("bot-banknifty", "banknifty", 8002),
        ("bot-nifty", "nifty", 8003),
    ] {
        let service = &compose["services"][bot];
        // Each bot ingests; the workers run its cycles.
        assert_eq!(
            service["command"],
            serde_json::json!(["run", "--instrument", instrument, "--workers", "redis"]),
            "{bot}"
        );
        // Published on the host's loopback only.
        assert_eq!(
            service["ports"],
            serde_json::json!([format!("127.0.0.1:{port}:{port}")])
        );
        assert_eq!(service["environment"]["TRADEGRAPH_LISTEN"], "0.0.0.0");
        assert_eq!(
            service["environment"]["TRADEGRAPH_LIVE"], "0",
            "{bot}: paper"
        );
        assert_eq!(service["build"], ".", "{bot} (the anchor was merged)");
        for store in ["mongodb", "redis"] {
            assert_eq!(
                service["depends_on"][store]["condition"], "service_healthy",
                "{bot} waits for {store}"
            );
        }
        assert_eq!(
            service["healthcheck"]["test"],
            serde_json::json!([
                "CMD",
                "tradegraph",
                "bot",
                "status",
                "--quiet",
                "--url",
                format!("http://127.0.0.1:{port}")
            ])
        );
    }
}

#[test]
fn the_two_workers_share_the_bots_stores_and_keep_their_own_files() {
    let compose = compose();
    for name in ["worker-1", "worker-2"] {
        let worker = &compose["services"][name];
        assert_eq!(
            worker["command"],
            serde_json::json!(["worker", "--name", name, "--concurrency", "4"])
        );
        for key in ["REDIS_URL", "MONGODB_URI", "TRADEGRAPH_LIVE"] {
            assert_eq!(
                worker["environment"][key], compose["services"]["bot-btc"]["environment"][key],
                "{name}: {key} as the bots'"
            );
        }
        assert!(worker["ports"].is_null(), "{name} serves nothing");
        assert_eq!(
            worker["volumes"],
            serde_json::json!([format!("{name}-state:/var/lib/tradegraph/.tradegraph")])
        );
        for store in ["mongodb", "redis"] {
            assert_eq!(worker["depends_on"][store]["condition"], "service_healthy");
        }
    }
}

#[test]
fn every_bot_of_the_compose_file_resolves_to_paper_trading_on_its_port() {
    let compose = compose();
    let outside = BTreeMap::from([("TRADEGRAPH_API_TOKEN", "0123456789abcdef0123456789")]);
    let dir = support_dir("compose-bots");
    for (bot, port, feed) in [
        ("bot-btc", 8001, "binance"),
        ("bot-banknifty", 8002, "replay"),
        ("bot-nifty", 8003, "replay"),
    ] {
        let service = &compose["services"][bot];
        let env: Vec<(String, String)> = service["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), interpolate(v.as_str().unwrap(), &outside)))
            .collect();
        let args: Vec<&str> = service["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args[0], "run");
        assert_eq!(args[args.len() - 2..], ["--workers", "redis"], "{bot}");
        let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
            .args(["config", "show", "--format", "json"])
            .args(&args[1..args.len() - 2])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{bot}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
        let setting = |section: &str, key: &str| shown["settings"][section][key]["value"].clone();
        assert_eq!(
            setting("bot", "listen"),
            format!("0.0.0.0:{port}").as_str(),
            "{bot}"
        );
        assert_eq!(setting("bot", "feed"), feed, "{bot}");
        assert_eq!(setting("bot", "live"), false, "{bot}");
        assert_eq!(setting("stores", "redis_url"), "redis://redis:6379");
        assert_eq!(
            setting("stores", "mongodb_uri"),
            "mongodb://mongodb:27017/?replicaSet=tradegraph"
        );
        assert_eq!(
            setting("dashboard", "peers"),
            serde_json::json!(["bot-btc:8001", "bot-banknifty:8002", "bot-nifty:8003"]),
            "{bot}: the overview reaches the other containers by name"
        );
        // No model keys passed: rule mode, not a provider with an empty key.
        assert_eq!(setting("llm", "chain"), serde_json::json!([]), "{bot}");
        // The health check's command is one the binary takes: against no bot it says the bot
        // cannot be reached (3), not that the command is wrong (2).
        let health: Vec<&str> = service["healthcheck"]["test"]
            .as_array()
            .unwrap()
            .iter()
            .skip(2)
            .map(|a| a.as_str().unwrap())
            .collect();
        let probe = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
            .args(health.iter().map(|a| a.replace(&format!(":{port}"), ":1")))
            .output()
            .unwrap();
        assert_eq!(
            probe.status.code(),
            Some(3),
            "{bot}'s health check: {probe:?}"
        );
    }
}

#[test]
fn the_dockerfile_builds_the_binary_in_one_stage_and_runs_it_unprivileged_in_another() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "two stages: {froms:?}");
    // The build image's Rust is the toolchain the repository pins.
    let pinned = read("rust-toolchain.toml");
    let channel = pinned
        .lines()
        .find_map(|l| l.trim().strip_prefix("channel = "))
        .unwrap()
        .trim_matches('"');
    let minor = channel.rsplit_once('.').map_or(channel, |(m, _)| m);
    assert!(
        froms[0].starts_with(&format!("FROM rust:{minor}-")) && froms[0].ends_with(" AS build"),
        "{}",
        froms[0]
    );
    assert!(
        froms[1].starts_with("FROM debian:") && froms[1].contains("-slim"),
        "{}",
        froms[1]
    );
    let runtime = &lines[lines.iter().position(|l| *l == froms[1]).unwrap()..];
    // It builds the `tradegraph` binary of the `tradegraph` package, locked.
    assert!(dockerfile.contains("cargo build --release --locked -p tradegraph --bin tradegraph"));
    let manifest = read("crates/tradegraph/Cargo.toml");
    assert!(manifest.contains("[[bin]]\nname = \"tradegraph\""));
    // Unprivileged: a numeric user that is not root, set after the last root step.
    let user = runtime
        .iter()
        .rposition(|l| l.starts_with("USER "))
        .expect("the runtime stage sets a user");
    let uid: u32 = runtime[user]["USER ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(uid, 0);
    assert!(
        runtime[user..].iter().all(|l| !l.starts_with("RUN ")),
        "no step runs after USER"
    );
    assert!(
        runtime
            .iter()
            .any(|l| l.contains(&format!("--uid {uid} --gid {uid}"))),
        "the user exists, in its own group"
    );
    assert!(runtime
        .iter()
        .any(|l| l.contains(&format!("--gid {uid} tradegraph"))));
    // The state directory exists, owned by the user: a volume mounted there is writable.
    assert!(
        runtime.iter().any(|l| l.contains(&format!(
            "install -d -o {uid} -g {uid} -m 0750 /var/lib/tradegraph/.tradegraph"
        ))),
        "the state directory is made for the user"
    );
    // It listens on every interface, on the instrument's port.
    assert!(runtime.contains(&"ENV TRADEGRAPH_LISTEN=0.0.0.0"));
    // What it copies from the build context exists; the binary it starts is the one it copied.
    for line in runtime
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
    {
        let source = line.split_whitespace().rev().nth(1).unwrap();
        assert!(
            repo().join(source).exists(),
            "{line}: {source} is not in the repository"
        );
    }
    assert!(
        runtime.contains(&"COPY --from=build /usr/local/bin/tradegraph /usr/local/bin/tradegraph")
    );
    assert!(runtime.iter().any(|l| l.starts_with("ENTRYPOINT")
        && l.contains("tini")
        && l.contains("/usr/local/bin/tradegraph")));
    assert!(runtime.contains(&"EXPOSE 8001 8002 8003"));
    // The context leaves out build output, local servers and secrets.
    let ignore = read(".dockerignore");
    for entry in ["target/", ".services/", ".env", ".tradegraph/"] {
        assert!(
            ignore.lines().any(|l| l == entry),
            ".dockerignore lacks {entry}"
        );
    }
}

fn support_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(tradegraph_testkit::services::unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
