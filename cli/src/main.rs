//! `tinybpf`: inspect, check, load and test-run BPF CO-RE objects.
//!
//! Exit codes: 0 success; 1 an error (message on stderr), or `check` found
//! unresolved relocations, or `load` could not attach a program; 2 a usage
//! error; 3 the kernel rejected a program at load.

mod btf;
mod btf_min;
mod check;
mod check_dir;
mod gen;
mod globals;
mod info;
mod iter;
mod load;
mod names;
mod open;
mod probe;
mod table;
mod test_run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// In the static musl build (`cargo build-cli-musl`), dlmalloc instead of
/// musl's own allocator: with musl's, the allocations of a load (parsing
/// the object and indexing the kernel's BTF) cost about as much as musl's
/// faster start-up saves (tools-tcptracer: 5.35 ms either way; 4.28 ms
/// with dlmalloc). The glibc build keeps glibc's allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Exit status of an error (message on stderr).
pub const EXIT_ERROR: u8 = 1;
// 2, a usage error, is clap's own exit status.
/// Exit status when the kernel (verifier) rejected a program.
pub const EXIT_REJECTED: u8 = 3;

/// Why a command failed, and the exit code to use.
#[derive(Debug)]
pub struct Fail {
    pub code: u8,
    pub msg: String,
}

impl Fail {
    /// Any other error (exit 1).
    pub fn error(msg: impl Into<String>) -> Fail {
        Fail {
            code: EXIT_ERROR,
            msg: msg.into(),
        }
    }
    /// Exit with `code` without printing anything more (already reported).
    pub fn quiet(code: u8) -> Fail {
        Fail {
            code,
            msg: String::new(),
        }
    }
}

impl From<tinybpf::Error> for Fail {
    fn from(e: tinybpf::Error) -> Fail {
        Fail::error(e.to_string())
    }
}

const LOGGING_AND_EXIT: &str = "\
Logging: RUST_LOG=debug (or trace, which shows every relocation; or a filter
such as RUST_LOG=tinybpf::load=debug) shows what the loader does, on stderr.

Exit status: 0 success; 1 an error (the message is on stderr), check found an
unresolved relocation, or load could not attach a program; 2 a usage error;
3 the kernel rejected a program at load (load, test-run).";

/// tinybpf: inspect, check, load and test-run BPF CO-RE objects (*.bpf.o)
#[derive(Debug, Parser)]
#[command(
    name = "tinybpf",
    version,
    arg_required_else_help = true,
    after_help = LOGGING_AND_EXIT,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Info(info::InfoArgs),
    Check(check::CheckArgs),
    Load(load::LoadArgs),
    TestRun(test_run::TestRunArgs),
    Probe(probe::ProbeArgs),
    Btf(btf::BtfArgs),
    Iter(iter::IterArgs),
    Gen(gen::GenArgs),
}

/// `RUST_LOG`-style logging on stderr; warnings by default.
fn init_log() {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
        .parse_env("RUST_LOG")
        .format_timestamp(None)
        .init();
}

/// The command line, parsed. clap's derive builds every subcommand's
/// arguments before it parses (~0.1 ms of each process here, as much as
/// parsing a small object): a command line that names a subcommand is
/// first parsed against that subcommand alone. Anything that is not a
/// successful parse there (help, version, a usage error, no subcommand)
/// goes through the whole [`Cli`], so what is printed is always the same.
fn parse_cli(args: Vec<std::ffi::OsString>) -> Cli {
    use clap::{Args, FromArgMatches};
    let name = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let sub = match name {
        "info" => Some(info::InfoArgs::augment_args(clap::Command::new("info"))),
        "check" => Some(check::CheckArgs::augment_args(clap::Command::new("check"))),
        "load" => Some(load::LoadArgs::augment_args(clap::Command::new("load"))),
        "test-run" => Some(test_run::TestRunArgs::augment_args(clap::Command::new(
            "test-run",
        ))),
        "probe" => Some(probe::ProbeArgs::augment_args(clap::Command::new("probe"))),
        "btf" => Some(btf::BtfArgs::augment_args(clap::Command::new("btf"))),
        "iter" => Some(iter::IterArgs::augment_args(clap::Command::new("iter"))),
        "gen" => Some(gen::GenArgs::augment_args(clap::Command::new("gen"))),
        _ => None,
    };
    let fast = sub.and_then(|sub| {
        let m = clap::Command::new("tinybpf")
            .subcommand(sub)
            .try_get_matches_from(&args)
            .ok()?;
        Command::from_arg_matches(&m).ok()
    });
    match fast {
        Some(command) => Cli { command },
        None => Cli::parse_from(args),
    }
}

fn main() -> ExitCode {
    init_log();
    // Usage errors exit 2 (clap's convention); --help and --version exit 0.
    let cli = parse_cli(std::env::args_os().collect());
    let result = match cli.command {
        Command::Info(a) => info::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Load(a) => load::run(&a),
        Command::TestRun(a) => test_run::run(&a),
        Command::Probe(a) => probe::run(&a),
        Command::Btf(a) => btf::run(&a),
        Command::Iter(a) => iter::run(&a),
        Command::Gen(a) => gen::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.msg.is_empty() {
                eprintln!("tinybpf: error: {}", f.msg);
            }
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn declarations_are_consistent() {
        Cli::command().debug_assert();
    }

    /// The one-subcommand parse gives what the whole command gives.
    #[test]
    fn fast_parse_matches_the_whole_command() {
        let lines: &[&[&str]] = &[
            &["info", "x.bpf.o"],
            &["check", "x.bpf.o", "--btf", "a", "--btf", "b"],
            &["load", "x.bpf.o", "--no-attach", "--duration", "0"],
            &[
                "load",
                "x.bpf.o",
                "--program",
                "p",
                "--jobs",
                "1",
                "--pin",
                "/sys/fs/bpf/x",
            ],
            &["test-run", "x.bpf.o", "prog"],
            &["probe"],
            &["btf", "dump", "/sys/kernel/btf/vmlinux"],
            &["iter", "x.bpf.o", "prog"],
            &["gen", "skeleton", "x.bpf.o"],
        ];
        let mut parsed = 0;
        for l in lines {
            let args: Vec<std::ffi::OsString> = std::iter::once("tinybpf")
                .chain(l.iter().copied())
                .map(Into::into)
                .collect();
            let Ok(whole) = Cli::try_parse_from(&args) else {
                continue;
            };
            parsed += 1;
            let fast = parse_cli(args);
            assert_eq!(format!("{fast:?}"), format!("{whole:?}"), "{l:?}");
        }
        assert_eq!(parsed, lines.len(), "every sample command line parses");
    }
}
