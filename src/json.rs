//! Decoding the JSON answers of the APIs escort talks to, with one policy:
//! an error says what was being read, what kind of problem it was and where,
//! and never quotes the input. serde_json's own messages can quote the
//! offending text (`invalid type: string "..."`), which may be a value.

use crate::error;
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
        Category::Syntax => "is not valid JSON (or is nested too deeply)",
        Category::Data => "does not have the shape the API describes",
        Category::Eof => "ended early",
    };
    format!("the answer {what} (line {}, column {})", e.line(), e.column())
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
