//! Aggregation (in progress).
