//! Tests of `value.rs`: the serde reference decoder, checked against
//! `decode.rs` on every input (the two must read the same tree).

use super::decode;
use super::value::{Environment, Skipped, decode as variables};
use crate::vars::Var;

/// Both decoders read the same tree; the variables are made from it.
fn parse(json: &str) -> (Vec<Var>, Skipped) {
    let env: Environment = serde_json::from_str(json).unwrap();
    assert_eq!(decode::parse(json.as_bytes()).unwrap(), env.properties);
    variables(env.properties)
}

const T: &str = r#""trace":{"def":{"environment":"e"}}"#;

#[test]
fn scalars_become_strings_and_keep_their_secret_flag() {
    let json = format!(
        r#"{{"properties":{{"environmentVariables":{{"value":{{
            "S":{{"value":"shh","secret":true,{T}}},
            "N":{{"value":3,{T}}},
            "F":{{"value":1.5,{T}}},
            "B":{{"value":false,{T}}},
            "P":{{"value":"plain",{T}}}
        }},{T}}}}}}}"#
    );
    let (vars, _) = parse(&json);
    let got: Vec<(&str, &str, bool)> = vars.iter().map(|v| (v.name.as_str(), v.value.expose(), v.secret)).collect();
    assert_eq!(
        got,
        vec![("S", "shh", true), ("N", "3", false), ("F", "1.5", false), ("B", "false", false), ("P", "plain", false)]
    );
}

#[test]
fn secret_parents_make_children_secret() {
    let json = format!(
        r#"{{"properties":{{"environmentVariables":{{"value":{{
            "A":{{"value":"child",{T}}}
        }},"secret":true,{T}}}}}}}"#
    );
    let (vars, _) = parse(&json);
    assert!(vars[0].secret);
}

#[test]
fn objects_become_compact_json_with_secret_leaves() {
    let json = format!(
        r#"{{"properties":{{"environmentVariables":{{"value":{{
            "OBJ":{{"value":{{
                "user":{{"value":"admin",{T}}},
                "pass":{{"value":"hunter22","secret":true,{T}}},
                "list":{{"value":[{{"value":1,{T}}},{{"value":"tok","secret":true,{T}}}],{T}}},
                "nothing":{{"value":null,{T}}}
            }},{T}}},
            "PLAIN":{{"value":[{{"value":"a",{T}}}],{T}}}
        }},{T}}}}}}}"#
    );
    let (vars, _) = parse(&json);
    assert_eq!(vars[0].value.expose(), r#"{"user":"admin","pass":"hunter22","list":[1,"tok"],"nothing":null}"#);
    assert!(vars[0].secret);
    let parts: Vec<&str> = vars[0].secret_parts.iter().map(|s| s.expose()).collect();
    assert_eq!(parts, vec!["hunter22", "tok"]);
    assert_eq!(vars[1].value.expose(), r#"["a"]"#);
    assert!(!vars[1].secret);
}

#[test]
fn files_unknowns_and_nulls() {
    let json = format!(
        r#"{{"properties":{{
            "files":{{"value":{{"KUBECONFIG":{{"value":"apiVersion: v1\n","secret":true,{T}}}}},{T}}},
            "environmentVariables":{{"value":{{
                "U":{{"value":"[unknown]","unknown":true,{T}}},
                "Z":{{"value":null,{T}}}
            }},{T}}},
            "pulumiConfig":{{"value":{{"x":{{"value":"y",{T}}}}},{T}}}
        }}}}"#
    );
    let (vars, skipped) = parse(&json);
    assert_eq!(vars.len(), 1);
    assert!(vars[0].file && vars[0].secret);
    assert_eq!(vars[0].value.expose(), "apiVersion: v1\n");
    assert_eq!(skipped.unknown, vec!["U"]);
    assert_eq!(skipped.null, vec!["Z"]);
}

/// F19: numbers were read as f64 and written back (`1e2` became `100.0`,
/// big integers lost digits). The exponent comes back in serde_json's
/// form (`1e+2`), the one ESC's Go encoder sends.
#[test]
fn f19_numbers_are_exported_exactly_as_sent() {
    let sent = ["123456789012345678901234567890", "-0", "1e+2", "0.1000", "-1.5e-7", "18446744073709551616", "7"];
    let items: Vec<String> = sent.iter().enumerate().map(|(i, n)| format!(r#""N{i}":{{"value":{n},{T}}}"#)).collect();
    let nested = r#""J":{"value":[{"value":1E2},{"value":{"k":{"value":-0,"secret":true}}}]}"#;
    let json = format!(r#"{{"properties":{{"environmentVariables":{{"value":{{{},{nested}}}}}}}}}"#, items.join(","));
    let (vars, _) = parse(&json);
    let got: Vec<&str> = vars.iter().map(|v| v.value.expose()).collect();
    assert_eq!(got[..sent.len()], sent);
    assert_eq!(got[sent.len()], r#"[1e+2,{"k":-0}]"#);
    assert_eq!(vars[sent.len()].secret_parts[0].expose(), "-0");
}

#[test]
fn a_value_without_trace_is_still_read() {
    let (vars, _) = parse(r#"{"properties":{"environmentVariables":{"value":{"A":{"value":"x"}}}}}"#);
    assert_eq!(vars[0].value.expose(), "x");
}
