//! `load --format dotenv`: the variables as `NAME='value'` lines, quoted by
//! `crate::dotenv` so that dotenvy and python-dotenv read them back exactly.

use super::Render;
use crate::dotenv;
use crate::vars::Var;
use anyhow::Result;
use zeroize::Zeroizing;

pub struct Dotenv;

impl Render for Dotenv {
    fn render(&self, vars: &[Var]) -> Result<Zeroizing<String>> {
        Ok(dotenv::render(vars.iter().map(|v| (v.name.as_str(), &v.value)), |name| dotenv::warn_odd(name, None)))
    }
}
