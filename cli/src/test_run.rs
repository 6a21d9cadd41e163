//! `tinybpf test-run`: load one program and run it with BPF_PROG_TEST_RUN.

use crate::names;
use crate::open::{load_one, parse_num, report_kept, LoadOpts};
use crate::Fail;
use std::path::PathBuf;
use tinybpf::TestRunOpts;

/// The largest `--data-size` accepted.
const MAX_DATA: u64 = 1 << 24;

fn parse_size(s: &str) -> Result<usize, String> {
    let n = parse_num(s)?;
    if n > MAX_DATA {
        return Err(format!("{n} bytes: at most 16 MiB ({MAX_DATA})"));
    }
    Ok(n as usize)
}

fn parse_repeat(s: &str) -> Result<u32, String> {
    let n = parse_num(s)?;
    u32::try_from(n).map_err(|_| format!("{n} is more than {}", u32::MAX))
}

/// Load one program and run it with BPF_PROG_TEST_RUN
///
/// Loads only PROGRAM (and the maps of OBJ), runs it on --data-size zero
/// bytes (--repeat times) and prints the program's return value and the
/// average run time per repetition as measured by the kernel. Not every
/// program type can be test-run (tracepoints and kprobes cannot, for
/// example): the kernel's refusal is reported as such.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Needs root. Exit status: 0 ran; 1 any error (including program types the
kernel cannot test-run); 2 usage error; 3 the kernel rejected the program."
)]
pub struct TestRunArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
    /// The program to run (its function name)
    pub program: String,
    #[command(flatten)]
    pub load: LoadOpts,
    /// Bytes of (zeroed) input data, decimal or 0x hex; XDP and skb programs
    /// need at least 14 (an Ethernet header)
    #[arg(long, verbatim_doc_comment, value_name = "N", allow_hyphen_values = true, default_value = "64", value_parser = parse_size)]
    pub data_size: usize,
    /// Run N times; the duration printed is the average
    #[arg(long, verbatim_doc_comment, value_name = "N", allow_hyphen_values = true, default_value = "1", value_parser = parse_repeat)]
    pub repeat: u32,
}

pub fn run(a: &TestRunArgs) -> Result<(), Fail> {
    let path = a.obj.as_path();
    let prog = a.program.as_str();
    let (obj, pinned) = load_one(path, &a.load, prog)?;
    let in_file = |e: tinybpf::Error| Fail::error(format!("{}: {e}", path.display()));
    let p = obj
        .program(prog)
        .ok_or_else(|| Fail::error(format!("{}: program {prog} was not loaded", path.display())))?;
    let data = vec![0u8; a.data_size];
    let r = p
        .test_run(&TestRunOpts::default().data_in(&data).repeat(a.repeat))
        .map_err(in_file)?;
    println!(
        "program: {} ({}, id {})",
        p.name(),
        names::prog_type(p.prog_type()),
        p.id().map_err(in_file)?
    );
    println!("retval: {}", r.retval);
    println!("duration: {} ns", r.duration_ns);
    drop(obj);
    report_kept(&pinned);
    Ok(())
}
