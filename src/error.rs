//! Exit codes, and the error kinds that choose them.
//!
//! Errors travel as `anyhow::Error`; a `Failure` anywhere in the chain decides
//! the exit code (SPEC §4). An error without one is a usage or configuration
//! problem (exit 2).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The check failed or a secret is overdue.
    Failed,
    /// A bad flag, manifest, .env line or configuration.
    Usage,
    /// A backend refused or could not be reached.
    Backend,
    /// Some secrets were written and some were not.
    Partial,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::Backend => 3,
            Kind::Partial => 4,
        }
    }
}

/// An error with a kind. Its message must never contain a value or a token.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure { kind: Kind::Usage, message: message.into() }.into()
}

pub fn backend(message: impl Into<String>) -> anyhow::Error {
    Failure { kind: Kind::Backend, message: message.into() }.into()
}

/// The kind of the first `Failure` (or HTTP error) in the chain.
pub fn kind_of(err: &anyhow::Error) -> Kind {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.kind;
        }
        if cause.downcast_ref::<crate::http::HttpError>().is_some() {
            return Kind::Backend;
        }
    }
    Kind::Usage
}
