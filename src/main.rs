//! escort: parse the arguments, run the command, map errors to exit codes.

mod cli;
mod cmd;
mod error;
mod esc;
mod files;
mod http;
mod keys;
mod redact;
mod secret;
mod sink;
mod source;
mod ui;
mod vars;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic message could quote whatever was being handled: show it scrubbed.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("escort: internal error{at}: {} (please report this)", secret::scrub(&what));
    }));

    let cli = cli::Cli::parse();
    ui::set_quiet(cli.quiet);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("escort: error: could not start: {e}");
            return ExitCode::from(error::Kind::Usage.exit_code());
        }
    };
    match runtime.block_on(cmd::dispatch(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("escort: error: {}", secret::scrub(&format!("{err:#}")));
            ExitCode::from(error::kind_of(&err).exit_code())
        }
    }
}
