//! `mxtls completions SHELL` and `mxtls man`: shell completion scripts
//! and the man page, generated from the clap definition (`cli.rs`), so
//! that they can never disagree with `--help`.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "mxtls", out);
}

/// Writes the man page (roff, section 1) of mxtls and its commands.
/// Characters outside ASCII in the help texts (—, §, …) are written as
/// roff's `\[uXXXX]` escapes: troff reads its input as Latin-1.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let mut page = Vec::new();
    pages(&mut page)?;
    let text = String::from_utf8_lossy(&page);
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            escaped.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out.write_all(escaped.as_bytes())
}

fn pages(out: &mut dyn Write) -> std::io::Result<()> {
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    // Each command's options, as `mxtls check --help` shows them.
    for sub in command.get_subcommands().filter(|c| c.get_name() != "help") {
        // clap names are static; the page name lives as long as the run.
        let name: &'static str = Box::leak(format!("mxtls-{}", sub.get_name()).into_boxed_str());
        let sub = sub.clone().name(name).bin_name(name);
        writeln!(out)?;
        clap_mangen::Man::new(sub).render(out)?;
    }
    Ok(())
}
