//! What can go wrong writing a report or splitting a run: each error names the file and what failed.

use std::path::PathBuf;

/// A report file could not be written, or the data could not be split into windows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file or folder could not be created or written.
    #[error("{}: {what}: {source} (check that the folder exists and is writable, or give another --out)", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A JSON document could not be written.
    #[error("{}: writing JSON failed: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A CSV file could not be written.
    #[error("{}: writing CSV failed: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: csv::Error,
    },
    /// What the run was made with could not be described for the report.
    #[error("describing {what} for the report failed: {message}")]
    Describe {
        /// What was being described.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
    /// The output folder already holds a report, which a new run would mix with.
    #[error("{}: already holds a report ({found}); give an empty or new folder to --out, or remove the old report", path.display())]
    NotEmpty {
        /// The folder.
        path: PathBuf,
        /// The report file or folder found in it.
        found: String,
    },
    /// A plot could not be drawn.
    #[error("{}: drawing the plot failed: {message}", path.display())]
    Plot {
        /// The file.
        path: PathBuf,
        /// What the plotting library said.
        message: String,
    },
}

impl ReportError {
    /// An I/O error on `path` while doing `what`.
    pub(crate) fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            source,
        }
    }
}
