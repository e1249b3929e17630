//! One file per command. Each gets its parsed arguments and the process's
//! `Context`, and returns how it finished (`ExitStatus`) or an error.

pub mod check;
pub mod completions;
mod fleet;
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

use crate::cli::{Command, SourceArgs};
use crate::error::ExitStatus;
use crate::manifest::{self, Manifest};
use crate::settings::Context;
use crate::sink;
use crate::source;
use crate::targets::TargetSpec;
use crate::vars::Var;
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

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

/// Read the variables `load` and `run` export: the source (or its
/// `--fallback`), `--keys`, and the checks every environment needs. With the
/// name of where they came from.
async fn exportable(args: &SourceArgs, ctx: &Context) -> Result<(Vec<Var>, String)> {
    let source = source::open(&args.spec(), ctx)?;
    let (vars, from) = source::fallback::load(source.as_ref(), &args.fallback, &args.keys, ctx).await?;
    sink::check_names(&vars)?;
    Ok((sink::drop_unexportable(vars), from))
}

/// The manifest that groups a .env file target: the one given, else
/// `escort.toml` when there is one. Other targets need none.
fn grouping(target: &TargetSpec, given: Option<&Path>) -> Result<Option<Arc<Manifest>>> {
    if !matches!(target, TargetSpec::Dotenv(_)) {
        return Ok(None);
    }
    let path = match given {
        Some(path) => path,
        None if Path::new("escort.toml").is_file() => Path::new("escort.toml"),
        None => return Ok(None),
    };
    Ok(Some(Arc::new(manifest::load(path)?)))
}
