//! The integration tests: one binary, one module per area. Each drives the
//! real `escort` binary against fakes on 127.0.0.1 (`common::Fake`) and checks
//! results with the real peers that scripts/setup-peers.sh installs.

mod common;
mod esc_target_support;
mod github_support;

mod action;
mod audit19;
mod canary;
mod check;
mod comforts;
mod dates;
mod dotenv_source;
mod dotenv_target;
mod esc_sdk_peer;
mod esc_target;
mod exit_status;
mod fallbacks;
mod faults;
mod feature;
mod fleet;
mod fleet_rules;
mod fly_ledger;
mod fly_target;
mod fuzz_corpus;
mod github_canary;
mod github_cmds;
mod github_crypto;
mod github_prism;
mod github_sync;
mod github_tty;
mod init;
mod install;
mod ledger;
mod load;
mod login;
mod redact_messages;
mod release;
mod rotation;
mod run;
mod security;
mod specs;
mod summary;
mod template;
mod variables;
