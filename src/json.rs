//! Decoding the JSON answers of the APIs escort talks to, with one policy:
//! an error says what was being read, what kind of problem it was and where,
//! and never quotes the input. serde_json's own messages can quote the
//! offending text (`invalid type: string "..."`), which may be a value.

use crate::error;
use crate::swar;
use anyhow::Result;
use serde::de::DeserializeOwned;

/// Decode `body`, the answer to `op` ("list the Actions secrets of acme/app").
pub fn decode<T: DeserializeOwned>(op: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| error::backend(format!("{op}: {}", problem(&e))))
}

/// What is wrong with a JSON answer, and where: only the error's kind.
pub fn problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "could not be read",
        Category::Syntax => Problem::Syntax.what(),
        Category::Data => Problem::Shape.what(),
        Category::Eof => Problem::Eof.what(),
    };
    format!("the answer {what} (line {}, column {})", e.line(), e.column())
}

/// The bytes of the word `w` a JSON string must escape: `"`, `\\` and the
/// control characters (`swar`).
#[inline(always)]
pub fn to_escape(w: u64) -> u64 {
    swar::eq(w, b'"') | swar::eq(w, b'\\') | swar::below(w, 0x20)
}

/// The kinds of problem a decoder of escort's own reports (`esc::decode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Syntax,
    Shape,
    Eof,
}

impl Problem {
    fn what(self) -> &'static str {
        match self {
            Problem::Syntax => "is not valid JSON (or is nested too deeply)",
            Problem::Shape => "does not have the shape the API describes",
            Problem::Eof => "ended early",
        }
    }
}

/// The error for `problem` at byte `offset` of `body`, the answer to `op`,
/// worded as for serde_json's errors (columns count bytes).
pub fn error_at(op: &str, problem: Problem, body: &[u8], offset: usize) -> anyhow::Error {
    let before = &body[..offset.min(body.len())];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = before.len() - memchr::memrchr(b'\n', before).map_or(0, |nl| nl + 1) + 1;
    error::backend(format!("{op}: the answer {} (line {line}, column {column})", problem.what()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_never_quote_the_text() {
        #[derive(serde::Deserialize, Debug)]
        struct Shape {
            #[allow(dead_code)] // read by serde only
            n: u64,
        }
        for body in [r#"{"n": "json-canary"}"#, r#"{"n": 1, json-canary"#, r#"["json-canary"]"#] {
            let err = decode::<Shape>("read it", body.as_bytes()).unwrap_err();
            let shown = format!("{err:#}");
            assert!(!shown.contains("canary") && shown.starts_with("read it: the answer"), "{shown}");
            assert_eq!(error::kind_of(&err), error::Kind::Backend);
        }
    }
}
