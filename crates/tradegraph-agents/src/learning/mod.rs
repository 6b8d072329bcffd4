//! Learning from closed positions: per-agent hit rates and weights, and lessons.

mod lessons;
mod weights;

pub use lessons::{Lesson, Situation};
pub use weights::{AgentWeights, HitRecord};
