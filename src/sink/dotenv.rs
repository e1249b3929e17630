//! `load --format dotenv`: the variables as `NAME='value'` lines, quoted by
//! `crate::dotenv` so that dotenvy and python-dotenv read them back exactly.

use super::render::Render;
use crate::dotenv;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

pub struct Dotenv;

impl Render for Dotenv {
    fn render(&self, vars: &[Var]) -> Result<Wiped<String>> {
        Ok(dotenv::render(vars.iter().map(|v| (v.name.as_str(), &v.value)), |name| dotenv::warn_odd(name, None)))
    }
}
