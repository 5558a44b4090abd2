//! The `verdict` binary: `serve` runs the server; `admin` manages users, keys,
//! tenants and CI servers in the same database; `push`, `convert` and
//! `validate` are the client side; `bench` measures throughput;
//! `completions` prints shell completions (clap's generator).

mod admin;
mod bench;
mod cli;
mod push;
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            cli::Command::Serve(args) => serve::run(args).await,
            cli::Command::Admin(args) => admin::run(args).await,
            cli::Command::Bench(args) => bench::run(args).await,
            cli::Command::Push(args) => push::push(*args).await,
            cli::Command::Convert(args) => push::convert(args),
            cli::Command::Validate(args) => push::validate(args),
            cli::Command::Completions(args) => {
                let mut command = <cli::Cli as clap::CommandFactory>::command();
                clap_complete::generate(
                    args.shell,
                    &mut command,
                    "verdict",
                    &mut std::io::stdout().lock(),
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VERDICT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colour only on a terminal, and never with NO_COLOR (https://no-color.org):
    // a log written to a file must not carry escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
