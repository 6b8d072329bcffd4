//! Request and response types shared by every provider.

mod message;
mod request;
mod response;
mod usage;

pub use message::{Message, Role};
pub use request::Request;
pub use response::{Content, FinishReason, Response};
pub use usage::Usage;
