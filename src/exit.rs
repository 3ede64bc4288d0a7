//! The exit statuses of `mxtls` (DESIGN.md; README, "Exit status"), in a
//! module of their own so that every command can name them without
//! importing another command.

/// Scanned; nothing at or above `--fail-on`.
pub const PASSED: u8 = 0;
/// At least one finding at or above `--fail-on`.
pub const FINDINGS: u8 = 1;
/// Bad usage, rejected input, or the scanner's environment stopped it.
pub const OPERATIONAL: u8 = 2;
/// Scanned, but for at least one domain nothing could be told: it has MX
/// addresses and none could be probed.
pub const UNTESTED: u8 = 3;
/// Stopped by SIGINT (Ctrl-C): 128 + 2, as shells report it.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM: 128 + 15.
pub const TERMINATED: u8 = 143;
