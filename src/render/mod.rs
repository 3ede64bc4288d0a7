//! Turning scan results into what people and programs read.

pub mod json;
pub mod table;
