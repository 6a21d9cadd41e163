//! `tinybpf iter`: load one iterator program, run one pass, print its output.

use crate::open::{load_one, report_kept, LoadOpts};
use crate::Fail;
use std::io::Write;
use std::path::PathBuf;
use tinybpf::IterOpts;

/// Run a BPF iterator (SEC("iter/...")) once and print what it writes
///
/// Loads only PROGRAM (and the maps of OBJ), attaches it as an iterator
/// (BPF_LINK_CREATE), runs one pass (BPF_ITER_CREATE) and copies the
/// program's seq_file output to stdout as is. --tid/--pid narrow a task
/// iterator to one thread or one process. With --pin the iterator link is
/// also pinned at PATH (on bpffs), where every `cat PATH` runs a new pass,
/// after this command has exited too (rm PATH removes it).
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Needs root. Exit status: 0 ran; 1 any error (not an iterator, a kernel
without this iterator kind, ...); 2 usage error; 3 the kernel rejected the
program."
)]
pub struct IterArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
    /// The iterator program (its function name)
    pub program: String,
    #[command(flatten)]
    pub load: LoadOpts,
    /// Task iterators: only this thread
    #[arg(long, value_name = "TID", conflicts_with = "pid")]
    pub tid: Option<u32>,
    /// Task iterators: only the threads of this process
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Also pin the iterator link at PATH (on bpffs); it stays after exit
    #[arg(long, value_name = "PATH")]
    pub pin: Option<PathBuf>,
}

pub fn run(a: &IterArgs) -> Result<(), Fail> {
    let path = a.obj.as_path();
    let prog = a.program.as_str();
    let (obj, pinned) = load_one(path, &a.load, prog)?;
    let in_file = |e: tinybpf::Error| Fail::error(format!("{}: {e}", path.display()));
    let p = obj
        .program(prog)
        .ok_or_else(|| Fail::error(format!("{}: program {prog} was not loaded", path.display())))?;
    let opts = match (a.tid, a.pid) {
        (Some(t), _) => IterOpts::Thread(t),
        (None, Some(p)) => IterOpts::Process(p),
        (None, None) => IterOpts::All,
    };
    let link = p.attach_iter(&opts).map_err(in_file)?;
    if let Some(pin) = &a.pin {
        if let Some(dir) = pin.parent().filter(|d| !d.as_os_str().is_empty()) {
            tinybpf::kernel::ensure_bpffs(dir)
                .map_err(|e| Fail::error(format!("--pin {}: {e}", pin.display())))?;
        }
        link.pin(pin).map_err(in_file)?;
    }
    let out = link.iter_read().map_err(in_file)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .map_err(|e| Fail::error(format!("stdout: {e}")))?;
    drop(stdout);
    if let Some(pin) = &a.pin {
        eprintln!(
            "iterator pinned at {} (read it with cat; remove with rm)",
            pin.display()
        );
    }
    drop(link);
    drop(obj);
    report_kept(&pinned);
    Ok(())
}
