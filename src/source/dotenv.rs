//! A .env file as a source, read by `crate::dotenv` (the process
//! environment is never changed).

use super::common::{Changed, Source};
use crate::dotenv;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::PathBuf;

pub struct DotenvSource {
    path: PathBuf,
}

impl DotenvSource {
    pub fn new(path: PathBuf) -> Self {
        DotenvSource { path }
    }
}

impl Source for DotenvSource {
    fn name(&self) -> String {
        format!("dotenv:{}", self.path.display())
    }

    fn knows_secrecy(&self) -> bool {
        false
    }

    /// The file's modification time, for every key: a file has no finer dates.
    fn changed_at<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Changed>>> {
        Box::pin(async move {
            let modified = std::fs::metadata(&self.path)
                .and_then(|m| m.modified())
                .with_context(|| format!("could not read the date of {}", self.path.display()))?;
            let seconds = modified.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let at = crate::time::Timestamp::from_unix(i64::try_from(seconds).unwrap_or(i64::MAX)).rfc3339();
            Ok(names.iter().map(|n| (n.clone(), Changed::At(at.clone()))).collect())
        })
    }

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            Ok(dotenv::read(&self.path)?.into_iter().map(|(name, value)| Var::secret(name, value)).collect())
        })
    }
}
