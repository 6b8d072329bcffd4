//! Prompts: one template per agent in `prompts/`, embedded at compile time and overridable from
//! a directory at run time, rendered with [minijinja](https://docs.rs/minijinja).
//!
//! Each template has two blocks, `system` and `user`. Templates see a [`PromptContext`] built
//! from the [`TradingState`](crate::TradingState): the instrument and its kind (crypto or Indian
//! index futures), prices, indicators, the reports so far, the debate, lessons and weights, the book
//! (for the risk manager and the portfolio manager: the position, the account, what the risk
//! guard's limits leave, working orders) and the JSON Schema the answer must follow.
//!
//! Text that came from a model or from outside (news, macro figures, the analysts' reports, the
//! debate, lessons, a user-defined symbol: every context string not in [`TRUSTED_FIELDS`]) is
//! data. Templates print it only through the `untrusted` filter ([`defuse()`]) and only inside the
//! one `<data>` ... `</data>` frame of the user block, which the system block declares to be
//! data, never instructions. Rendering enforces both: printing such a field raw, or anywhere
//! but inside the frame, is an error naming the template and the field.

mod context;
mod defuse;
mod filters;
mod frame;
mod library;
mod print;
mod shape;
mod taint;

pub use context::{BookView, PositionView, PromptContext, WorkingOrderView};
pub use defuse::{defuse, DEFAULT_MAX};
pub use library::{Prompts, RenderedPrompt};
pub use taint::TRUSTED_FIELDS;
