use std::process::ExitCode;

use clap::Parser;
use mxtls::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Explaining a code needs no runtime: it reads the catalogue.
    if let Command::Explain(args) = &cli.command {
        return ExitCode::from(mxtls::explain::command(args));
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
    };
    ExitCode::from(code)
}
