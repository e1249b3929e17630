//! Pulumi ESC: the API client (`client.rs`), environment names (`env_ref.rs`),
//! the read response's scanner and decoders (`scan.rs`, `decode.rs`,
//! `value.rs`), the definition's reader and editor (`definition/`), and the
//! revision history that dates each variable's last change (`history.rs`).

mod client;
pub mod decode;
pub mod definition;
mod env_ref;
pub mod history;
mod scan;
pub mod value;
#[cfg(test)]
mod value_tests;

pub use client::Esc;
pub use env_ref::EnvRef;
