//! The day's access token on disk: written by `tradegraph kite login`, read by the runtime
//! when `KITE_ACCESS_TOKEN` is not set. Kite's access tokens expire every day, so the file
//! carries the (IST) day it was issued for, and a token of another day is refused.

use crate::BrokerError;
use std::io::Write;
use std::path::{Path, PathBuf};
use tradegraph_core::redact::Secret;

/// The file's name under the bot's data directory.
pub const TOKEN_FILE: &str = "kite-access-token";

/// Where the token of `data_dir` is kept.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

fn check_day(day: &str) -> Result<(), BrokerError> {
    let b = day.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
    {
        Ok(())
    } else {
        Err(BrokerError::Config(format!(
            "Kite token day `{}` is not a date YYYY-MM-DD",
            day.chars().take(20).collect::<String>()
        )))
    }
}

/// Writes `token` for `day` (`YYYY-MM-DD`, in IST) to `data_dir`, readable by the owner only
/// (0600 on Unix), replacing the previous one. Returns the file's path.
///
/// ```
/// use tradegraph_broker::live::kite::{load_token, save_token};
/// use tradegraph_core::redact::Secret;
/// let dir = std::env::temp_dir().join(format!("tg-kite-doc-{}", std::process::id()));
/// save_token(&dir, &Secret::new("day-token-0001"), "2026-12-05").unwrap();
/// assert_eq!(load_token(&dir, "2026-12-05").unwrap().expose(), "day-token-0001");
/// assert!(load_token(&dir, "2026-12-06").unwrap_err().to_string().contains("tradegraph kite login"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// [`BrokerError::Config`] when the day is not a date or the file cannot be written (with the
/// path).
pub fn save_token(data_dir: &Path, token: &Secret, day: &str) -> Result<PathBuf, BrokerError> {
    check_day(day)?;
    if token.is_empty() || token.expose().contains(['\n', '\r']) {
        return Err(BrokerError::Config(
            "the Kite access token is empty or spans lines: log in again".into(),
        ));
    }
    let path = token_path(data_dir);
    let failed = |what: &str, e: std::io::Error| {
        BrokerError::Config(format!(
            "cannot {what} the Kite access token file {}: {e}; check the data directory's permissions",
            path.display()
        ))
    };
    std::fs::create_dir_all(data_dir).map_err(|e| failed("create the directory of", e))?;
    let temp = data_dir.join(format!(".{TOKEN_FILE}.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp).map_err(|e| failed("write", e))?;
    file.write_all(format!("{day}\n{}\n", token.expose()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| failed("write", e))?;
    std::fs::rename(&temp, &path).map_err(|e| failed("replace", e))?;
    Ok(path)
}

/// The token saved in `data_dir` for `today` (`YYYY-MM-DD`, in IST).
///
/// # Errors
/// [`BrokerError::Config`] when there is none, it is unreadable, or it is of another day: each
/// says to run `tradegraph kite login`.
pub fn load_token(data_dir: &Path, today: &str) -> Result<Secret, BrokerError> {
    check_day(today)?;
    let path = token_path(data_dir);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        BrokerError::Config(format!(
            "no Kite access token in {} ({e}): run `tradegraph kite login --request-token ...` or set KITE_ACCESS_TOKEN",
            path.display()
        ))
    })?;
    let mut lines = text.lines();
    let (day, token) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    if check_day(day).is_err() || token.is_empty() {
        return Err(BrokerError::Config(format!(
            "the Kite access token file {} is not one `tradegraph kite login` wrote: log in again",
            path.display()
        )));
    }
    if day != today {
        return Err(BrokerError::Config(format!(
            "the Kite access token in {} is for {day}, and Kite's tokens last one day (today is {today}): run `tradegraph kite login --request-token ...` again",
            path.display()
        )));
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tg-kite-token-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_token_lasts_its_day_and_only_its_owner_reads_it() {
        let d = dir("day");
        let canary = Secret::new("CANARY-kite-token-5f1e");
        let path = save_token(&d, &canary, "2026-12-05").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load_token(&d, "2026-12-05").unwrap(), canary);
        let stale = load_token(&d, "2026-12-06").unwrap_err().to_string();
        assert!(
            stale.contains("is for 2026-12-05") && stale.contains("kite login"),
            "{stale}"
        );
        assert!(!stale.contains("CANARY"), "{stale}");
        std::fs::write(&path, "junk").unwrap();
        let junk = load_token(&d, "2026-12-05").unwrap_err().to_string();
        assert!(
            junk.contains("log in again") && !junk.contains("junk"),
            "{junk}"
        );
        assert!(save_token(&d, &canary, "05/12/2026").is_err());
        std::fs::remove_dir_all(&d).unwrap();
        let missing = load_token(&d, "2026-12-05").unwrap_err().to_string();
        assert!(missing.contains("KITE_ACCESS_TOKEN"), "{missing}");
    }
}
