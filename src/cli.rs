//! Command-line arguments: the only module that knows clap. Specs (`esc:ENV`,
//! `github:O/R@ENV`, `--keys`) become typed values here, through their
//! `FromStr`, so a bad one is a usage error before anything else happens; the
//! commands in `cmd` get plain data.

use crate::esc::EnvRef;
use crate::keys::Selection;
use crate::source::SourceSpec;
use crate::targets::github::{App, Visibility};
use crate::targets::{self, TargetSpec};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "escort",
    // The package version, the commit and the target (build.rs).
    version = env!("ESCORT_VERSION_LINE"),
    about = "Get secrets from Pulumi ESC to where they are used, safely and fast.",
    after_help = "Exit codes: 0 ok, 1 check failed or a secret overdue, 2 usage or configuration error, \
                  3 a backend refused or could not be reached, 4 partial write, 5 a local file or\n\
                  directory could not be read or written, 70 internal error; `run`: the command's own.\n\
                  Configuration: ESC_ENV, ESC_TOKEN (or PULUMI_ACCESS_TOKEN, or pulumi login's), ESC_API_URL,\n\
                  ESC_ORG; GITHUB_TOKEN (or GH_TOKEN, or gh auth token), GITHUB_API_URL; FLY_API_TOKEN,\n\
                  FLY_API_URL. A github: target without OWNER/REPO is this checkout's. NO_COLOR is honoured."
)]
pub struct Cli {
    /// Print nothing but results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Show each request (method, host, path, status, attempt, wait) and each token's source, never a value.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// Append one JSON line per read and per write to this file (names, never values).
    #[arg(long, global = true, value_name = "PATH", env = "ESCORT_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open an ESC environment and export its variables (to a GitHub job, a shell, dotenv, docker or JSON).
    #[command(after_help = "Examples:\n  \
        eval \"$(ESC_ENV=acme/app/dev escort load)\"\n  \
        escort load --env acme/app/dev --format dotenv --output .env\n  \
        escort load --env app/prod --keys 'DATABASE_URL,API_KEY=OPENAI_API_KEY' --format json\n  \
        escort load --demo                    # the built-in demo environment, no account needed\n  \
        escort load --format docker --output app.env && docker run --env-file app.env IMAGE\n  \
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
    Login(LoginArgs),

    /// Copy secrets from a source (ESC, a .env file, the environment) to GitHub secrets.
    #[command(after_help = "Examples:\n  \
        escort sync --from esc:acme/app/prod --to github:acme/app --dry-run\n  \
        escort sync --from dotenv:.env.secure --to github:acme/app@production --prune --yes\n  \
        escort sync --from esc --to github-org:acme --visibility selected --repos api,web\n  \
        escort sync --from env --keys NPM_TOKEN --to github:acme/app --app dependabot\n\n\
        Token: GITHUB_TOKEN (or GH_TOKEN, or `gh auth token`); GitHub Enterprise Server: GITHUB_API_URL=https://HOST/api/v3.\n\
        Exit 4 when some secrets were written and some not (each is named).")]
    Sync(SyncArgs),

