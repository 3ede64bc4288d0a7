//! Turning scan results into what people and programs read.

pub mod json;
pub mod progress;
pub mod rfc8460;
pub mod sink;
pub mod table;
