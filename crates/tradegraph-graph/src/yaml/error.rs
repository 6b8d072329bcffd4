//! Errors of YAML graphs: each with the file, line and column it is about.

use super::located::Pos;
use serde_saphyr::MessageFormatter;
use std::fmt;

/// One problem in a YAML graph file, at a position.
///
/// Displays as `file:line:column: message` (as compilers do, so editors and terminals link it),
/// or `file: message` when the problem has no position (`line` and `column` are 0), such as a
/// file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The file (or the name the source was given).
    pub origin: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.origin, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for YamlError {}

/// Every problem found in a YAML graph file (never empty), in file order.
///
/// Displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlErrors(pub Vec<YamlError>);

impl YamlErrors {
    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, YamlError> {
        self.0.iter()
    }

    pub(crate) fn single(origin: &str, pos: Pos, message: impl Into<String>) -> Self {
        Self(vec![Problem::new(pos, message).at(origin)])
    }
}

impl fmt::Display for YamlErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for YamlErrors {}

impl<'a> IntoIterator for &'a YamlErrors {
    type Item = &'a YamlError;
    type IntoIter = std::slice::Iter<'a, YamlError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A problem before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            pos,
            message: message.into(),
        }
    }

    pub(crate) fn at(self, origin: &str) -> YamlError {
        YamlError {
            origin: origin.to_owned(),
            line: self.pos.line,
            column: self.pos.column,
            message: self.message,
        }
    }
}

/// Sorts problems into file order (stable, so equal positions keep the order found) and
/// attaches the origin.
pub(crate) fn finish(origin: &str, mut problems: Vec<Problem>) -> YamlErrors {
    problems.sort_by_key(|p| p.pos);
    problems.dedup();
    YamlErrors(problems.into_iter().map(|p| p.at(origin)).collect())
}

/// A syntax or type error from the YAML reader, with its position and a message naming the
/// offending key where there is one.
pub(crate) fn from_saphyr(error: &serde_saphyr::Error) -> Problem {
    let pos = error.location().map(Pos::from_location).unwrap_or_default();
    let error = error.without_snippet();
    let message = match error {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            let key = key
                .as_deref()
                .map_or_else(|| "a key".to_owned(), |k| format!("key `{k}`"));
            format!("duplicate {key}: a key may appear only once in a mapping; remove or merge the repeated entry")
        }
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            if expected.is_empty() {
                format!("unknown key `{field}`: this mapping takes no keys")
            } else {
                format!(
                    "unknown key `{field}`; expected one of: {}",
                    expected.join(", ")
                )
            }
        }
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            format!("missing key `{field}`")
        }
        serde_saphyr::Error::InvalidScalar { ty, .. } => {
            let expected = match *ty {
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
                "f32" | "f64" => "a number",
                "bool" => "true or false",
                other => other,
            };
            format!("invalid value: expected {expected}")
        }
        serde_saphyr::Error::Eof { .. } => {
            "the file is empty or ends early: a graph needs at least `name`, `nodes` and `edges`"
                .to_owned()
        }
        other => serde_saphyr::DefaultMessageFormatter
            .format_message(other)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    };
    Problem::new(pos, message)
}