    /// Is every copy current? Each route's keys × targets: ok, stale, drifted, missing, extra, unknown.
    #[command(after_help = "Examples:\n  \
        escort status                          # every [sync.NAME] route of escort.toml\n  \
        escort status prod --format json\n\n\
        Exit 0 when nothing is stale, drifted or missing (nor extra on a route with prune = \"all\"),\n\
        1 otherwise, 3 when a source or target could not be read (it is named; the rest is reported).")]
    Status(StatusArgs),

    /// List a target's secrets: names, dates, visibility. Never a value.
    #[command(after_help = "Examples:\n  \
        escort ls github:acme/app\n  \
        escort ls github-org:acme --app dependabot --format json\n  \
        escort ls github-user")]
    Ls(LsArgs),

    /// Write one secret; the value comes from stdin or a prompt that does not echo.
    #[command(after_help = "Examples:\n  \
        escort set github:acme/app OPENAI_API_KEY          # prompts, typing hidden\n  \
        escort set github:acme/app@prod TLS_KEY < key.pem\n  \
        echo \"$VALUE\" | escort set github-org:acme NPM_TOKEN --visibility private\n  \
        escort set dotenv:.env TLS_KEY --raw < key.pem    # the file byte for byte\n\n\
        From stdin, one trailing newline (\\n or \\r\\n) is removed, as `gh secret set` and\n\
        `pulumi config set` do; --raw keeps the bytes exactly.")]
    Set(SetArgs),

    /// Delete secrets from a target, after a confirmation (--yes in scripts).
    #[command(after_help = "Examples:\n  \
        escort rm github:acme/app OLD_TOKEN LEGACY_KEY\n  \
        escort rm github-org:acme --app codespaces --all --yes")]
    Rm(RmArgs),

    /// The smoke check: is every secret of the manifest present and valid, and where from?
    #[command(after_help = "Examples:\n  \
        escort check                                   # escort.toml, its `sources`\n  \
        escort check --sources env,dotenv:.env         # without ESC\n  \
        escort check --manifest ci/escort.toml --strict --format json\n  \
        escort check --env-file .env.local             # one more .env, after the others\n  \
        escort check --demo                            # against the built-in demo environment\n\n\
        Exit 0 all good, 1 a required secret is missing or invalid or a one_of is unsatisfied,\n\
        2 a bad manifest, flag or .env line, 3 (with --strict) a source could not be read.\n\
        Values are never shown: at most *** and the last 4 characters of a secret of 20 or more.")]
    Check(CheckArgs),

    /// Write a .env.example from the manifest: groups, descriptions, placeholders, defaults.
    #[command(after_help = "Examples:\n  \
        escort template > .env.example\n  \
        escort template --manifest ci/escort.toml --output .env.example\n\n\
        No source is read: the file never holds a real value.")]
    Template(TemplateArgs),

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
    Rotation(RotationArgs),

    /// Start a project: escort.toml, .env.example, CI workflow, devcontainer, .gitignore.
    #[command(after_help = "Examples:\n  \
        escort init\n  \
        escort init --dir services/api\n  \
        escort init --diff             # how the files kept differ from what init writes\n\n\
        Writes only what is missing; a rerun writes nothing. escort.toml and .env.example are\n\
        never rewritten (an existing .env.example seeds a new escort.toml). --force replaces\n\
        only generated files nobody has edited. Missing .gitignore entries are appended.")]
    Init(InitArgs),

    /// Print one variable's value on stdout, for scripts.
    #[command(after_help = "Examples:\n  \
        escort get DATABASE_URL --env acme/app/dev\n  \
        escort get --demo LOG_LEVEL\n  \
        escort get OPENAI_API_KEY --from dotenv:.env --no-newline | pbcopy\n\n\
        The value and one newline (none with --no-newline). A secret is not printed to a\n\
        terminal without --show-secrets (pipe it, or redirect it to a file).\n\
        Exit 2 when the source has no variable NAME.")]
    Get(GetArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Examples:\n  \
        escort completions bash > ~/.local/share/bash-completion/completions/escort\n  \
        escort completions zsh > \"${fpath[1]}/_escort\"\n  \
        escort completions fish > ~/.config/fish/completions/escort.fish")]
    Completions(CompletionsArgs),

    /// Print the manual page (roff): `escort man | man -l -`.
    #[command(after_help = "Examples:\n  \
        escort man | man -l -\n  \
        escort man > ~/.local/share/man/man1/escort.1")]
    Man,
}

impl Command {
    /// `--concurrency`, for the commands that have it: the HTTP client's
    /// bound on requests in flight per API host.
    pub fn concurrency(&self) -> Option<usize> {
        let arg = match self {
            Command::Sync(a) => &a.concurrency,
            Command::Status(a) => &a.concurrency,
            Command::Ls(a) => &a.concurrency,
            Command::Rm(a) => &a.concurrency,
            Command::Rotation(a) => &a.concurrency,
            _ => return None,
        };
        Some(arg.concurrency.into())
    }
}

#[derive(Args, Debug)]
pub struct SourceArgs {
    /// ESC environment `[org/][project/]env[@version]` (default: $ESC_ENV).
    #[arg(long, value_name = "ENV")]
    pub env: Option<EnvRef>,

    /// Use the built-in demo environment instead of ESC (no account, no network).
    #[arg(long, conflicts_with = "env")]
    pub demo: bool,

    /// Which variables, and under which names: `NAME`, `TO=FROM`, `*`; comma- or newline-separated.
    /// `NAME?`: optional (a warning, not an error, when the source lacks it).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub keys: Selection,

    /// When ESC cannot be reached (no answer, 5xx): take the values from these
    /// instead, in order (`env` with --keys, `dotenv:PATH`), with a warning.
    #[arg(long, value_name = "SOURCE", num_args = 1.., value_delimiter = ',', conflicts_with = "demo",
          value_parser = crate::source::fallback::parse_spec)]
    pub fallback: Vec<SourceSpec>,
}

