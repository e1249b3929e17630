//! Command-line arguments. Parsing only; the work is in `cmd`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "escort",
    version,
    about = "Get secrets from Pulumi ESC to where they are used, safely and fast.",
    after_help = "Exit codes: 0 ok, 1 check failed, 2 usage or configuration error, \
                  3 a backend refused or could not be reached, 4 partial write.\n\
                  Configuration: ESC_ENV, ESC_TOKEN (or PULUMI_ACCESS_TOKEN), ESC_API_URL, ESC_ORG."
)]
pub struct Cli {
    /// Print nothing but results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open an ESC environment and export its variables (to a GitHub job, a shell, dotenv or JSON).
    #[command(after_help = "Examples:\n  \
        eval \"$(ESC_ENV=acme/app/dev escort load)\"\n  \
        escort load --env acme/app/dev --format dotenv --output .env\n  \
        escort load --env app/prod --keys 'DATABASE_URL,API_KEY=OPENAI_API_KEY' --format json\n  \
        escort load --demo                    # the built-in demo environment, no account needed\n  \
        escort load --format github --mask all   # in a GitHub Actions step")]
    Load(LoadArgs),

    /// Run a command with an ESC environment's variables set, its output redacted.
    #[command(after_help = "Examples:\n  \
        escort run --env acme/app/dev -- npm test\n  \
        escort run --keys DATABASE_URL -- ./migrate.sh\n\n\
        The exit code is the command's. Secret values of 3 or more characters in its output\n\
        are replaced by ***, unless --no-redact. Files from ESC are removed when it ends.")]
    Run(RunArgs),
}

#[derive(Args, Debug)]
pub struct SourceArgs {
    /// ESC environment `[org/][project/]env[@version]` (default: $ESC_ENV).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// Use the built-in demo environment instead of ESC (no account, no network).
    #[arg(long, conflicts_with = "env")]
    pub demo: bool,

    /// Which variables, and under which names: `NAME`, `TO=FROM`, `*`; comma- or newline-separated.
    #[arg(long, value_name = "LIST", default_value = "")]
    pub keys: String,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Output format (default: github inside GitHub Actions, else shell).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Which values to mask in a GitHub job.
    #[arg(long, value_enum, default_value_t = Mask::Secrets)]
    pub mask: Mask,

    /// With --format github: also write each variable as a step output ($GITHUB_OUTPUT).
    #[arg(long)]
    pub outputs: bool,

    /// With --format github: do not write $GITHUB_ENV (masks and --outputs only).
    #[arg(long)]
    pub no_export: bool,

    /// Write to FILE (atomically, mode 0600) instead of stdout. Not with --format github.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Pass the command's output through untouched.
    #[arg(long)]
    pub no_redact: bool,

    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Github,
    Shell,
    Dotenv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mask {
    Secrets,
    All,
}
