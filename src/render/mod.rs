//! Turning scan results into what people and programs read.

pub mod json;
pub mod over_time;
pub mod rfc8460;
pub mod sink;
pub mod table;