impl SourceArgs {
    /// `--demo`, else `--env`, else `ESC_ENV`.
    pub fn spec(&self) -> SourceSpec {
        match self.demo {
            true => SourceSpec::Demo,
            false => SourceSpec::Esc(self.env.clone()),
        }
    }
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Print secrets even when stdout is a terminal (as `get --show-secrets`).
    #[arg(long)]
    pub show_secrets: bool,
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
    // `NAME=value` lines, unquoted, for `docker run --env-file`.
    Docker,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mask {
    Secrets,
    All,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The Pulumi organization to log in to (the token's audience is `urn:pulumi:org:ORG`).
    #[arg(long, value_name = "ORG")]
    pub oidc_organization: String,

    /// Read the ID token from FILE (`-` for stdin) instead of asking the GitHub Actions runtime.
    #[arg(long, value_name = "FILE")]
    pub oidc_token: Option<String>,

    /// The kind of Pulumi token to ask for.
    #[arg(long, value_enum, default_value_t = TokenType::Organization)]
    pub oidc_requested_token_type: TokenType,

    /// Scope: empty or `admin` for organization tokens, `team:NAME`, `user:LOGIN`.
    #[arg(long, value_name = "SCOPE")]
    pub oidc_scope: Option<String>,

    /// Lifetime of the Pulumi token in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub oidc_expiration: Option<u64>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Organization,
    Team,
    Personal,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Organization => "organization",
            TokenType::Team => "team",
            TokenType::Personal => "personal",
        }
    }
}

/// How to print a report or a command's results.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

/// `--app`: which GitHub secrets.
#[derive(Args, Debug, Clone, Default)]
pub struct AppArg {
    /// GitHub: which secrets (default: actions; codespaces for github-user).
    #[arg(long, value_name = "APP", value_parser = PossibleValuesParser::new(App::NAMES).map(|s| s.parse::<App>().expect("a possible value")))]
    pub app: Option<App>,
}

/// `--concurrency`, for the commands that make many requests.
#[derive(Args, Debug, Clone)]
pub struct ConcurrencyArg {
    /// How many requests to have in flight at once, per API host (shared by
    /// every target on that host).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Who may read what is written: flags of the commands that write.
#[derive(Args, Debug, Clone, Default)]
pub struct AccessArgs {
    /// GitHub organization secrets: which repositories may read them. Default:
    /// `selected` with --repos; otherwise an existing secret keeps its
    /// visibility and a new one is `private`.
    #[arg(long, value_parser = PossibleValuesParser::new(Visibility::NAMES).map(|s| s.parse::<Visibility>().expect("a possible value")))]
    pub visibility: Option<Visibility>,

    /// GitHub organization or user secrets: the repositories that may read
    /// them (names in the organization; OWNER/REPO for github-user).
    #[arg(long, value_name = "REPO,...", value_delimiter = ',')]
    pub repos: Vec<String>,

    /// ESC environments: write these keys as plain values rather than
    /// `fn::secret` (plain config; secrets are the default from .env files,
    /// the environment and `set`).
    #[arg(long, value_name = "KEY,...", value_delimiter = ',')]
    pub plaintext: Vec<String>,

