//! A .env file as a source, read by `crate::dotenv` (the process
//! environment is never changed).

use super::{BoxFuture, Source};
use crate::dotenv;
use crate::vars::Var;
use anyhow::Result;
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

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            Ok(dotenv::read(&self.path)?.into_iter().map(|(name, value)| Var::secret(name, value)).collect())
        })
    }
}
