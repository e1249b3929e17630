//! The dotenv format, in one place: reading a .env file (`read`), quoting a
//! value so that both dotenvy and python-dotenv read it back (`push_quoted`),
//! and writing whole files (`render`, `render_grouped`). docs/manifest.md ("How
//! escort reads .env files") and docs/load.md ("dotenv quoting") describe what users see.

mod lines;
mod read;
mod write;

pub use lines::line_at;

pub use read::{Entries, Malformed, parse, read, substitution_line};
pub use write::{Groups, edit, push_comment, push_quoted, render, render_grouped, warn_odd};
