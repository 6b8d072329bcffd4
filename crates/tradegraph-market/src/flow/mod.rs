//! Order flow (in progress).
