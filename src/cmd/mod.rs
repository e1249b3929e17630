//! One file per command. Each returns the exit code of a successful run.

pub mod check;
pub mod init;
pub mod load;
pub mod login;
pub mod ls;
pub mod report;
pub mod rm;
pub mod rotation;
pub mod run;
pub mod set;
pub mod sync;
pub mod template;

use crate::cli::{Command, SourceArgs};
use crate::keys::Selection;
use crate::sink;
use crate::source::{self, Source, esc::EscSource};
use crate::vars::Var;
use anyhow::Result;

pub async fn dispatch(command: Command) -> Result<u8> {
    match command {
        Command::Load(args) => load::load(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Login(args) => login::login(args).await,
        Command::Sync(args) => sync::sync(args).await,
        Command::Ls(args) => ls::ls(args).await,
        Command::Set(args) => set::set(args).await,
        Command::Rm(args) => rm::rm(args).await,
        Command::Check(args) => check::check(args).await,
        Command::Template(args) => template::template(args).await,
        Command::Rotation(args) => rotation::rotation(args).await,
        Command::Init(args) => init::init(args),
    }
}

/// Read the variables `load` and `run` export: the source, `--keys`, and the
/// checks every environment needs.
async fn exportable(args: &SourceArgs) -> Result<Vec<Var>> {
    let keys = Selection::parse(&args.keys)?;
    let source: Box<dyn Source> = match (&args.demo, &args.env) {
        (true, _) => Box::new(EscSource::Demo),
        (false, Some(env)) => source::parse(&format!("esc:{env}"))?,
        (false, None) => Box::new(EscSource::new(None)?),
    };
    let vars = keys.apply(source.load().await?)?;
    sink::check_names(&vars)?;
    Ok(sink::drop_unexportable(vars))
}
