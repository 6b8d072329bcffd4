use super::{Route, Router};
use crate::state::GraphState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::marker::PhantomData;

/// A comparison of a state value with constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Comparison {
    /// Equal (numbers compare by value).
    Equals(Value),
    /// Not equal.
    NotEquals(Value),
    /// Equal to one of these.
    In(Vec<Value>),
    /// Greater than (numbers only).
    Gt(f64),
    /// Greater than or equal (numbers only).
    Gte(f64),
    /// Less than (numbers only).
    Lt(f64),
    /// Less than or equal (numbers only).
    Lte(f64),
    /// True, non-zero, non-empty.
    Truthy,
}

impl Comparison {
    /// Whether `value` satisfies the comparison.
    pub fn matches(&self, value: &Value) -> bool {
        match self {
            Self::Equals(expected) => same(value, expected),
            Self::NotEquals(expected) => !same(value, expected),
            Self::In(options) => options.iter().any(|o| same(value, o)),
            Self::Gt(n) => value.as_f64().is_some_and(|v| v > *n),
            Self::Gte(n) => value.as_f64().is_some_and(|v| v >= *n),
            Self::Lt(n) => value.as_f64().is_some_and(|v| v < *n),
            Self::Lte(n) => value.as_f64().is_some_and(|v| v <= *n),
            Self::Truthy => match value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|v| v != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
            },
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// One case of a [`FieldRouter`]: when the value satisfies `when`, go to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldCase {
    /// The test.
    pub when: Comparison,
    /// The label (target) chosen.
    pub to: String,
}

/// Routes by comparing a state field (optionally a JSON pointer inside it) with constants: the
/// first matching case wins, else `default`, else the branch ends. Declared in YAML without any
/// Rust code.
///
/// ```
/// # use tradegraph_graph::router::{Comparison, FieldCase, FieldRouter, Route, Router};
/// # use tradegraph_graph::GraphState;
/// # use serde::{Deserialize, Serialize};
/// #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// struct Decision { action: String }
///
/// let router = FieldRouter::<Decision>::new("action", None)
///     .case(Comparison::Equals("HOLD".into()), "learning")
///     .otherwise("execution");
/// let state = Decision { action: "BUY".into() };
/// assert_eq!(router.route(&state), Route::from("execution"));
/// ```
#[derive(Debug, Clone)]
pub struct FieldRouter<S> {
    field: String,
    pointer: Option<String>,
    cases: Vec<FieldCase>,
    default: Option<String>,
    _state: PhantomData<fn(&S)>,
}

impl<S: GraphState> FieldRouter<S> {
    /// Reads `field`, then `pointer` (a JSON pointer such as `/action`) inside it when given.
    pub fn new(field: impl Into<String>, pointer: Option<String>) -> Self {
        Self {
            field: field.into(),
            pointer,
            cases: Vec::new(),
            default: None,
            _state: PhantomData,
        }
    }

    /// Adds a case, tried in order.
    #[must_use]
    pub fn case(mut self, when: Comparison, to: impl Into<String>) -> Self {
        self.cases.push(FieldCase {
            when,
            to: to.into(),
        });
        self
    }

    /// The label chosen when no case matches.
    #[must_use]
    pub fn otherwise(mut self, to: impl Into<String>) -> Self {
        self.default = Some(to.into());
        self
    }

    /// Every label this router can return.
    pub fn labels(&self) -> Vec<String> {
        self.cases
            .iter()
            .map(|c| c.to.clone())
            .chain(self.default.clone())
            .collect()
    }

    /// The field read.
    pub fn field(&self) -> &str {
        &self.field
    }

    fn value(&self, state: &S) -> Value {
        let value = state.field_value(&self.field).unwrap_or(Value::Null);
        match &self.pointer {
            Some(pointer) => value.pointer(pointer).cloned().unwrap_or(Value::Null),
            None => value,
        }
    }
}

impl<S: GraphState> Router<S> for FieldRouter<S> {
    fn route(&self, state: &S) -> Route {
        let value = self.value(state);
        self.cases
            .iter()
            .find(|c| c.when.matches(&value))
            .map(|c| c.to.clone())
            .or_else(|| self.default.clone())
            .map_or(Route::End, Route::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparisons() {
        assert!(Comparison::Equals(json!(2)).matches(&json!(2.0)));
        assert!(Comparison::In(vec![json!("BUY"), json!("SELL")]).matches(&json!("SELL")));
        assert!(!Comparison::Gt(0.5).matches(&json!("high")));
        assert!(Comparison::Lte(0.5).matches(&json!(0.5)));
        assert!(!Comparison::Truthy.matches(&json!([])));
        assert!(Comparison::NotEquals(json!("HOLD")).matches(&json!("BUY")));
    }
}
