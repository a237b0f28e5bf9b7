//! The `mtdhost` binary: parse arguments, set up logging, run, map errors to
//! exit codes (0 success, 1 error or failed check, 64 bad usage — not 2,
//! which `plan --detailed-exitcode` reserves for "changes").

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = match mtdhost::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                // One line, not clap's multi-line block: scripts and people both read it.
                let text = e.kind().as_str().map(str::to_string).unwrap_or_default();
                let rendered = e.to_string();
                let first = rendered
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or(&text)
                    .trim_start_matches("error: ");
                eprintln!("mtdhost: {first} (see mtdhost --help)");
                // EX_USAGE: a typo in a pipeline must not read as "the plan has changes".
                std::process::exit(64);
            }
        },
    };
    init_logging(cli.verbose);
    match mtdhost::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        // The reader of our stdout went away (`| head`): it has what it wanted.
        Err(e) if mtdhost::cli::out::is_broken_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("mtdhost: {}", one_line(&e));
            std::process::exit(1);
        }
    }
}

/// The error and its causes on one line, without repeating a cause that the
/// message already quotes.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    mtdhost::sanitize::clean(&out.replace('\n', " "))
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colour codes only for a person at a terminal, and never with NO_COLOR
    // set (https://no-color.org: any non-empty value).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}
