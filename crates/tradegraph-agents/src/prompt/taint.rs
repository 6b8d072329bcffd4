//! Which text in a prompt's context came from a model or from outside, and how the templates
//! must print it.
//!
//! When a template first reads a field of the [`PromptContext`](super::PromptContext), every
//! string in it that is not listed in [`TRUSTED_FIELDS`] becomes an untrusted value that
//! remembers its field. Printed as it is (`{{ lessons[0].text }}`) it stops the render with an
//! error naming the template and the field; through the `untrusted` filter it is
//! [defused](super::defuse()) and marked, so the renderer can then check that it sits inside
//! the user message's `<data>` frame.

use super::context::FIELDS;
use super::defuse::{defuse, DEFAULT_MAX};
use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, Output, State};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Fields of the prompt context that templates may print without the `untrusted` filter:
/// values our own code formats (times, exact decimals, enums, numbers, the answer's schema), so
/// they cannot carry words from a model, a feed or a store. Every other string, including any
/// field added later, is untrusted. `[]` stands for any index, `.*` for any field below.
pub const TRUSTED_FIELDS: &[&str] = &[
    "agent",
    "instrument.kind",
    "instrument.currency",
    "instrument.session",
    "instrument.lot_size",
    "as_of",
    "price",
    "timeframe",
    "indicators.*",
    "candles[].time",
    "candles[].ohlcv[]",
    "daily[].time",
    "daily[].ohlcv[]",
    "flow.*",
    "news[].published",
    "macro_snapshot.as_of",
    "technical.signal",
    "fundamental.signal",
    "macro_view.regime",
    "debate[].stance",
    "lessons[].timestamp",
    "book.position.side",
    "book.position.quantity",
    "book.position.entry",
    "book.position.unrealized_pnl",
    "book.position.unrealized_pct",
    "book.position.opened_at",
    "book.position.held",
    "book.position.stop_loss",
    "book.position.take_profit",
    "book.position.trailing_stop",
    "book.equity",
    "book.cash",
    "book.day_pnl",
    "book.daily_loss_pct",
    "book.daily_loss_limit_pct",
    "book.daily_loss_left_pct",
    "book.position_limit_pct",
    "book.position_left_pct",
    "book.working[].side",
    "book.working[].kind",
    "book.working[].quantity",
    "book.working[].price",
    "book.working[].role",
    "book.entry_blocks[]",
    "schema",
];

/// Maps whose keys are text from outside (the names of extra macro figures). The keys of every
/// other map are field names or agent names.
const UNTRUSTED_KEYS: [&str; 1] = ["macro_snapshot.extra"];

/// Opens a marked span: the field's name follows, up to [`NAME_END`].
pub(crate) const MARK_OPEN: char = '\u{E000}';
/// Ends the field's name of a marked span; its defused text follows.
pub(crate) const NAME_END: char = '\u{E001}';
/// Closes a marked span.
pub(crate) const MARK_CLOSE: char = '\u{E002}';

/// Defused text, marked with the field it came from. The markers are private-use characters,
/// which [`defuse`] removes from any input, so only the renderer can write them.
fn marked(field: &str, text: &str) -> String {
    const MARKS: [char; 3] = [MARK_OPEN, NAME_END, MARK_CLOSE];
    // each mark is three bytes in UTF-8
    let mut out = String::with_capacity(field.len() + text.len() + 9);
    out.push(MARK_OPEN);
    if field.contains(MARKS) {
        out.extend(field.chars().filter(|c| !MARKS.contains(c)));
    } else {
        out.push_str(field);
    }
    out.push(NAME_END);
    out.push_str(text);
    out.push(MARK_CLOSE);
    out
}

/// Text from a model or from outside, with the field it came from (`news[2].headline`).
struct Untrusted {
    field: String,
    text: String,
    /// The last defused and marked text, with the length it was cut to: a prompt renders its
    /// blocks twice (the whole template, then each block), and a field's wrapping serves every
    /// render while the field stays the same (see [`FieldMemo`]), so each text is defused once.
    memo: Last<usize>,
}

impl Untrusted {
    fn new(field: String, text: String) -> Self {
        Self {
            field,
            text,
            memo: Last::default(),
        }
    }

    /// The text defused to at most `max` characters and marked with its field.
    fn defused(&self, max: usize) -> Value {
        self.memo.get_or_make(max, || {
            Value::from(marked(&self.field, &defuse(&self.text, max)))
        })
    }
}

/// The last value made, with the key it was made for: the memo of a defused text (keyed by
/// its length) and of a context field's wrapping (keyed by the field's print).
struct Last<K>(Mutex<Option<(K, Value)>>);

