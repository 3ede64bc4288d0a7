//! Turning scan results into what people and programs read.

pub mod fill;
pub mod json;
pub mod rfc8460;
pub mod sink;
pub mod table;
pub mod verbose;
