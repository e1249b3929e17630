//! `escort template`: the manifest's `.env.example` (`crate::example`), on
//! stdout or in a file. No source is read.

use crate::cli::TemplateArgs;
use crate::error::ExitStatus;
use crate::{example, files, manifest, output, ui};
use anyhow::Result;

pub fn template(args: TemplateArgs) -> Result<ExitStatus> {
    let path = manifest::locate(args.manifest)?;
    let manifest = manifest::load(&path)?;
    let text = example::render(&manifest);
    match &args.output {
        Some(out) => {
            let (n, shown) = (manifest.secrets.len(), out.display());
            match files::write_atomic(out, text.as_bytes())? {
                true => ui::note(&format!("wrote {n} variables to {shown}")),
                false => ui::note(&format!("{shown} already holds these {n} variables: not rewritten")),
            }
        }
        None => output::write(text.as_bytes())?,
    }
    Ok(ExitStatus::Success)
}
