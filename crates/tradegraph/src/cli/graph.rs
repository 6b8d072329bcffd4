//! `tradegraph graph check|render|schema`.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use tradegraph_graph::render::{to_dot, to_mermaid};
use tradegraph_graph::yaml::{self, GraphSummary};

#[derive(Debug, Subcommand)]
pub(super) enum GraphCommand {
    /// Check a graph file; print a one-line summary, or every problem as file:line:column.
    ///
    /// Checks the syntax, the keys and the whole topology (unknown, unreachable or dead-end
    /// nodes, cycles without exit, joins, loops, ...). Kinds, node configs and router names are
    /// checked when the program that registers them loads the file. Exit code 0 when valid, 1
    /// when not, 2 when the file cannot be read.
    Check {
        /// The YAML graph file.
        file: PathBuf,
    },
    /// Draw a graph file as a Mermaid flowchart or Graphviz DOT, on stdout.
    ///
    /// The file is checked first, as by `check`.
    Render {
        /// The YAML graph file.
        file: PathBuf,
        /// The picture's format.
        #[arg(long, value_enum, default_value_t = Format::Mermaid)]
        format: Format,
    },
    /// Print the JSON Schema of graph files (committed as `graphs/graph.schema.json`).
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// Mermaid (renders in GitHub markdown).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

pub(super) fn run(command: GraphCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        GraphCommand::Check { file } => match checked(&file, err) {
            Ok((origin, summary)) => emit(out, &format!("{origin}: ok: {summary}\n")),
            Err(code) => code,
        },
        GraphCommand::Render { file, format } => match checked(&file, err) {
            Ok((_, summary)) => {
                let picture = match format {
                    Format::Mermaid => to_mermaid(&summary.topology),
                    Format::Dot => to_dot(&summary.topology),
                };
                emit(out, &picture)
            }
            Err(code) => code,
        },
        GraphCommand::Schema => match serde_json::to_string_pretty(&yaml::format_schema()) {
            Ok(text) => emit(out, &format!("{text}\n")),
            Err(e) => {
                let _ = writeln!(err, "tradegraph: cannot write the schema: {e}");
                EXIT_INVALID
            }
        },
    }
}

/// Reads and checks `file`; on failure, reports to `err` and gives the exit code.
fn checked(file: &Path, err: &mut dyn Write) -> Result<(String, GraphSummary), u8> {
    let origin = file.display().to_string();
    let source = std::fs::read_to_string(file).map_err(|e| {
        let _ = writeln!(err, "{origin}: cannot read the graph file: {e}");
        EXIT_USAGE
    })?;
    yaml::check_str(&source, &origin)
        .map(|summary| (origin, summary))
        .map_err(|errors| {
            for error in &errors {
                let _ = writeln!(err, "{error}");
            }
            EXIT_INVALID
        })
}

/// Writes `text` to `out`; a failed write (a closed pipe) is exit code 1, silently.
fn emit(out: &mut dyn Write, text: &str) -> u8 {
    match out.write_all(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(_) => EXIT_INVALID,
    }
}
