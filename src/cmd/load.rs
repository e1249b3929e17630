//! `escort load`: export an environment to a GitHub job, a shell, dotenv or JSON.

use crate::cli::{Format, LoadArgs, Mask, OutputArgs};
use crate::sink::{Render, dotenv::Dotenv, github::GithubJob, json::Json, shell::Shell};
use crate::vars::Var;
use crate::{error, files, ui};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;

pub async fn load(args: LoadArgs) -> Result<u8> {
    let out = Output::new(&args.output)?;
    let vars = super::exportable(&args.source).await?;
    out.export(vars)?;
    Ok(0)
}

/// A checked `--format`/`--output` choice. Made before anything is fetched,
/// so a bad flag costs no request and writes nothing.
pub struct Output<'a> {
    args: &'a OutputArgs,
    format: Format,
    job: Option<GithubJob>,
}

impl<'a> Output<'a> {
    pub fn new(args: &'a OutputArgs) -> Result<Self> {
        let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let format = args.format.unwrap_or(if in_actions { Format::Github } else { Format::Shell });
        if format == Format::Github {
            ui::set_annotate(true);
        }
        let job = match format {
            Format::Github => Some(github_job(args)?),
            _ => None,
        };
        Ok(Output { args, format, job })
    }

    pub fn export(self, vars: Vec<Var>) -> Result<()> {
        let Output { args, format, job } = self;

        let vars = if vars.iter().any(|v| v.file) {
            // Files must outlive escort: they are for the steps or shell that follow.
            let parent = match format {
                Format::Github => std::env::var_os("RUNNER_TEMP").map(PathBuf::from).unwrap_or_else(files::session_dir),
                _ => files::session_dir(),
            };
            let dir = files::private_dir(&parent)?.keep();
            files::materialize(vars, &dir)?
        } else {
            vars
        };

        let mut stdout = std::io::stdout().lock();
        if let Some(job) = job {
            job.export(&vars, &mut stdout)?;
            ui::note(&format!("exported {} variables to the job", vars.len()));
            return Ok(());
        }
        let renderer: &dyn Render = match format {
            Format::Shell => &Shell,
            Format::Dotenv => &Dotenv,
            _ => &Json,
        };
        let text = renderer.render(&vars)?;
        match &args.output {
            Some(path) => {
                files::write_atomic(path, text.as_bytes())?;
                ui::note(&format!("wrote {} variables to {}", vars.len(), path.display()));
            }
            None => {
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
            }
        }
        Ok(())
    }
}

fn github_job(args: &OutputArgs) -> Result<GithubJob> {
    if args.output.is_some() {
        return Err(error::usage("--output does not go with --format github, which writes to $GITHUB_ENV"));
    }
    let file = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let env_file = match (args.no_export, file("GITHUB_ENV")) {
        (true, _) => None,
        (false, Some(path)) => Some(path),
        (false, None) => {
            return Err(error::usage(
                "--format github needs $GITHUB_ENV (run it in a GitHub Actions step, or choose --format shell)",
            ));
        }
    };
    let output_file = match (args.outputs, file("GITHUB_OUTPUT")) {
        (false, _) => None,
        (true, Some(path)) => Some(path),
        (true, None) => return Err(error::usage("--outputs needs $GITHUB_OUTPUT (run it in a GitHub Actions step)")),
    };
    Ok(GithubJob { env_file, output_file, mask_all: args.mask == Mask::All })
}
