//! Exit statuses, and the error kinds that choose them (docs/exit-codes.md).
//!
//! A command returns an `ExitStatus` when it ran to its end, or an error. Errors
//! travel as `anyhow::Error`; the first `Failure`, `HttpError` or I/O error in
//! the chain decides the kind. Usage errors are always made on purpose
//! (`error::usage`): an error nobody classified is escort's own (`Internal`),
//! never blamed on the user.

use reqwest::Method;
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

/// A failed request. Holds the operation, method, URL path and status, and
/// the API's own message (scrubbed of every known secret), never a body.
#[derive(Debug)]
pub struct HttpError {
    pub op: String,
    pub method: Method,
    /// `scheme://host[:port]`: which service (a network error is about a host).
    pub host: String,
    pub path: String,
    /// Where the token sent came from, when it was refused (401, 403).
    pub token_from: Option<String>,
    pub status: Option<u16>,
    pub detail: String,
    /// No answer came: the connection failed or timed out, every attempt.
    pub no_answer: bool,
}

impl HttpError {
    /// The service could not be reached: no answer, or a server error (5xx)
    /// after the retries. Not a refusal (401, 403, 404), nor a request escort
    /// would not send (plain HTTP, a bad URL).
    pub fn unreachable(&self) -> bool {
        self.no_answer || self.status.is_some_and(|s| s >= 500)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed at {}: {} {}", self.op, self.host, self.method, self.path)?;
        match self.status {
            Some(status) => {
                let reason =
                    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
                write!(f, " returned {status} {reason}")?;
                if !self.detail.is_empty() {
                    write!(f, ": {}", self.detail)?;
                }
                match (status_hint(status), &self.token_from) {
                    (Some(hint), Some(from)) if matches!(status, 401 | 403) => {
                        write!(f, " ({hint}; the token came from {from})")
                    }
                    (Some(hint), _) => write!(f, " ({hint})"),
                    (None, _) => Ok(()),
                }
            }
            None => write!(f, ": {}", self.detail),
        }
    }
}

impl std::error::Error for HttpError {}

fn status_hint(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("check that the token is set and valid"),
        403 => Some("the token lacks permission for this"),
        404 => Some("check the name; a token without access also sees 404"),
        _ => None,
    }
}

/// A .env file escort cannot read: the file, the line and what is wrong,
/// never the text of the line.
#[derive(Debug)]
pub struct Malformed {
    pub path: std::path::PathBuf,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.what)
    }
}

impl std::error::Error for Malformed {}

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
        if cause.downcast_ref::<HttpError>().is_some() {
            return Kind::Backend;
        }
        if cause.downcast_ref::<Malformed>().is_some() {
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
        // docs/exit-codes.md: 5 for escort's own local work, 70 for a bug; 2 is for the user.
        let denied = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied)).context("write x");
        assert_eq!(kind_of(&denied.unwrap_err()).exit_code(), 5);
        assert_eq!(kind_of(&anyhow::anyhow!("something unforeseen").context("while syncing")).exit_code(), 70);
    }
}