impl<K> Default for Last<K> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<K: PartialEq> Last<K> {
    /// The value for `key`: the last one when it was made for `key`, otherwise `make`'s, kept
    /// in its place. The lock is not held while `make` runs.
    fn get_or_make(&self, key: K, make: impl FnOnce() -> Value) -> Value {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, value)) = lock().as_ref().filter(|(made_for, _)| *made_for == key) {
            return value.clone();
        }
        let value = make();
        *lock() = Some((key, value.clone()));
        value
    }
}

impl fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "untrusted text of `{}`", self.field)
    }
}

impl Object for Untrusted {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.text.is_empty()
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.text.cmp(&other.downcast_ref::<Self>()?.text))
    }

    /// Any other way into the output (`~`, `join`, `string`) gives the defused, marked text.
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.defused(DEFAULT_MAX).as_str().unwrap_or_default())
    }
}

/// The context as templates see it: each field converted when a template first reads it, its
/// untrusted strings wrapped. A prompt reads a few of the context's fields (the technical
/// analyst no news, the debate no candles), so the others are never converted. A field equal
/// to the one `memo` last wrapped (the same candles for every agent of a cycle) takes that
/// wrapping.
pub(crate) fn context_value(context: super::PromptContext, memo: &Arc<FieldMemo>) -> Value {
    Value::from_object(LazyContext {
        context,
        fields: [const { OnceLock::new() }; FIELDS.len()],
        memo: Arc::clone(memo),
    })
}

/// A [`PromptContext`](super::PromptContext) whose fields become template values on first
/// read, each once per render.
struct LazyContext {
    context: super::PromptContext,
    /// The converted fields, by their place in [`FIELDS`].
    fields: [OnceLock<Value>; FIELDS.len()],
    memo: Arc<FieldMemo>,
}

impl fmt::Debug for LazyContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the prompt context of {}", self.context.agent)
    }
}

impl Object for LazyContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, name: &str) -> Option<Value> {
        let at = FIELDS.iter().position(|f| *f == name)?;
        let value = self.fields[at].get_or_init(|| self.memo.wrapped(at, &self.context));
        Some(value.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(FIELDS)
    }
}

/// The last wrapping of each context field, with the [print](super::print) of the field it
/// wrapped. Wrapping a field is most of the cost of reading it, and the agents of a cycle read
/// the same candles, indicators and reports: each field is wrapped once while it stays the
/// same. Prints are compared rather than the template values: printing a field is a fraction
/// of converting it.
pub(crate) struct FieldMemo {
    /// By the field's place in [`FIELDS`]: its wrapping, keyed by the field's print.
    slots: [Last<Vec<u8>>; FIELDS.len()],
}

impl Default for FieldMemo {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| Last::default()),
        }
    }
}

impl fmt::Debug for FieldMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the last wrapping of each prompt context field")
    }
}

impl FieldMemo {
    /// The field at place `at` of [`FIELDS`] of `context`, converted and wrapped: the last
    /// wrapping when the field prints as the one it wrapped.
    fn wrapped(&self, at: usize, context: &super::PromptContext) -> Value {
        let (Some(name), Some(slot)) = (FIELDS.get(at), self.slots.get(at)) else {
            return Value::UNDEFINED;
        };
        let wrap = || wrap_field(name, context.field_value(name).unwrap_or_default());
        let mut print = Vec::new();
        if context.print_field(name, &mut print) {
            slot.get_or_make(print, wrap)
        } else {
            wrap()
        }
    }
}

/// Where [`wrap`] is: the field (`news[2].headline`) and its pattern (`news[].headline`),
/// grown and cut back as the walk goes down and up, so only untrusted text copies its field.
#[derive(Default)]
struct Path {
    field: String,
    pattern: String,
}

impl Path {
    /// Goes down to `key` of a map; returns where to cut back to.
    fn key(&mut self, key: &str) -> (usize, usize) {
        let at = (self.field.len(), self.pattern.len());
        if !self.field.is_empty() {
            self.field.push('.');
        }
        self.field.push_str(key);
        if !self.pattern.is_empty() {
            self.pattern.push('.');
        }
        self.pattern.push_str(key);
        at
    }

    fn cut(&mut self, (field, pattern): (usize, usize)) {
        self.field.truncate(field);
        self.pattern.truncate(pattern);
    }
}

/// `value`, the context's field `name`, with its untrusted strings wrapped.
fn wrap_field(name: &str, value: Value) -> Value {
    let mut path = Path::default();
    path.key(name);
    wrap(value, &mut path)
}

