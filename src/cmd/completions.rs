//! `escort completions SHELL` and `escort man`: made from the command-line
//! definition in `cli.rs`, so they list every subcommand and flag there is.

use crate::cli::{Cli, CompletionsArgs};
use crate::error::ExitStatus;
use crate::output;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::Write;

pub fn completions(args: CompletionsArgs) -> Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "escort", &mut script);
    output::write(&script)?;
    Ok(ExitStatus::Success)
}

/// One page for the whole tool (`man escort` is where people look): the top
/// level, then a section per subcommand with its synopsis, options and
/// examples as subsections.
pub fn man() -> Result<ExitStatus> {
    let mut cmd = Cli::command();
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone()).title("ESCORT");
    let mut page = Vec::new();
    let rendered: std::io::Result<()> = (|| {
        top.render_title(&mut page)?;
        top.render_name_section(&mut page)?;
        top.render_synopsis_section(&mut page)?;
        top.render_description_section(&mut page)?;
        top.render_options_section(&mut page)?;
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            writeln!(page, ".SH \"ESCORT {}\"", sub.get_name().to_uppercase())?;
            let man = clap_mangen::Man::new(sub.clone());
            let mut part = Vec::new();
            man.render_description_section(&mut part)?;
            man.render_synopsis_section(&mut part)?;
            man.render_options_section(&mut part)?;
            man.render_extra_section(&mut part)?;
            page.extend(subsections(&part).bytes());
        }
        top.render_extra_section(&mut page)?;
        top.render_version_section(&mut page)
    })();
    rendered.context("could not render the manual page")?;
    output::write(&page)?;
    Ok(ExitStatus::Success)
}

/// A subcommand's sections become subsections of its own section.
fn subsections(roff: &[u8]) -> String {
    String::from_utf8_lossy(roff)
        .lines()
        .map(|l| match l.strip_prefix(".SH ") {
            Some(heading) => format!(".SS {heading}\n"),
            None => format!("{l}\n"),
        })
        .collect()
}
