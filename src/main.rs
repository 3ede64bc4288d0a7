use std::process::ExitCode;

use mxtls::cli::{Cli, Command};

/// A batch's scans run on every thread of the runtime and free on one
/// thread what another allocated; mimalloc's per-thread free lists cost
/// less CPU there than glibc's arenas (README, after "Bounds"). Built
/// without transparent huge pages (Cargo.toml), which would inflate RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: not errors, on stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One error style: `mxtls: …`, as every other diagnostic.
            let text = e.render().to_string();
            eprint!(
                "{}",
                text.strip_prefix("error: ")
                    .map_or(text.clone(), |rest| format!("mxtls: {rest}"))
            );
            if let Some(hint) = mxtls::cli::subcommand_hint(&e, std::env::args().skip(1)) {
                eprintln!("{hint}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // Explaining a code, the history and the generated docs need no runtime.
    match &cli.command {
        Command::Explain(args) => return ExitCode::from(mxtls::explain::command(args)),
        Command::History(args) => return ExitCode::from(mxtls::history::command::history(args)),
        Command::Diff(args) => return ExitCode::from(mxtls::history::command::diff(args)),
        Command::Completions { shell } => {
            mxtls::cli_docs::completions(*shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            return match mxtls::cli_docs::man(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mxtls: cannot write the man page: {e}");
                    ExitCode::from(mxtls::run::exit::OPERATIONAL)
                }
            };
        }
        Command::Check(args) if args.debug => mxtls::run::init_debug_log(),
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
        Command::Completions { .. } | Command::Man => exit_for_docs(),
    };
    ExitCode::from(code)
}

/// The generated docs were written before the runtime started.
fn exit_for_docs() -> u8 {
    mxtls::run::exit::PASSED
}