    /// The manifest whose groups order a .env file target, and whose `ledger` records what is
    /// written to GitHub or Fly.io secrets [default: escort.toml, if there is one].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
}

/// The target options of a command, from its flags.
pub fn target_options(
    app: &AppArg,
    concurrency: Option<&ConcurrencyArg>,
    access: Option<&AccessArgs>,
) -> targets::Options {
    let access = access.cloned().unwrap_or_default();
    targets::Options {
        app: app.app,
        concurrency: concurrency.map_or(1, |c| c.concurrency.into()),
        visibility: access.visibility,
        repos: access.repos,
        plaintext: access.plaintext,
        groups: Vec::new(),
    }
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The manifest's routes to run (default: all of them, when there is no --from/--to).
    #[arg(value_name = "ROUTE")]
    pub routes: Vec<String>,

    /// Where the values come from: esc[:ENV], dotenv:PATH or env (with --keys).
    #[arg(long, value_name = "SOURCE", requires = "to")]
    pub from: Option<SourceSpec>,

    #[arg(
        long,
        value_name = "TARGET",
        requires = "from",
        help = format!("Where they go: {}.", targets::forms()),
        long_help = format!("Where they go: {}", targets::long_help())
    )]
    pub to: Option<TargetSpec>,

    /// Write every copy, current or not (by default only missing, stale, drifted and unknown ones).
    #[arg(long)]
    pub force: bool,

    /// Then have what runs from each target load the new copies: Fly.io machines are updated
    /// (as a route's `deploy = true` does).
    #[arg(long)]
    pub deploy: bool,

    /// Which variables, and under which names: `NAME`, `TO=FROM`, `*`; comma- or newline-separated.
    /// `NAME?`: optional (a warning, not an error, when the source lacks it).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub keys: Selection,

    /// Print the plan (create / update / prune) and send nothing that writes.
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete the target's secrets that the source does not have (asks first).
    #[arg(long)]
    pub prune: bool,

    /// Do not ask before pruning (for scripts).
    #[arg(long, short)]
    pub yes: bool,

    /// With --to github-vars: or github-org-vars:, write values the source marks
    /// secret too (anyone who can read the repository can read a variable).
    #[arg(long)]
    pub allow_secret_variables: bool,

    #[command(flatten)]
    pub app: AppArg,

    #[command(flatten)]
    pub concurrency: ConcurrencyArg,

    #[command(flatten)]
    pub access: AccessArgs,

    /// How to print the plan and the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The routes to report (default: all).
    #[arg(value_name = "ROUTE")]
    pub routes: Vec<String>,

    /// The manifest [default: escort.toml, else .env.example, in the working directory].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    #[command(flatten)]
    pub concurrency: ConcurrencyArg,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    #[arg(value_name = "TARGET", help = targets::forms(), long_help = targets::long_help())]
    pub target: TargetSpec,

    #[command(flatten)]
    pub app: AppArg,

    #[command(flatten)]
    pub concurrency: ConcurrencyArg,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    #[arg(value_name = "TARGET", help = targets::forms(), long_help = targets::long_help())]
    pub target: TargetSpec,

    /// The secret's name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Keep the value from stdin byte for byte (by default one trailing newline is removed).
    #[arg(long)]
    pub raw: bool,

    /// Store an empty value when stdin is empty (refused by default: an unset variable piped in).
    #[arg(long)]
    pub allow_empty: bool,

    #[command(flatten)]
    pub app: AppArg,

    #[command(flatten)]
    pub access: AccessArgs,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(value_name = "TARGET", help = targets::forms(), long_help = targets::long_help())]
    pub target: TargetSpec,

    /// The secrets to delete.
    #[arg(value_name = "NAME", required_unless_present = "all", conflicts_with = "all")]
    pub names: Vec<String>,

    /// Delete every secret of the target.
    #[arg(long)]
    pub all: bool,

    /// The manifest whose `ledger` drops its records of the deleted copies [default: escort.toml, if there is one].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Do not ask first (for scripts).
    #[arg(long, short)]
    pub yes: bool,

    #[command(flatten)]
    pub app: AppArg,

    #[command(flatten)]
    pub concurrency: ConcurrencyArg,

    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The manifest [default: escort.toml, else .env.example, in the working directory].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Sources in precedence order, comma-separated: `esc`, `esc:ENV`, `env`, `dotenv:PATH`
    /// [default: the manifest's `sources`].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub sources: Option<Vec<SourceSpec>>,

    /// Also read this .env file, after the other sources (repeatable).
    #[arg(long = "env-file", value_name = "PATH")]
    pub env_files: Vec<PathBuf>,

    /// ESC environment for an `esc` source that names none [default: $ESC_ENV].
    #[arg(long, value_name = "ENV")]
    pub env: Option<EnvRef>,

    /// The built-in demo environment in place of an `esc` source that names none
    /// (first, when the sources have none).
    #[arg(long, conflicts_with = "env")]
    pub demo: bool,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Fail (exit 3) when a source cannot be read, instead of warning and going on.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// The manifest [default: escort.toml, else .env.example, in the working directory].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Write to PATH (atomically, mode 0600) instead of stdout.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RotationArgs {
    /// The manifest [default: escort.toml, else .env.example, in the working directory].
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Where to look (repeatable): github:OWNER/REPO[@ENVIRONMENT], github-org:ORG,
    /// github-user, and the other targets `escort ls` takes [default: the manifest's
    /// routes, each secret dated at its source].
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<TargetSpec>,

    #[command(flatten)]
    pub app: AppArg,

    #[command(flatten)]
    pub concurrency: ConcurrencyArg,

    /// A secret due within DAYS is reported as due soon.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub due_soon: u32,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Replace the workflows and devcontainer init wrote before, unless edited since.
    #[arg(long)]
    pub force: bool,

    /// Print how each kept file differs from what init would write.
    #[arg(long)]
    pub diff: bool,

    /// The project's root directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// The variable's name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// ESC environment `[org/][project/]env[@version]` (default: $ESC_ENV).
    #[arg(long, value_name = "ENV", conflicts_with_all = ["demo", "from"])]
    pub env: Option<EnvRef>,

    /// Use the built-in demo environment instead of ESC.
    #[arg(long, conflicts_with = "from")]
    pub demo: bool,

    /// Another source: esc[:ENV], env, dotenv:PATH or github-secrets.
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<SourceSpec>,

    /// Print the value without the newline after it.
    #[arg(long, visible_alias = "raw")]
    pub no_newline: bool,

    /// Print a secret even when stdout is a terminal.
    #[arg(long)]
    pub show_secrets: bool,
}

impl GetArgs {
    /// `--from`, else `--demo`, else `--env`, else `ESC_ENV`.
    pub fn spec(&self) -> SourceSpec {
        match (&self.from, self.demo) {
            (Some(spec), _) => spec.clone(),
            (None, true) => SourceSpec::Demo,
            (None, false) => SourceSpec::Esc(self.env.clone()),
        }
    }
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}
