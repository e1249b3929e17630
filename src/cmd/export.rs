//! What the commands that export values share (`load`, `run`, `login`):
//! reading the source with its fallback and the checks every environment
//! needs, and the checked `--format`/`--output` choice that writes them.

use crate::cli::{Format, Mask, OutputArgs, SourceArgs};
use crate::settings::{Context, Runner};
use crate::sink::{Render, docker::Docker, dotenv::Dotenv, github::GithubJob, json::Json, shell::Shell};
use crate::vars::{self, Var};
use crate::{error, files, output, sink, source, ui};
use anyhow::Result;

/// Read the variables `load` and `run` export: the source (or its
/// `--fallback`), `--keys`, and the checks every environment needs. With the
/// name of where they came from and the source's revision.
pub async fn exportable(args: &SourceArgs, ctx: &Context) -> Result<Exported> {
    let source = source::open(&args.spec(), ctx)?;
    let (vars, from) = source::fallback::load(source.as_ref(), &args.fallback, &args.keys, ctx).await?;
    sink::check_names(&vars)?;
    Ok(Exported { vars: sink::drop_unexportable(vars), from, revision: source.revision() })
}

/// What `exportable` read.
pub struct Exported {
    pub vars: Vec<Var>,
    /// The source the values came from (a fallback's name when one was used).
    pub from: String,
    /// The revision the source was asked for (`esc:ENV@REV`), if any.
    pub revision: Option<String>,
}

/// A checked `--format`/`--output` choice. Made before anything is fetched,
/// so a bad flag costs no request and writes nothing.
pub struct Output<'a> {
    args: &'a OutputArgs,
    format: Format,
    job: Option<GithubJob>,
    runner: &'a Runner,
    runtime_dir: Option<&'a std::path::Path>,
}

impl<'a> Output<'a> {
    pub fn new(args: &'a OutputArgs, ctx: &'a Context) -> Result<Self> {
        let runner = &ctx.settings.runner;
        let format = args.format.unwrap_or(if runner.active { Format::Github } else { Format::Shell });
        if format == Format::Github {
            ui::set_annotate(true);
        }
        let job = match format {
            Format::Github => Some(github_job(args, runner)?),
            Format::Shell | Format::Dotenv | Format::Json | Format::Docker => None,
        };
        Ok(Output { args, format, job, runner, runtime_dir: ctx.settings.runtime_dir.as_deref() })
    }

    /// `get`'s rule (docs/load.md, "escort get"): secrets are not printed to a
    /// terminal, where they are shared, recorded and kept in scrollback.
    /// `eval "$(escort load)"` reads a pipe, and a job or `--output` a file.
    pub fn refuse_secrets_on_terminal(&self, vars: &[Var]) -> Result<()> {
        let to_stdout = self.job.is_none() && self.args.output.is_none();
        let secrets = vars.iter().filter(|v| v.holds_secret()).count();
        if to_stdout && secrets > 0 && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            return Err(error::usage(format!(
                "the export holds {secrets} secret{} and stdout is a terminal: nothing was printed; \
                 pipe or redirect it (eval \"$(escort load ...)\", --output FILE), or pass --show-secrets",
                if secrets == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    pub fn export(self, vars: Vec<Var>) -> Result<()> {
        let Output { args, format, job, runner, runtime_dir } = self;
        let renderer: &dyn Render = match format {
            Format::Shell => &Shell,
            Format::Dotenv => &Dotenv,
            Format::Docker => &Docker,
            // GitHub's job export is not a text: only `refuse` is asked of it.
            Format::Json | Format::Github => &Json,
        };
        renderer.refuse(&vars)?;

        // Files must outlive escort (they are for the steps or shell that
        // follow), but only once the export that names them is written: a
        // failed one removes them (`dir` drops).
        let (vars, dir) = if vars.iter().any(|v| v.file) {
            let parent = match (format, &runner.temp) {
                (Format::Github, Some(temp)) => temp.clone(),
                _ => files::session_dir(runtime_dir),
            };
            let dir = files::private_dir(&parent)?;
            (files::materialize(vars, dir.path())?, Some(dir))
        } else {
            (vars, None)
        };

        if let Some(job) = job {
            // Not through `output`: a mask that cannot be written must stop the export.
            job.export(&vars, &mut std::io::stdout().lock())?;
            ui::note(&format!("exported {} variables to the job", vars.len()));
        } else {
            let text = renderer.render(&vars)?;
            match &args.output {
                Some(path) => {
                    let shown = path.display();
                    match files::write_atomic(path, text.as_bytes())? {
                        true => ui::note(&format!("wrote {} variables to {shown}", vars.len())),
                        false => {
                            ui::note(&format!("{shown} already holds these {} variables: not rewritten", vars.len()))
                        }
                    }
                }
                None => output::write(text.as_bytes())?,
            }
        }
        if let Some(dir) = dir {
            let _ = dir.keep();
        }
        // The last use of the values: escort exits next.
        vars::wipe_and_leak(vars);
        Ok(())
    }
}

fn github_job(args: &OutputArgs, runner: &Runner) -> Result<GithubJob> {
    if args.output.is_some() {
        return Err(error::usage("--output does not go with --format github, which writes to $GITHUB_ENV"));
    }
    let env_file = match (args.no_export, runner.env_file.clone()) {
        (true, _) => None,
        (false, Some(path)) => Some(path),
        (false, None) => {
            return Err(error::usage(
                "--format github needs $GITHUB_ENV (run it in a GitHub Actions step, or choose --format shell)",
            ));
        }
    };
    let output_file = match (args.outputs, runner.output_file.clone()) {
        (false, _) => None,
        (true, Some(path)) => Some(path),
        (true, None) => return Err(error::usage("--outputs needs $GITHUB_OUTPUT (run it in a GitHub Actions step)")),
    };
    Ok(GithubJob { env_file, output_file, mask_all: args.mask == Mask::All })
}
