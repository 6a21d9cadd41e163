//! `tinybpf btf dump FILE`: print BTF as a C header (`vmlinux.h`) or as a
//! one-line-per-type listing.

use crate::Fail;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tinybpf::btf::Btf;

/// Inspect BTF: dump (vmlinux.h) and min (the minimal BTF for some objects)
#[derive(Debug, clap::Args)]
pub struct BtfArgs {
    #[command(subcommand)]
    pub command: BtfCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BtfCommand {
    Dump(DumpArgs),
    Min(crate::btf_min::MinArgs),
}

/// Output format of `btf dump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A C header like `bpftool btf dump file FILE format c` (vmlinux.h)
    C,
    /// One line per type: `[ID] KIND 'NAME' ...` (no member lines)
    Raw,
}

/// Print the types of a BTF file
///
/// FILE is raw BTF (/sys/kernel/btf/vmlinux, /sys/kernel/btf/MODULE with
/// --base) or an ELF object with a .BTF section. `--format c` writes a C
/// header with every type in dependency order, forward declarations where
/// needed, bitfields, padding and packed attributes that reproduce the
/// layout, wrapped in `#ifndef __VMLINUX_H__` and the preserve_access_index
/// pragma, the same header bpftool writes:
///
///   tinybpf btf dump /sys/kernel/btf/vmlinux --format c > vmlinux.h
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 success; 1 the file cannot be read or its BTF is malformed;
2 usage error."
)]
pub struct DumpArgs {
    /// BTF file: raw BTF or an ELF object with .BTF
    pub file: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "c")]
    pub format: Format,
    /// Base BTF of a split BTF FILE (a kernel module's: /sys/kernel/btf/vmlinux)
    #[arg(long, value_name = "FILE")]
    pub base: Option<PathBuf>,
}

fn read(path: &Path) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail::error(format!("{}: {e}", path.display())))
}

/// Open FILE (on top of --base if given).
pub fn open(file: &Path, base: Option<&Path>) -> Result<Btf, Fail> {
    let bytes = read(file)?;
    let bad = |p: &Path, e: tinybpf::btf::BtfError| Fail::error(format!("{}: {e}", p.display()));
    match base {
        None => Btf::from_bytes_auto(bytes).map_err(|e| bad(file, e)),
        Some(b) => {
            let base = Btf::from_bytes_auto(read(b)?).map_err(|e| bad(b, e))?;
            Btf::parse_split(Box::new(bytes), Arc::new(base)).map_err(|e| bad(file, e))
        }
    }
}

pub fn run(a: &BtfArgs) -> Result<(), Fail> {
    match &a.command {
        BtfCommand::Dump(d) => dump(d),
        BtfCommand::Min(m) => crate::btf_min::run(m),
    }
}

fn dump(a: &DumpArgs) -> Result<(), Fail> {
    let btf = open(&a.file, a.base.as_deref())?;
    let text = match a.format {
        Format::C => tinybpf::btf::dump::to_c_header(&btf)
            .map_err(|e| Fail::error(format!("{}: {e}", a.file.display())))?,
        Format::Raw => raw(&btf),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // `| head` closing the pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Fail::error(format!("writing the output: {e}"))),
    }
}

/// `[ID] KIND 'NAME' ...` per type, like the first line of each type in
/// `bpftool btf dump file FILE`.
fn raw(btf: &Btf) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for t in btf.iter() {
        let name = if t.name.is_empty() { "(anon)" } else { t.name };
        let kind = t.kind.as_str().to_uppercase();
        let _ = write!(s, "[{}] {kind} '{name}'", t.id);
        if let Some(size) = t.size() {
            let _ = write!(s, " size={size}");
        }
        if let Some(r) = t.ref_type() {
            let _ = write!(s, " type_id={r}");
        }
        if let Some(a) = t.array() {
            let _ = write!(
                s,
                " type_id={} index_type_id={} nr_elems={}",
                a.elem_type, a.index_type, a.nelems
            );
        }
        if t.vlen() > 0 {
            let _ = write!(s, " vlen={}", t.vlen());
        }
        s.push('\n');
    }
    s
}
