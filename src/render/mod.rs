//! Turning scan results into what people and programs read.

pub mod csv;
pub mod fill;
pub mod html;
pub mod json;
pub mod junit;
pub mod markup;
pub mod over_time;
pub mod progress;
pub mod rfc8460;
pub mod sarif;
pub mod sink;
pub mod summary;
pub mod table;
pub mod tally;
pub mod verbose;

/// The JSON word of a value that serialises as a string (a status, a
/// mode), for formats that show it as text; empty for anything else.
pub(crate) fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
