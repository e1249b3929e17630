//! `escort login`: an OIDC ID token exchanged at the fake ESC for an access
//! token, exported as ESC_TOKEN (masked in a job), then used by `load`.

use crate::common;

use crate::common::{Fake, assert_absent, escort, github_env};
use serde_json::{Value, json};

const ID_TOKEN: &str = "jwt-CANARY-id-token";
const ACCESS: &str = "tok-CANARY-access";
const REQUEST_TOKEN: &str = "req-CANARY-runtime";

fn fake() -> Fake {
    Fake::esc(&json!({
        "token": ACCESS,
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": "1"}}}},
        "oidc": {"subject_token": ID_TOKEN, "access_token": ACCESS, "orgs": ["acme"]},
        "actions": {"request_token": REQUEST_TOKEN, "id_token": ID_TOKEN}
    }))
}

fn outputs(a: &assert_cmd::assert::Assert) -> (String, String) {
    let o = a.get_output();
    (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
}

#[test]
fn in_a_job_the_runtime_token_is_exchanged_masked_and_exported() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    let a = escort()
        .env("ESC_API_URL", &fake.url)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &env_file)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", format!("{}/_actions/idtoken?api-version=2.0", fake.url))
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        .args(["login", "--oidc-organization", "acme", "--oidc-expiration", "900"])
        .assert()
        .success();
    let (stdout, stderr) = outputs(&a);
    assert_eq!(stdout.lines().next(), Some(format!("::add-mask::{ACCESS}").as_str()), "masked first");
    assert_absent(stderr.as_bytes(), &["CANARY"], "stderr");
    let exported = github_env::parse(&common::read(&env_file)).unwrap();
    assert_eq!(exported, vec![("ESC_TOKEN".to_string(), ACCESS.to_string())]);

    let log = fake.requests();
    let id_req = log.iter().find(|r| r["path"] == "/_actions/idtoken").expect("asked the runtime");
    assert_eq!(id_req["query"]["audience"], "urn:pulumi:org:acme");
    let ex = log.iter().find(|r| r["path"] == "/api/oauth/token").expect("exchanged");
    let body: Value = serde_json::from_str(ex["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
    assert_eq!(body["subject_token_type"], "urn:ietf:params:oauth:token-type:id_token");
    assert_eq!(body["requested_token_type"], "urn:pulumi:token-type:access_token:organization");
    assert_eq!(body["audience"], "urn:pulumi:org:acme");
    assert_eq!(body["expiration"], 900);

    // The exported token opens the environment.
    escort()
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", &exported[0].1)
        .env("ESC_ENV", "acme/app/dev")
        .args(["load", "--format", "json"])
        .assert()
        .success();
}

#[test]
fn a_token_file_works_outside_a_job() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("id.jwt");
    std::fs::write(&file, format!("{ID_TOKEN}\n")).unwrap();
    let a = escort()
        .env("ESC_API_URL", &fake.url)
        .args(["login", "--oidc-organization", "acme", "--format", "shell", "--oidc-token"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(outputs(&a).0, format!("export ESC_TOKEN='{ACCESS}'\n"));
    // And from stdin, for a team token with its scope.
    let a = escort()
        .env("ESC_API_URL", &fake.url)
        .args(["login", "--oidc-organization", "acme", "--format", "json", "--oidc-token", "-"])
        .args(["--oidc-requested-token-type", "team", "--oidc-scope", "team:platform"])
        .write_stdin(ID_TOKEN)
        .assert()
        .success();
    assert_eq!(outputs(&a).0, format!("{{\"ESC_TOKEN\":\"{ACCESS}\"}}\n"));
}

#[test]
fn exchange_errors_are_shown_without_tokens() {
    let fake = fake();
    for (org, token, scope, want) in [
        ("acme", "jwt-CANARY-wrong", None, "invalid_grant: the subject token is not trusted"),
        ("other-org", ID_TOKEN, None, "invalid_target: unknown audience"),
        ("acme", ID_TOKEN, Some("team:x"), "invalid_scope"),
    ] {
        let mut cmd = escort();
        cmd.env("ESC_API_URL", &fake.url).args([
            "login",
            "--oidc-organization",
            org,
            "--format",
            "json",
            "--oidc-token",
            "-",
        ]);
        if let Some(s) = scope {
            cmd.args(["--oidc-scope", s]);
        }
        let a = cmd.write_stdin(token).assert().code(3);
        let (stdout, stderr) = outputs(&a);
        assert!(stderr.contains(want), "{want}: {stderr}");
        assert_absent(format!("{stdout}{stderr}").as_bytes(), &["CANARY"], "output");
    }
}

#[test]
fn without_an_id_token_it_says_what_to_do() {
    let a = escort().args(["login", "--oidc-organization", "acme", "--format", "shell"]).assert().code(2);
    assert!(outputs(&a).1.contains("id-token: write"));
}
