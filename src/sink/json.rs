//! One JSON object `{"NAME": "value", ...}`, in source order.

use super::Render;
use crate::vars::Var;
use anyhow::Result;
use zeroize::Zeroizing;

pub struct Json;

impl Render for Json {
    fn render(&self, vars: &[Var]) -> Result<Zeroizing<String>> {
        let mut out = Zeroizing::new(String::from("{"));
        for (i, v) in vars.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(&v.name)?);
            out.push(':');
            let quoted = Zeroizing::new(serde_json::to_string(v.value.expose())?);
            out.push_str(&quoted);
        }
        out.push_str("}\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_in_order() {
        let out = Json.render(&[Var::plain("B", "x\n\"y\""), Var::plain("A", "")]).unwrap();
        assert_eq!(out.as_str(), "{\"B\":\"x\\n\\\"y\\\"\",\"A\":\"\"}\n");
    }
}
