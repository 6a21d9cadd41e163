//! `tinybpf`: inspect, check, load and test-run BPF CO-RE objects.
//!
//! Exit codes: 0 success; 1 an error (message on stderr), or `check` found
//! unresolved relocations; 2 a usage error, or the verifier rejected a program.

#[path = "tinybpf/args.rs"]
mod args;
#[path = "tinybpf/check.rs"]
mod check;
#[path = "tinybpf/globals.rs"]
mod globals;
#[path = "tinybpf/info.rs"]
mod info;
#[path = "tinybpf/load.rs"]
mod load;
#[path = "tinybpf/names.rs"]
mod names;
#[path = "tinybpf/table.rs"]
mod table;

use std::process::ExitCode;

/// Why a command failed, and the exit code to use.
#[derive(Debug)]
pub struct Fail {
    pub code: u8,
    pub msg: String,
    /// For usage errors: the subcommand whose `--help` to point at.
    pub usage: Option<String>,
}

impl Fail {
    pub fn usage(cmd: &str, msg: impl Into<String>) -> Fail {
        Fail {
            code: 2,
            msg: msg.into(),
            usage: Some(cmd.to_string()),
        }
    }
    pub fn error(msg: impl Into<String>) -> Fail {
        Fail {
            code: 1,
            msg: msg.into(),
            usage: None,
        }
    }
    /// Exit with `code` without printing anything more (already reported).
    pub fn quiet(code: u8) -> Fail {
        Fail {
            code,
            msg: String::new(),
            usage: None,
        }
    }
}

impl From<tinybpf::Error> for Fail {
    fn from(e: tinybpf::Error) -> Fail {
        Fail::error(e.to_string())
    }
}

pub const MAIN_HELP: &str = "\
tinybpf: inspect, check, load and test-run BPF CO-RE objects (*.bpf.o)

Usage: tinybpf <COMMAND> [ARGS]...

Commands:
  info       List programs, maps, globals, externs and relocations (no root)
  check      Resolve CO-RE relocations against kernel BTF without loading (no root)
  load       Load (and attach) programs, hold until Ctrl-C or --duration, tear down
  test-run   Load one program and run it with BPF_PROG_TEST_RUN
  help       Show this help, or a command's: tinybpf help <COMMAND>

Options:
  -h, --help     Show help (also after a command: tinybpf load --help)
  -V, --version  Show the version

Logging: set TINYBPF_LOG=debug (or trace) to see what the loader does.
Exit status: 0 success; 1 error; 2 usage error or verifier rejection.
";

fn help_of(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "info" => info::HELP,
        "check" => check::HELP,
        "load" => load::LOAD_HELP,
        "test-run" => load::TEST_RUN_HELP,
        _ => return None,
    })
}

fn run(argv: &[String]) -> Result<(), Fail> {
    let Some(cmd) = argv.first() else {
        eprint!("{MAIN_HELP}");
        return Err(Fail::quiet(2));
    };
    let rest = &argv[1..];
    match cmd.as_str() {
        "-h" | "--help" => {
            print!("{MAIN_HELP}");
            Ok(())
        }
        "help" => match rest.first() {
            None => {
                print!("{MAIN_HELP}");
                Ok(())
            }
            Some(c) => match help_of(c) {
                Some(h) => {
                    print!("{h}");
                    Ok(())
                }
                None => Err(Fail::usage("", format!("no command named {c:?}"))),
            },
        },
        "-V" | "--version" => {
            println!("tinybpf {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "info" => info::run(rest),
        "check" => check::run(rest),
        "load" => load::run_load(rest),
        "test-run" => load::run_test_run(rest),
        other => Err(Fail::usage("", format!("unknown command {other:?}"))),
    }
}

/// Print a command's help when asked; true if printed.
pub fn print_help_if(cmd: &str, a: &args::Args) -> bool {
    if a.help {
        if let Some(h) = help_of(cmd) {
            print!("{h}");
        }
    }
    a.help
}

/// A minimal `log` backend on stderr, level from `TINYBPF_LOG`.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("[{:5} {}] {}", r.level(), r.target(), r.args());
        }
    }
    fn flush(&self) {}
}

fn init_log() {
    let level = match std::env::var("TINYBPF_LOG").as_deref() {
        Ok("trace") => log::LevelFilter::Trace,
        Ok("debug") => log::LevelFilter::Debug,
        Ok("info") => log::LevelFilter::Info,
        Ok("error") => log::LevelFilter::Error,
        Ok("off") => log::LevelFilter::Off,
        _ => log::LevelFilter::Warn,
    };
    static LOGGER: StderrLog = StderrLog;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

fn main() -> ExitCode {
    init_log();
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.msg.is_empty() {
                match &f.usage {
                    Some(c) if c.is_empty() => {
                        eprintln!("tinybpf: {}\nTry 'tinybpf --help'.", f.msg)
                    }
                    Some(c) => eprintln!("tinybpf {c}: {}\nTry 'tinybpf {c} --help'.", f.msg),
                    None => eprintln!("tinybpf: error: {}", f.msg),
                }
            }
            ExitCode::from(f.code)
        }
    }
}
