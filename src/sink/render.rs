//! What every text format of `load` implements.

use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

/// A text format: the whole export as one document.
pub trait Render {
    /// Refuse, before anything is written (ESC files included), the values
    /// this format cannot carry.
    fn refuse(&self, _vars: &[Var]) -> Result<()> {
        Ok(())
    }
    fn render(&self, vars: &[Var]) -> Result<Wiped<String>>;
}
