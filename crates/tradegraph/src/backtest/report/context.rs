//! What a report states about how the run was made, besides its results: [`Context`].

use super::{Costs, GraphVersion, ReportError};
use crate::backtest::metrics::{Baselines, Period};
use crate::backtest::walk::Window;
use crate::config::{Settings, ShowFormat};
use crate::engine::{paper_broker, BotConfig};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use tradegraph_llm::budget::Accounting;
use tradegraph_llm::record::RecordBook;

/// What a report states about how the run was made, besides its results. [`Context::of`]
/// fills what is known before the run; the runner ([`walk::run_one`](crate::backtest::walk::run_one))
/// adds the period, the window, the model notices and usage, and the baselines.
#[derive(Debug, Clone)]
pub struct Context {
    /// The instrument.
    pub instrument: tradegraph_core::Instrument,
    /// The resolved settings, secrets masked (with the record file's fingerprint as
    /// `llm_record` once [`Context::state_record`] has run).
    pub configuration: serde_json::Value,
    /// The record file the models' answers went to or came from (`--record`/`--replay`).
    pub answers: Option<Arc<RecordBook>>,
    /// SHA-256 of the data file, hex.
    pub data_sha256: String,
    /// The part of the data the run read (`--from`/`--to`, or the window's).
    pub period: Period,
    /// The walk-forward window, if the run is one.
    pub window: Option<Window>,
    /// The graph's version.
    pub graph: GraphVersion,
    /// The fill and cost model.
    pub costs: Costs,
    /// Notices about the model (its training cut-off, say).
    pub model_notices: Vec<String>,
    /// The run's model usage, `None` in rule mode.
    pub llm: Option<Accounting>,
    /// The baselines on the same data, when they were run.
    pub baselines: Option<Baselines>,
    /// Why the baselines are missing when they were asked for and failed.
    pub baselines_error: Option<String>,
    /// Why the run stopped before the end of its data (a replay's first missing answer).
    pub stopped: Option<String>,
}

impl Context {
    /// The context of a backtest of `config` on the file `data`, made from `settings` (shown
    /// with secrets masked, as `tradegraph config show --format json`), with the record file
    /// `answers` (when the models' answers are recorded or replayed; the report states the
    /// file as it is when the run ends, see [`Context::state_record`]).
    ///
    /// # Errors
    /// [`ReportError::Describe`] when the paper broker cannot be described,
    /// [`ReportError::Io`] naming the data file when it cannot be read.
    pub fn of(
        settings: &Settings,
        config: &BotConfig,
        data: &Path,
        answers: Option<&Arc<RecordBook>>,
    ) -> Result<Self, ReportError> {
        let describe = |what: &'static str| {
            move |e: &dyn std::fmt::Display| ReportError::Describe {
                what,
                message: e.to_string(),
            }
        };
        let configuration = serde_json::from_str(&settings.show(ShowFormat::Json))
            .unwrap_or(serde_json::Value::Null);
        let execution = paper_broker(config)
            .map_err(|e| describe("the paper broker")(&e))?
            .read(|engine| engine.config().describe())
            .map_err(|e| describe("the paper broker")(&e))?;
        let fees =
            serde_json::to_value(&execution).map_err(|e| describe("the paper broker")(&e))?;
        Ok(Self {
            instrument: config.instrument.clone(),
            configuration,
            answers: answers.cloned(),
            data_sha256: sha256_of(data)?,
            period: Period::default(),
            window: None,
            graph: GraphVersion::of(&config.graph_origin, &config.graph_yaml),
            costs: Costs {
                fills: execution.to_string(),
                fees,
            },
            model_notices: Vec::new(),
            llm: None,
            baselines: None,
            baselines_error: None,
            stopped: None,
        })
    }
}

impl Context {
    /// Adds the record file's fingerprint (path, format, answers, SHA-256) to the
    /// configuration as `llm_record`, read now: called when the run has ended, so a recording
    /// states every answer it wrote, as its replay does. A walk-forward window states the path
    /// and the format only: while recording, the file grows window by window, and a replay
    /// reads it whole, so the count and the hash of a window's end would differ between them.
    ///
    /// # Errors
    /// [`ReportError::Describe`] when the record file cannot be read.
    pub fn state_record(&mut self) -> Result<(), ReportError> {
        let configuration = std::mem::take(&mut self.configuration);
        let mut configuration =
            crate::backtest::answers::with_record(configuration, self.answers.as_deref()).map_err(
                |e| ReportError::Describe {
                    what: "the record file",
                    message: e.to_string(),
                },
            )?;
        if self.window.is_some() {
            if let Some(record) = configuration
                .get_mut("llm_record")
                .and_then(serde_json::Value::as_object_mut)
            {
                record.remove("answers");
                record.remove("sha256");
            }
        }
        self.configuration = configuration;
        Ok(())
    }
}

/// SHA-256 of the file `path`, hex.
fn sha256_of(path: &Path) -> Result<String, ReportError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| ReportError::io(path, "opening the data file failed", e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| ReportError::io(path, "reading the data file failed", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_hash_is_the_files_sha256() {
        let dir = std::env::temp_dir().join(format!("tg-report-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bars.csv");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            sha256_of(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let missing = sha256_of(&dir.join("missing.csv")).unwrap_err().to_string();
        assert!(
            missing.contains("missing.csv: opening the data file failed"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
