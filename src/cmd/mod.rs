//! One file per command. Each gets its parsed arguments and the process's
//! `Context`, calls the layers below and renders what they return: how it
//! finished (`ExitStatus`) or an error. No command calls another's module;
//! what several share is in `export.rs` (load, run, login) and `report.rs`
//! (the write commands, and the status matrix).

pub mod check;
pub mod completions;
mod export;
pub mod get;
pub mod init;
pub mod load;
pub mod login;
pub mod ls;
pub mod report;
pub mod rm;
pub mod rotation;
pub mod run;
pub mod set;
pub mod status;
pub mod sync;
pub mod template;

use crate::cli::Command;
use crate::error::ExitStatus;
use crate::settings::Context;
use anyhow::Result;

pub async fn dispatch(command: Command, ctx: &Context) -> Result<ExitStatus> {
    match command {
        Command::Load(args) => load::load(args, ctx).await,
        Command::Run(args) => run::run(args, ctx).await,
        Command::Login(args) => login::login(args, ctx).await,
        Command::Sync(args) => sync::sync(args, ctx).await,
        Command::Status(args) => status::status(args, ctx).await,
        Command::Ls(args) => ls::ls(args, ctx).await,
        Command::Set(args) => set::set(args, ctx).await,
        Command::Rm(args) => rm::rm(args, ctx).await,
        Command::Check(args) => check::check(args, ctx).await,
        Command::Template(args) => template::template(args),
        Command::Rotation(args) => rotation::rotation(args, ctx).await,
        Command::Init(args) => init::init(args),
        Command::Get(args) => get::get(args, ctx).await,
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
    }
}
