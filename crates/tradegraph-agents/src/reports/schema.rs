//! Each report type's compiled JSON Schema, built once per process.

use super::{
    DebateTurn, FundamentalReport, LessonDraft, MacroReport, PortfolioDecision, RiskAssessment,
    SentimentReport, TechnicalReport,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::OnceLock;
use tradegraph_graph::schema::OutputSchema;

/// A report a model can be asked for: its schema is compiled once and shared.
pub trait Report:
    JsonSchema + DeserializeOwned + Serialize + Clone + Send + Sync + std::fmt::Debug + 'static
{
    /// The compiled schema (`None` only if the generated schema does not compile, which the
    /// tests rule out for every report).
    fn output_schema() -> Option<&'static OutputSchema<Self>>;
}

macro_rules! report {
    ($($t:ty),* $(,)?) => {$(
        impl Report for $t {
            fn output_schema() -> Option<&'static OutputSchema<Self>> {
                static SCHEMA: OnceLock<Option<OutputSchema<$t>>> = OnceLock::new();
                SCHEMA.get_or_init(|| OutputSchema::new().ok()).as_ref()
            }
        }
    )*};
}

report!(
    TechnicalReport,
    FundamentalReport,
    SentimentReport,
    MacroReport,
    DebateTurn,
    RiskAssessment,
    PortfolioDecision,
    LessonDraft,
);
