//! Request and response types shared by every provider.

mod message;
mod request;
mod response;
mod sampling;
mod usage;

pub use message::{Message, Role};
pub use request::Request;
pub use response::{Content, FinishReason, Response};
pub use sampling::Sampling;
pub use usage::Usage;
