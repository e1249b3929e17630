//! Exit statuses, and the error kinds that choose them (README, "Exit codes").
//!
//! A command returns an `ExitStatus` when it ran to its end, or an error. Errors
//! travel as `anyhow::Error`; the first `Failure`, `HttpError` or I/O error in
//! the chain decides the kind. Usage errors are always made on purpose
//! (`error::usage`): an error nobody classified is escort's own (`Internal`),
//! never blamed on the user.

use std::fmt;

/// How a command that ran to its end finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// The check failed or a secret is overdue (exit 1).
    Failed,
    /// `escort run`: the child's own exit code.
    Child(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failed => Kind::Failed.exit_code(),
            ExitStatus::Child(code) => code,
        }
    }
}

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
    /// escort could not do its own local work: a file or directory it could
    /// not read or write, a full disk, a child it could not start.
    Local,
    /// A bug in escort.
    Internal,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::Backend => 3,
            Kind::Partial => 4,
            Kind::Local => 5,
            Kind::Internal => 70,
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

fn failure(kind: Kind, message: impl Into<String>) -> anyhow::Error {
    Failure { kind, message: message.into() }.into()
}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    failure(Kind::Usage, message)
}

pub fn backend(message: impl Into<String>) -> anyhow::Error {
    failure(Kind::Backend, message)
}

pub fn internal(message: impl Into<String>) -> anyhow::Error {
    failure(Kind::Internal, message)
}

/// The kind of the first `Failure`, HTTP error or I/O error in the chain.
pub fn kind_of(err: &anyhow::Error) -> Kind {
    // A kind given as context (`.context(Failure {..})`) is seen only here:
    // `chain` shows it wrapped together with the error below it.
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.kind;
    }
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.kind;
        }
        if cause.downcast_ref::<crate::http::HttpError>().is_some() {
            return Kind::Backend;
        }
        if cause.downcast_ref::<crate::dotenv::Malformed>().is_some() {
            return Kind::Usage;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // A path that does not exist is the user's to fix; a full disk or
            // a read-only directory is not.
            return match io.kind() {
                std::io::ErrorKind::NotFound => Kind::Usage,
                _ => Kind::Local,
            };
        }
    }
    Kind::Internal
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn kinds_come_from_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device");
        let err = Err::<(), _>(io).context("could not write x").unwrap_err();
        assert_eq!(kind_of(&err), Kind::Local);
        let missing = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::NotFound)).context("no x").unwrap_err();
        assert_eq!(kind_of(&missing), Kind::Usage);
        assert_eq!(kind_of(&usage("bad flag").context("while parsing")), Kind::Usage);
        assert_eq!(kind_of(&anyhow::anyhow!("something unforeseen")), Kind::Internal);
        // An explicit kind wins over an I/O error below it.
        let wrapped = anyhow::Error::new(std::io::Error::other("x"))
            .context(Failure { kind: Kind::Backend, message: "the service".into() });
        assert_eq!(kind_of(&wrapped), Kind::Backend);
    }

    #[test]
    fn failures_nobody_classified_are_not_blamed_on_the_user() {
        // README, "Exit codes": 5 for escort's own local work, 70 for a bug; 2 is for the user.
        let denied = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied)).context("write x");
        assert_eq!(kind_of(&denied.unwrap_err()).exit_code(), 5);
        assert_eq!(kind_of(&anyhow::anyhow!("something unforeseen").context("while syncing")).exit_code(), 70);
    }
}
