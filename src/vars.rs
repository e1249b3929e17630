//! A variable on its way from a source to a sink.

use crate::secret::Secret;
use std::future::Future;
use std::pin::Pin;

/// What sources and targets return from their async methods (object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub value: Secret,
    /// The source marked the value secret (ESC `secret: true`, or a manifest
    /// or source that treats everything as secret).
    pub secret: bool,
    /// Secret leaves inside a structured (JSON) value, masked on their own too.
    pub secret_parts: Vec<Secret>,
    /// The value is the content of a file (ESC `files`): sinks export the path
    /// of a private file that holds it.
    pub file: bool,
}

impl Var {
    pub fn plain(name: impl Into<String>, value: impl Into<Secret>) -> Self {
        Var { name: name.into(), value: value.into(), secret: false, secret_parts: Vec::new(), file: false }
    }

    pub fn secret(name: impl Into<String>, value: impl Into<Secret>) -> Self {
        Var { secret: true, ..Var::plain(name, value) }
    }

    /// The texts that must never be shown: the whole value when it is secret
    /// (or when `all` asks for every value), and each secret leaf.
    pub fn sensitive(&self, all: bool) -> impl Iterator<Item = &Secret> {
        let whole = (self.secret || all).then_some(&self.value);
        whole.into_iter().chain(self.secret_parts.iter())
    }

    /// Whether its source marks it secret, whole or in part.
    pub fn holds_secret(&self) -> bool {
        self.secret || !self.secret_parts.is_empty()
    }
}

/// Zero every value of `vars` and leave their memory to the OS: for the
/// variables a command holds until escort exits (`Wiped::wipe_and_leak`).
pub fn wipe_and_leak(vars: Vec<Var>) {
    for var in vars {
        var.value.wipe_and_leak();
        var.secret_parts.into_iter().for_each(Secret::wipe_and_leak);
        std::mem::forget(var.name);
    }
}

/// Whether `name` can be an environment variable name everywhere escort
/// exports to (GitHub's runner, POSIX shells, dotenv files).
pub fn valid_name(name: &str) -> bool {
    // A table: every name of a load is checked, and three range tests a byte
    // cost more than the rest of its export.
    const WORD: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = c.is_ascii_alphanumeric() || c == b'_';
            b += 1;
        }
        table
    };
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b) if !b.is_ascii_digit()) && bytes.iter().all(|&b| WORD[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["A", "_", "a_1", "PATH", "_X9"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=B", "É", "a.b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn sensitive_texts() {
        let mut v = Var::plain("J", r#"{"a":"leaf-secret","b":"x"}"#);
        v.secret_parts.push(Secret::new("leaf-secret"));
        assert_eq!(v.sensitive(false).count(), 1);
        assert_eq!(v.sensitive(true).count(), 2);
        assert_eq!(Var::secret("S", "v").sensitive(false).count(), 1);
    }
}
