//! A .env file as a source, read by `crate::dotenv` (the process
//! environment is never changed).

use super::{BoxFuture, Source};
use crate::secret;
use crate::vars::Var;
use crate::{dotenv, error};
use anyhow::Result;
use std::path::PathBuf;

pub struct DotenvSource {
    path: PathBuf,
}

impl DotenvSource {
    pub fn new(path: &str) -> Result<Self> {
        if path.trim().is_empty() {
            return Err(error::usage("a dotenv source needs a path: dotenv:PATH"));
        }
        Ok(DotenvSource { path: PathBuf::from(path) })
    }
}

impl Source for DotenvSource {
    fn name(&self) -> String {
        format!("dotenv:{}", self.path.display())
    }

    fn knows_secrecy(&self) -> bool {
        false
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let vars = dotenv::read(&self.path)?
                .into_iter()
                .map(|(name, value)| {
                    secret::register(&value);
                    Var::secret(name, value)
                })
                .collect();
            Ok(vars)
        })
    }
}
