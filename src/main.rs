use std::process::ExitCode;

use clap::Parser;
use mxtls::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if let Some(hint) = mxtls::cli::subcommand_hint(&e, std::env::args().skip(1)) {
                eprintln!("{hint}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // Explaining a code needs no runtime: it reads the catalogue.
    match &cli.command {
        Command::Explain(args) => return ExitCode::from(mxtls::explain::command(args)),
        Command::History(args) => return ExitCode::from(mxtls::history::command::history(args)),
        Command::Diff(args) => return ExitCode::from(mxtls::history::command::diff(args)),
        Command::Check(_) => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mxtls: cannot start the async runtime: {e}");
            return ExitCode::from(mxtls::run::exit::OPERATIONAL);
        }
    };
    let code = match cli.command {
        Command::Check(args) => runtime.block_on(mxtls::run::check(*args)),
        Command::Explain(args) => mxtls::explain::command(&args),
        Command::History(args) => mxtls::history::command::history(&args),
        Command::Diff(args) => mxtls::history::command::diff(&args),
    };
    ExitCode::from(code)
}
