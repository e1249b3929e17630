//! The dotenv format, in one place: reading a .env file (`read`), quoting a
//! value so that both dotenvy and python-dotenv read it back (`push_quoted`),
//! and writing whole files (`render`, `render_grouped`). The README's "How
//! escort reads .env files" and "dotenv quoting" describe what users see.

mod read;
mod write;

pub use read::{Entries, Malformed, parse, read, substitution_line};
pub use write::{edit, push_comment, push_quoted, render, render_grouped, warn_odd};

/// The line (from 1) that byte `offset` of `bytes` is on.
pub fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}
