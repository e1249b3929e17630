//! escort as a library: `run` parses the arguments, runs one command and maps
//! its result to an exit code (docs/exit-codes.md). `main.rs` only calls it.

mod alloc;
pub use alloc::Mimalloc;
mod audit;
mod check;
mod cli;
mod cmd;
mod dotenv;
mod error;
mod esc;
mod example;
mod files;
mod fleet;
#[doc(hidden)]
pub mod fuzz;
mod http;
mod json;
mod keys;
mod manifest;
mod oidc;
mod output;
mod record;
mod redact;
mod rotation;
mod secret;
mod settings;
mod sink;
mod source;
mod summary;
mod swar;
mod targets;
mod time;
mod ui;
mod vars;
mod wiped;

use clap::FromArgMatches;
use settings::{Context, Settings};
use std::process::ExitCode;

/// Run escort with the process's arguments and environment.
pub fn run() -> ExitCode {
    // A panic message could quote whatever was being handled: show it scrubbed.
    std::panic::set_hook(Box::new(|info| eprintln!("{}", panic_message(info))));

    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = matches.subcommand_name().unwrap_or_default().to_string();
    ui::set_quiet(cli.quiet);
    let outcome = std::panic::catch_unwind(|| {
        let mut settings = Settings::from_env()?;
        ui::set_verbose(cli.verbose || settings.debug);
        if let Some(n) = cli.command.concurrency() {
            settings.http.per_host = n;
        }
        let ctx = Context::new(settings);
        audit::open(cli.audit_log.as_deref(), &command, &ctx.settings.runner)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| error::internal(format!("could not start the async runtime: {e}")))?;
        runtime.block_on(cmd::dispatch(cli.command, &ctx))
    });
    let code = match outcome {
        Ok(Ok(status)) => status.code(),
        Ok(Err(err)) => {
            eprintln!("escort: error: {}", ui::escape(&secret::scrub(&format!("{err:#}"))));
            error::kind_of(&err).exit_code()
        }
        // The panic hook has said what happened.
        Err(_) => error::Kind::Internal.exit_code(),
    };
    secret::forget_all();
    ExitCode::from(code)
}

/// What a panic shows: where, and the message scrubbed of every known secret.
fn panic_message(info: &std::panic::PanicHookInfo) -> String {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    format!("escort: internal error{at}: {} (please report this)", ui::escape(&secret::scrub(&what)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn panics_are_scrubbed() {
        secret::register(&secret::Secret::new("panic-canary-value"));
        let seen = Arc::new(Mutex::new(String::new()));
        let sink = seen.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| *sink.lock().unwrap() = panic_message(info)));
        let _ = std::panic::catch_unwind(|| panic!("failed on panic-canary-value"));
        std::panic::set_hook(previous);
        let shown = seen.lock().unwrap().clone();
        assert!(shown.starts_with("escort: internal error at src/lib.rs:"), "{shown}");
        assert!(shown.contains("failed on ***") && !shown.contains("canary"), "{shown}");
    }
}
