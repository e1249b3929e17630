//! A builder for the common shape of a test: escort with a clean environment,
//! pointed at some fakes, in a scratch directory, with arguments.
//!
//! ```ignore
//! let out = Run::new().esc(&fake).args(["load", "--env", "app/dev"]).output();
//! ```

use super::{Fake, escort_std};
use std::process::{Command, Output, Stdio};

pub struct Run {
    cmd: Command,
    dir: tempfile::TempDir,
}

impl Default for Run {
    fn default() -> Self {
        Run::new()
    }
}

impl Run {
    /// escort in a new empty directory, with none of the caller's configuration.
    pub fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = escort_std();
        cmd.current_dir(dir.path()).env("ESCORT_MAX_RETRY_WAIT", "5");
        Run { cmd, dir }
    }

    /// Write `text` to `name` in the scratch directory.
    pub fn file(self, name: &str, text: &str) -> Run {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(name, value);
        self
    }

    /// Point escort at the fake ESC, with its `token`.
    pub fn esc(self, fake: &Fake, token: &str) -> Run {
        self.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", token)
    }

    /// Point escort at the fake GitHub, with its `token`.
    pub fn github(self, fake: &Fake, token: &str) -> Run {
        self.env("GITHUB_API_URL", &fake.url).env("GITHUB_TOKEN", token)
    }

    pub fn args<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Run it, capturing its output.
    pub fn output(mut self) -> Output {
        self.cmd.stdin(Stdio::null()).output().unwrap()
    }

    /// Run it with stdout a pipe whose reader has already gone
    /// (`escort ... | head -0`); only stderr is captured.
    pub fn output_to_closed_pipe(mut self) -> Output {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        self.cmd.stdin(Stdio::null()).stdout(writer).stderr(Stdio::piped()).output().unwrap()
    }
}
