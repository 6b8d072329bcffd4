use super::NodeName;

/// One node's update, tagged with the node that wrote it.
#[derive(Debug, Clone)]
pub struct Write<U> {
    /// The writer: a node name, or `resume` for an update given when resuming.
    pub writer: NodeName,
    /// The update.
    pub update: U,
}

impl<U> Write<U> {
    /// Tags `update` with its writer.
    pub fn new(writer: impl Into<NodeName>, update: U) -> Self {
        Self {
            writer: writer.into(),
            update,
        }
    }
}

/// Two writers of one superstep conflict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Two nodes of one superstep set the same overwrite field.
    #[error(
        "nodes `{first}` and `{second}` both wrote field `{field}` in the same superstep; \
         give the field an append, merge or custom reducer, or make one of the nodes run in another step"
    )]
    Overwrite {
        /// The field.
        field: &'static str,
        /// The first writer, in task order.
        first: NodeName,
        /// The second writer.
        second: NodeName,
    },
    /// Two nodes of one superstep set the same key of a map-merge field.
    #[error(
        "nodes `{first}` and `{second}` both wrote key {key} of field `{field}` in the same superstep"
    )]
    MapKey {
        /// The field.
        field: &'static str,
        /// The key, debug-formatted.
        key: String,
        /// The first writer, in task order.
        first: NodeName,
        /// The second writer.
        second: NodeName,
    },
}

/// Helpers for the code that `#[derive(GraphState)]` generates. Not a stable API.
#[doc(hidden)]
pub(crate) mod support {
    use super::{MergeError, NodeName, Write};
    use crate::state::reducer::MergeMap;

    /// Errors when more than one write sets the field that `get` reads.
    pub fn check_overwrite<U>(
        writes: &[Write<U>],
        field: &'static str,
        is_set: impl Fn(&U) -> bool,
    ) -> Result<(), MergeError> {
        let mut first: Option<&NodeName> = None;
        for write in writes.iter().filter(|w| is_set(&w.update)) {
            match first {
                None => first = Some(&write.writer),
                Some(first) => {
                    return Err(MergeError::Overwrite {
                        field,
                        first: first.clone(),
                        second: write.writer.clone(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Reads an update field that is present as set, `null` included. The update field of an
    /// `Option<T>` state field is an `Option<Option<T>>`, where `Some(None)` (written `null`)
    /// clears the field; serde's default reading takes `null` for an absent field (leave it
    /// alone), so a clearing write would be lost in a checkpoint's pending writes.
    pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::Deserialize<'de>,
    {
        T::deserialize(deserializer).map(Some)
    }

    /// Errors when two writes set the same key of a map-merge field.
    pub fn check_map_keys<U, M: MergeMap>(
        writes: &[Write<U>],
        field: &'static str,
        get: impl Fn(&U) -> Option<&M>,
    ) -> Result<(), MergeError> {
        let set: Vec<(&NodeName, &M)> = writes
            .iter()
            .filter_map(|w| get(&w.update).map(|m| (&w.writer, m)))
            .collect();
        for (i, (first, a)) in set.iter().enumerate() {
            for (second, b) in &set[i + 1..] {
                if let Some(key) = a.shared_key(b) {
                    return Err(MergeError::MapKey {
                        field,
                        key,
                        first: (*first).clone(),
                        second: (*second).clone(),
                    });
                }
            }
        }
        Ok(())
    }
}
