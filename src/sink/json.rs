//! One JSON object `{"NAME": "value", ...}`, in source order.

use super::render::Render;
use crate::json;
use crate::swar;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

pub struct Json;

impl Render for Json {
    fn render(&self, vars: &[Var]) -> Result<Wiped<String>> {
        // Sized up front for text that needs no escape (the usual case, and
        // no second pass to count them); escapes grow it as `Wiped` grows.
        let commas = vars.len().saturating_sub(1);
        let len = 3 + commas + vars.iter().map(|v| v.name.len() + v.value.len() + 5).sum::<usize>();
        let mut out = Wiped::new(String::with_capacity(len));
        out.push('{');
        for (i, v) in vars.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            quote(&v.name, &mut out);
            out.push(':');
            quote(v.value.expose(), &mut out);
        }
        out.push_str("}\n");
        Ok(out)
    }
}

/// How `b`, a byte `json::to_escape` flags, is written inside a JSON string:
/// the short escapes, else `\u00XX` for the other control characters (as
/// serde_json).
fn escape(b: u8) -> &'static str {
    const CONTROL: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007", "\\b", "\\t", "\\n",
        "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014",
        "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e",
        "\\u001f",
    ];
    match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        _ => CONTROL[usize::from(b)],
    }
}

/// The bytes that need escaping in `text`, in order, with their indexes.
fn escapes(text: &str) -> impl Iterator<Item = (usize, &'static str)> + '_ {
    let s = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        i = swar::run(s, i, json::to_escape);
        let at = i;
        i += 1;
        s.get(at).map(|&b| (at, escape(b)))
    })
}

/// Append `text` as a JSON string (escaped as serde_json escapes it), into
/// the wiped buffer only: the ledger's key goes through it too.
pub fn quote(text: &str, out: &mut Wiped<String>) {
    out.push('"');
    let mut plain = 0;
    for (i, escaped) in escapes(text) {
        out.push_str(&text[plain..i]);
        out.push_str(escaped);
        plain = i + 1;
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_in_order() {
        let out = Json.render(&[Var::plain("B", "x\n\"y\""), Var::plain("A", "")]).unwrap();
        assert_eq!(out.as_str(), "{\"B\":\"x\\n\\\"y\\\"\",\"A\":\"\"}\n");
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every: String = (0..=0x7f_u8).map(char::from).chain("é日🦀\u{2028}".chars()).collect();
        let out = Json.render(&[Var::plain("K", every.as_str()), Var::plain("L", "")]).unwrap();
        assert_eq!(out.as_str(), format!("{{\"K\":{},\"L\":\"\"}}\n", serde_json::to_string(&every).unwrap()));
        let plain = Json.render(&[Var::plain("K", "plain value"), Var::plain("L", "")]).unwrap();
        assert_eq!(plain.len(), plain.capacity(), "sized exactly when nothing is escaped");
    }
}
