//! Indicators (in progress).
