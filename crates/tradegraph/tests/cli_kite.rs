//! `tradegraph kite login` against the local Kite venue, as a user runs it.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};
use tradegraph_testkit::venue::kite::KiteVenue;

const KEY: &str = "canaryKITEKEY7f6e5d4c3b2a1908";
const SECRET: &str = "canaryKITESECRET0a9b8c7d6e5f4";

fn tradegraph(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).current_dir(dir).env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_no_secret(text: &str, token: &str) {
    for secret in [KEY, SECRET, token] {
        assert!(!text.contains(&secret[..14]), "a credential leaked: {text}");
    }
}

#[test]
fn login_keeps_the_days_token_owner_only_and_never_shows_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let venue = runtime
        .block_on(KiteVenue::start(KEY, SECRET, "old-token"))
        .unwrap();
    venue.set_request_token("reqTOKEN123456789");
    let dir = std::env::temp_dir().join(format!("tg-cli-kite-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let url = venue.url();
    let env = [
        ("KITE_API_KEY", KEY),
        ("KITE_API_SECRET", SECRET),
        ("KITE_API_URL", url.as_str()),
        // Every request and response is logged at debug level: the new token must not be.
        ("RUST_LOG", "debug"),
    ];
    let args = [
        "kite",
        "login",
        "--request-token",
        "reqTOKEN123456789",
        "--data-dir",
        "data",
    ];

    let out = tradegraph(&dir, &args, &env);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let token = venue.access_token();
    assert_ne!(token, "old-token", "the venue issued a new token");
    assert!(
        stdout.contains("saved to data/kite-access-token"),
        "{stdout}"
    );
    let file = data.join("kite-access-token");
    let saved = std::fs::read_to_string(&file).unwrap();
    let mut lines = saved.lines();
    let day = lines.next().unwrap();
    assert_eq!((day.len(), lines.next()), (10, Some(token.as_str())));
    assert!(stdout.contains(day), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_no_secret(&format!("{stdout}{stderr}"), &token);
    assert!(
        stderr.contains("venue response"),
        "the venue calls are logged at debug level, so the check above read them: {stderr}"
    );
    let login = &venue.requests()[0];
    assert_eq!(
        (
            login.method.as_str(),
            login.path.as_str(),
            login.version.as_deref()
        ),
        ("POST", "/session/token", Some("3"))
    );
    assert!(
        !login.body.contains(SECRET),
        "the secret itself is never sent"
    );

    // The request token was used: Kite refuses it again.
    let again = tradegraph(&dir, &args, &env);
    let again_err = text(&again.stderr);
    assert_eq!(again.status.code(), Some(3), "{again_err}");
    assert!(
        again_err.contains("Kite login failed") && again_err.contains("log in"),
        "{again_err}"
    );
    assert_no_secret(&again_err, &token);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        saved,
        "the saved token stays"
    );

    // A wrong secret makes a wrong checksum.
    venue.set_request_token("reqTOKEN999");
    let wrong = [
        ("KITE_API_KEY", KEY),
        ("KITE_API_SECRET", "canaryWRONGSECRET000"),
        ("KITE_API_URL", url.as_str()),
    ];
    let refused = tradegraph(
        &dir,
        &[
            "kite",
            "login",
            "--request-token",
            "reqTOKEN999",
            "--data-dir",
            "data",
        ],
        &wrong,
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        !text(&refused.stderr).contains("canaryWRONGSECRET"),
        "{}",
        text(&refused.stderr)
    );

    // Without the app's credentials: a usage error naming them.
    let missing = tradegraph(&dir, &args, &[("KITE_API_URL", url.as_str())]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("KITE_API_KEY and KITE_API_SECRET"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `kite login` reads what the bot reads: the app's key, secret and API address from
/// `.env.<name>` (or `.env`), and keeps the token where the bot looks for it (`[live] data_dir`
/// or TRADEGRAPH_DATA_DIR), so the bot started next finds it.
#[test]
fn login_reads_the_env_files_and_keeps_the_token_in_the_bots_data_dir() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let venue = runtime
        .block_on(KiteVenue::start(KEY, SECRET, "old-token"))
        .unwrap();
    venue.set_request_token("reqTOKENenv0001");
    let dir = std::env::temp_dir().join(format!("tg-cli-kite-env-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env.banknifty"),
        format!(
            "KITE_API_KEY={KEY}\nKITE_API_SECRET={SECRET}\nKITE_API_URL={}\n",
            venue.url()
        ),
    )
    .unwrap();
    std::fs::write(dir.join(".env"), "TRADEGRAPH_DATA_DIR=state\n").unwrap();
    let out = tradegraph(
        &dir,
        &[
            "kite",
            "login",
            "--instrument",
            "banknifty",
            "--request-token",
            "reqTOKENenv0001",
        ],
        &[],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let token = venue.access_token();
    let saved = std::fs::read_to_string(dir.join("state/kite-access-token")).unwrap();
    assert!(
        saved.ends_with(&format!("{token}\n")) || saved.ends_with(&token),
        "{saved}"
    );
    assert!(
        !dir.join("data").exists(),
        "not where the bot does not look"
    );
    assert_no_secret(&format!("{stdout}{stderr}"), &token);
}