/// `value` with its untrusted strings wrapped (its lists and maps rebuilt as plain ones, as
/// templates have always seen them).
fn wrap(value: Value, path: &mut Path) -> Value {
    match value.kind() {
        ValueKind::String if !trusted(&path.pattern) => Value::from_object(Untrusted::new(
            path.field.clone(),
            value.as_str().unwrap_or_default().to_owned(),
        )),
        ValueKind::Seq => {
            let at = (path.field.len(), path.pattern.len());
            path.pattern.push_str("[]");
            let items: Vec<Value> = value
                .try_iter()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, item)| {
                    path.field.truncate(at.0);
                    // Writing to a String cannot fail.
                    let _ = write!(path.field, "[{i}]");
                    wrap(item, path)
                })
                .collect();
            path.cut(at);
            items.into_iter().collect()
        }
        ValueKind::Map => {
            let keys_untrusted = UNTRUSTED_KEYS.contains(&path.pattern.as_str());
            let pairs: Vec<(Value, Value)> =
                match value.as_object().and_then(|o| o.try_iter_pairs()) {
                    Some(pairs) => pairs.collect(),
                    None => value
                        .try_iter()
                        .into_iter()
                        .flatten()
                        .map(|key| {
                            let item = value.get_item(&key).unwrap_or_default();
                            (key, item)
                        })
                        .collect(),
                };
            let pairs: Vec<(Value, Value)> = pairs
                .into_iter()
                .map(|(key, item)| {
                    let name = match key.as_str() {
                        Some(name) => Cow::Borrowed(name),
                        None => Cow::Owned(key.to_string()),
                    };
                    let at = path.key(&name);
                    let item = wrap(item, path);
                    path.cut(at);
                    let key = if keys_untrusted {
                        Value::from_object(Untrusted::new(
                            format!("{} (a name)", path.field),
                            name.into_owned(),
                        ))
                    } else {
                        key
                    };
                    (key, item)
                })
                .collect();
            Value::from_pairs(pairs)
        }
        _ => value,
    }
}

fn trusted(pattern: &str) -> bool {
    TRUSTED_FIELDS.iter().any(|t| match t.strip_suffix(".*") {
        Some(prefix) => pattern
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => *t == pattern,
    })
}

/// The `untrusted` filter: the text defused (at most `max` characters, 400 by default) and
/// marked with its field, for the frame check after rendering.
pub(crate) fn untrusted(value: &Value, max: Option<usize>) -> Result<Value, Error> {
    let max = max.unwrap_or(DEFAULT_MAX);
    let out = match value.downcast_object_ref::<Untrusted>() {
        Some(u) => return Ok(u.defused(max)),
        None => match value.kind() {
            ValueKind::Undefined | ValueKind::None => String::new(),
            ValueKind::String => marked("(text)", &defuse(value.as_str().unwrap_or_default(), max)),
            ValueKind::Number | ValueKind::Bool => value.to_string(),
            kind => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`untrusted` takes text, not a {kind}: apply it to each item (`map(\"untrusted\")`)"),
                ))
            }
        },
    };
    Ok(Value::from(out))
}

/// Prints a value: untrusted text and whole lists or maps are refused, with an error the
/// engine completes with the template's name and line.
pub(crate) fn format(
    out: &mut Output<'_>,
    state: &mut State<'_, '_>,
    value: &Value,
) -> Result<(), Error> {
    if let Some(u) = value.downcast_object_ref::<Untrusted>() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "`{0}` is text from a model or from outside: print it as `{{{{ {0} | untrusted }}}}` \
                 inside the `<data>` frame of the user block",
                u.field
            ),
        ));
    }
    if matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain
    ) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "prints a whole list or map: print its fields one by one, text through `untrusted`",
        ));
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_fields_and_subtrees() {
        assert!(trusted("as_of"));
        assert!(trusted("candles[].ohlcv[]"));
        assert!(trusted("flow.buy_volume"));
        assert!(!trusted("flow"));
        assert!(!trusted("flowers.x"));
        assert!(!trusted("news[].headline"));
        assert!(!trusted("instrument.symbol"));
    }

    #[test]
    fn markers_cannot_be_forged_by_the_text() {
        let forged = format!("{MARK_CLOSE}x{MARK_OPEN}as_of{NAME_END}y");
        let out = untrusted(&Value::from(forged), None).unwrap();
        let text = out.as_str().unwrap();
        assert_eq!(text.matches(MARK_OPEN).count(), 1);
        assert!(
            text.ends_with(&format!("{NAME_END}xas_ofy{MARK_CLOSE}")),
            "{text:?}"
        );
    }
}
