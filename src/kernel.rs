//! The running kernel, for tools: its BTF as a CO-RE target, the BPF objects
//! it holds, bpffs and CPUs.
//!
//! **Stability:** this module serves offline and diagnostic tools (`tinybpf
//! check`, tests, benchmarks); it may change between minor versions.
//!
//! - CO-RE targets: the running kernel's BTF ([`kernel_btf`]), its modules'
//!   BTF ([`module_btfs`]), BTF files standing in for it ([`read_btf_file`]).
//!   Build a target with [`CoreTarget::kernel`] or [`CoreTarget::file`], then
//!   relocate with [`crate::reloc::relocate_copy`]; what `.kconfig` externs
//!   would see is [`KernelFacts::running`].
//! - Kernel objects by id: [`prog_ids`], [`map_ids`], [`link_ids`],
//!   [`prog_info_by_id`], [`map_info_by_id`], and the info of an fd you hold
//!   ([`prog_info`], [`map_info`], e.g. from [`crate::Program::fd`]) or of a
//!   pinned object ([`open_pinned`]).
//! - bpffs: [`ensure_bpffs`], [`is_bpffs`]; CPUs: [`possible_cpus`],
//!   [`online_cpus`]; a CPU-clock perf event for `perf_event` programs:
//!   [`cpu_clock_event`].
//!
//! [`CoreTarget::kernel`]: crate::reloc::CoreTarget::kernel
//! [`CoreTarget::file`]: crate::reloc::CoreTarget::file
//! [`KernelFacts::running`]: crate::reloc::kconfig::KernelFacts::running

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};
use crate::sys;

pub use crate::load::target::{kernel_btf, module_btfs, read_btf_file};
pub use crate::sys::fs::{BpffsError, BPFFS_DEFAULT};
pub use crate::sys::info::{LinkInfo, MapInfo, ProgInfo};

fn ids(what: &str, next: fn(u32) -> sys::SysResult<Option<u32>>) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Some(n) = next(id).map_err(|e| Error::sys(what, e))? {
        ids.push(n);
        id = n;
    }
    Ok(ids)
}

/// Ids of every program loaded in the kernel (by anyone), ascending.
pub fn prog_ids() -> Result<Vec<u32>> {
    ids("program ids", sys::prog_get_next_id)
}

/// Ids of every map in the kernel (by anyone), ascending.
pub fn map_ids() -> Result<Vec<u32>> {
    ids("map ids", sys::map_get_next_id)
}

/// Ids of every link in the kernel (by anyone), ascending.
pub fn link_ids() -> Result<Vec<u32>> {
    ids("link ids", sys::link_get_next_id)
}

/// The kernel's description of the program behind `fd`.
pub fn prog_info(fd: BorrowedFd<'_>) -> Result<ProgInfo> {
    sys::prog_info(fd).map_err(|e| Error::sys("program info", e))
}

/// The kernel's description of the map behind `fd`.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfo> {
    sys::map_info(fd).map_err(|e| Error::sys("map info", e))
}

/// The program with kernel id `id` (an error once it is gone).
pub fn prog_info_by_id(id: u32) -> Result<ProgInfo> {
    let fd = sys::prog_get_fd_by_id(id).map_err(|e| Error::sys(format!("program {id}"), e))?;
    prog_info(fd.as_fd())
}

/// The map with kernel id `id` (an error once it is gone).
pub fn map_info_by_id(id: u32) -> Result<MapInfo> {
    let fd = sys::map_get_fd_by_id(id).map_err(|e| Error::sys(format!("map {id}"), e))?;
    map_info(fd.as_fd())
}

/// The raw BTF (as `/sys/kernel/btf/vmlinux` lays it out) of the BTF
/// object with kernel id `id`, e.g. [`ProgInfo::btf_id`] of a loaded
/// program: what the kernel kept of an object's (possibly sanitized) BTF.
pub fn btf_by_id(id: u32) -> Result<Vec<u8>> {
    let fd = sys::btf_get_fd_by_id(id).map_err(|e| Error::sys(format!("BTF {id}"), e))?;
    sys::btf_data(fd.as_fd()).map_err(|e| Error::sys(format!("BTF {id}"), e))
}

/// Upload raw BTF with `BPF_BTF_LOAD` (no log): whether this kernel accepts
/// `data`, e.g. the output of [`crate::btf::sanitize()`]. The fd keeps it loaded.
pub fn load_btf(data: &[u8]) -> Result<OwnedFd> {
    sys::btf_load(data, None)
        .map_err(|e| Error::sys("BTF load", sys::SysError::new("BPF_BTF_LOAD", e.errno)))
}

/// An fd for the object pinned at `path` on bpffs (`BPF_OBJ_GET`): pass it
/// to [`prog_info`] or [`map_info`], or to [`crate::Map::from_fd`].
pub fn open_pinned(path: impl AsRef<Path>) -> Result<OwnedFd> {
    let path = path.as_ref();
    sys::obj_get(path).map_err(|e| Error::sys(format!("pinned object {}", path.display()), e))
}

/// Make sure `dir` is a directory on a bpf filesystem, creating it as
/// needed; when it is not on bpffs but lies under [`BPFFS_DEFAULT`], bpffs is
/// mounted there first.
pub fn ensure_bpffs(dir: impl AsRef<Path>) -> std::result::Result<(), BpffsError> {
    sys::fs::bpffs_ensure(dir.as_ref())
}

/// Whether `path` (which must exist) is on a bpf filesystem.
pub fn is_bpffs(path: impl AsRef<Path>) -> Result<bool> {
    let path = path.as_ref();
    sys::statfs_magic(path)
        .map(|m| m == sys::BPF_FS_MAGIC)
        .map_err(|e| Error::sys(format!("statfs {}", path.display()), e))
}

/// The number of possible CPUs: the number of values a per-CPU map holds
/// per key.
pub fn possible_cpus() -> Result<u32> {
    sys::num_possible_cpus().map_err(|e| Error::sys("possible CPUs", e))
}

pub use crate::perfbuf::online_cpus;

/// A software CPU-clock perf event that samples every `period_ns`
/// nanoseconds of CPU time, for [`crate::Program::attach_perf_event`].
/// `pid` and `cpu` follow perf_event_open(2): `(0, -1)` is this process on
/// any CPU, `(-1, n)` every process on CPU `n` (needs CAP_PERFMON).
pub fn cpu_clock_event(pid: i32, cpu: i32, period_ns: u64) -> Result<OwnedFd> {
    let mut attr = sys::PerfEventAttr::bpf_output();
    attr.config = 0; // PERF_COUNT_SW_CPU_CLOCK
    attr.sample_type = 0;
    attr.sample_period = period_ns;
    sys::perf_event_open(&attr, pid, cpu, None, 0).map_err(|e| {
        Error::sys(
            format!("perf_event_open (CPU clock, pid {pid}, CPU {cpu})"),
            e,
        )
    })
}
