//! Command-line arguments. Parsing only; the work is in `cmd`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "escort",
    version,
    about = "Get secrets from Pulumi ESC to where they are used, safely and fast.",
    after_help = "Exit codes: 0 ok, 1 check failed or a secret overdue, 2 usage or configuration error, \
                  3 a backend refused or could not be reached, 4 partial write.\n\
                  Configuration: ESC_ENV, ESC_TOKEN (or PULUMI_ACCESS_TOKEN), ESC_API_URL, ESC_ORG;\n\
                  GITHUB_TOKEN (or GH_TOKEN), GITHUB_API_URL; FLY_API_TOKEN, FLY_API_URL. NO_COLOR is honoured."
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

    /// Log in to Pulumi Cloud with an OIDC ID token (GitHub Actions) and export ESC_TOKEN.
    #[command(after_help = "Examples:\n  \
        escort login --oidc-organization acme            # in a job with `permissions: id-token: write`\n  \
        escort login --oidc-organization acme --oidc-token token.jwt --format shell\n\n\
        The ID token's audience is urn:pulumi:org:ORG. In a GitHub job (--format github) the\n\
        access token is masked and written to $GITHUB_ENV as ESC_TOKEN for later steps.")]
    Login(crate::cmd::login::LoginArgs),

    /// Copy secrets from a source (ESC, a .env file, the environment) to GitHub secrets.
    #[command(after_help = "Examples:\n  \
        escort sync --from esc:acme/app/prod --to github:acme/app --dry-run\n  \
        escort sync --from dotenv:.env.secure --to github:acme/app@production --prune --yes\n  \
        escort sync --from esc --to github-org:acme --visibility selected --repos api,web\n  \
        escort sync --from env --keys NPM_TOKEN --to github:acme/app --app dependabot\n\n\
        Token: GITHUB_TOKEN (or GH_TOKEN); GitHub Enterprise Server: GITHUB_API_URL=https://HOST/api/v3.\n\
        Exit 4 when some secrets were written and some not (each is named).")]
    Sync(crate::cmd::sync::SyncArgs),

    /// List a target's secrets: names, dates, visibility. Never a value.
    #[command(after_help = "Examples:\n  \
        escort ls github:acme/app\n  \
        escort ls github-org:acme --app dependabot --format json\n  \
        escort ls github-user")]
    Ls(crate::cmd::ls::LsArgs),

    /// Write one secret; the value comes from stdin or a prompt that does not echo.
    #[command(after_help = "Examples:\n  \
        escort set github:acme/app OPENAI_API_KEY          # prompts, typing hidden\n  \
        escort set github:acme/app@prod TLS_KEY < key.pem\n  \
        printf %s \"$VALUE\" | escort set github-org:acme NPM_TOKEN --visibility private\n\n\
        A value from stdin is taken exactly, trailing newline included.")]
    Set(crate::cmd::set::SetArgs),

    /// Delete secrets from a target, after a confirmation (--yes in scripts).
    #[command(after_help = "Examples:\n  \
        escort rm github:acme/app OLD_TOKEN LEGACY_KEY\n  \
        escort rm github-org:acme --app codespaces --all --yes")]
    Rm(crate::cmd::rm::RmArgs),

    /// The smoke check: is every secret of the manifest present and valid, and where from?
    #[command(after_help = "Examples:\n  \
        escort check                                   # escort.toml, its `sources`\n  \
        escort check --sources env,dotenv:.env         # without ESC\n  \
        escort check --manifest ci/escort.toml --strict --format json\n  \
        escort check --env-file .env.local             # one more .env, after the others\n\n\
        Exit 0 all good, 1 a required secret is missing or invalid or a one_of is unsatisfied,\n\
        2 a bad manifest, flag or .env line, 3 (with --strict) a source could not be read.\n\
        Values are never shown: at most *** and the last 4 characters of a secret of 20 or more.")]
    Check(crate::cmd::check::CheckArgs),

    /// Write a .env.example from the manifest: groups, descriptions, placeholders, defaults.
    #[command(after_help = "Examples:\n  \
        escort template > .env.example\n  \
        escort template --manifest ci/escort.toml --output .env.example\n\n\
        No source is read: the file never holds a real value.")]
    Template(crate::cmd::template::TemplateArgs),

    /// How old each manifest secret is in each target, against its group's rotate_days.
    #[command(after_help = "Examples:\n  \
        escort rotation --target github:acme/app\n  \
        escort rotation --target github:acme/app --target github-org:acme --format json\n  \
        escort rotation --manifest ci/escort.toml --target github:acme/app@prod --due-soon 30\n\n\
        Statuses: overdue, due soon (within --due-soon days), ok, unknown (no date from the\n\
        target), absent (not in the target), no policy (its group has no rotate_days).\n\
        Exit 0 nothing overdue, 1 something overdue, 2 a bad flag, manifest or target,\n\
        3 a target could not be read (the others are still reported).\n\
        ESCORT_NOW=2026-01-01T00:00:00Z reports as of that instant (reproducible reports).")]
    Rotation(crate::cmd::rotation::RotationArgs),

    /// Start a project: escort.toml, .env.example, CI workflow, devcontainer, .gitignore.
    #[command(after_help = "Examples:\n  \
        escort init\n  \
        escort init --dir services/api\n  \
        escort init --force            # overwrite escort.toml, .env.example and the workflow\n\n\
        Existing files are never overwritten without --force (exit 2, nothing written).\n\
        An existing .devcontainer/devcontainer.json is never rewritten: the line to add is\n\
        printed. Missing .gitignore entries are appended.")]
    Init(crate::cmd::init::InitArgs),
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

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where `load` and `login` put what they export.
#[derive(Args, Debug)]
pub struct OutputArgs {
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
