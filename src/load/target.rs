//! The kernel's BTF as a target: vmlinux (mmap'd, parsed once per process
//! and shared), kernel modules' BTF (found one way: the files under
//! `/sys/kernel/btf`), and the [`CoreTarget`] constructors that read them.
//! Also where BTF attach targets are looked up (vmlinux, then modules, with
//! the module BTF's fd for `attach_btf_obj_fd`).

use crate::btf::{Btf, Kind};
use crate::error::{Error, Result};
use crate::reloc::CoreTarget;
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where the running kernel publishes module BTF (one file per module).
const SYS_KERNEL_BTF: &str = "/sys/kernel/btf";

/// Read a BTF file: raw BTF, or an ELF file with a `.BTF` section (mmap'd
/// when possible: vmlinux BTF is 5 MB and needs no copy).
pub fn read_btf_file(path: &Path) -> Result<Btf> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let btf = match sys::Mmap::map_file_readonly(&file) {
        Ok(m) => Btf::from_shared_auto(Box::new(m)),
        Err(_) => Btf::from_bytes_auto(std::fs::read(path).map_err(io)?),
    };
    btf.map_err(|source| Error::Btf {
        what: path.display().to_string(),
        source,
    })
}

/// [`kernel_btf`]'s cache.
static KERNEL_BTF: Mutex<Option<Arc<Btf>>> = Mutex::new(None);

/// The running kernel's BTF: parsed once per process and shared.
pub fn kernel_btf() -> Result<Arc<Btf>> {
    let mut c = KERNEL_BTF.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = &*c {
        return Ok(b.clone());
    }
    let release = sys::uname_release();
    let mut tried = Vec::new();
    for p in crate::btf::kernel_btf_paths(&release) {
        if !p.exists() {
            tried.push(p.display().to_string());
            continue;
        }
        log::debug!("reading kernel BTF from {}", p.display());
        let b = Arc::new(read_btf_file(&p)?);
        *c = Some(b.clone());
        return Ok(b);
    }
    Err(crate::error::KernelBtfError::NotFound { tried }.into())
}

/// The running kernel's BTF read and indexed on another thread while the
/// loader does other work (BTF upload, maps: kernel time), so CO-RE finds
/// it ready. [`kernel_btf`]'s cache is the hand-over: a caller that comes
/// first parses it itself, one that comes during the parse waits for it.
/// Dropping it waits for the thread (nothing outlives the load).
pub(crate) struct KernelBtfPrefetch(Option<std::thread::JoinHandle<()>>);

impl KernelBtfPrefetch {
    /// Start reading the kernel's BTF (`None`: it is read already or being
    /// read, or the thread could not be made; the load reads or waits for
    /// it when needed, as before). Errors are left for that later read to
    /// report.
    pub(crate) fn start() -> Option<KernelBtfPrefetch> {
        // Already read (an earlier load in this process): nothing to do.
        // (Busy: another thread is reading it, this load will wait for it.)
        match KERNEL_BTF.try_lock() {
            Ok(c) if c.is_some() => return None,
            Err(std::sync::TryLockError::WouldBlock) => return None,
            _ => {}
        }
        let t = std::thread::Builder::new()
            .name("tinybpf-btf".into())
            .spawn(|| {
                if let Ok(b) = kernel_btf() {
                    b.prepare_type_index();
                }
            });
        match t {
            Ok(h) => {
                log::debug!("reading the kernel's BTF on a thread of its own");
                Some(KernelBtfPrefetch(Some(h)))
            }
            Err(e) => {
                log::debug!("kernel BTF prefetch thread: {e}");
                None
            }
        }
    }
}

impl Drop for KernelBtfPrefetch {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

/// Names of the kernel modules that publish BTF, sorted.
fn module_names() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(SYS_KERNEL_BTF) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    crate::util::sort::sort(&mut names);
    names
}

/// One module's BTF, split on `vmlinux`; `None` (logged) when unreadable.
fn module_btf(vmlinux: &Arc<Btf>, name: &str) -> Option<Btf> {
    let p = PathBuf::from(SYS_KERNEL_BTF).join(name);
    let bytes = std::fs::read(&p).ok()?;
    Btf::parse_split(Box::new(bytes), vmlinux.clone())
        .map_err(|e| log::debug!("module BTF {}: {e}", p.display()))
        .ok()
}

/// Every kernel module's BTF (the [`crate::reloc::ModuleReader`] of the
/// running kernel's CO-RE target).
pub fn module_btfs(vmlinux: &Arc<Btf>) -> Vec<Btf> {
    module_names()
        .iter()
        .filter_map(|n| module_btf(vmlinux, n))
        .collect()
}

impl CoreTarget {
    /// The running kernel's BTF (`/sys/kernel/btf/vmlinux` or a fallback
    /// path); module BTF is read from `/sys/kernel/btf` when needed.
    pub fn kernel() -> Result<CoreTarget> {
        Ok(CoreTarget::Kernel(kernel_btf()?, module_btfs))
    }

    /// A BTF file (raw BTF or an ELF file with `.BTF`) in place of the kernel's.
    pub fn file(path: &Path) -> Result<CoreTarget> {
        Ok(CoreTarget::Custom(Arc::new(read_btf_file(path)?)))
    }
}

/// Every kernel module's BTF with the module's name (for `.ksyms` externs,
/// which need the name to find the module BTF's fd).
pub(crate) fn named_module_btfs(vmlinux: &Arc<Btf>) -> Vec<(String, Btf)> {
    module_names()
        .into_iter()
        .filter_map(|n| module_btf(vmlinux, &n).map(|b| (n, b)))
        .collect()
}

/// The loaded kernel BTF object (fd) of module `name`, found by id.
pub(crate) fn module_btf_fd(name: &str) -> Option<OwnedFd> {
    let mut id = 0;
    while let Ok(Some(next)) = sys::btf_get_next_id(id) {
        id = next;
        let Ok(fd) = sys::btf_get_fd_by_id(id) else {
            continue;
        };
        let Ok(info) = sys::btf_info(fd.as_fd()) else {
            continue;
        };
        if info.kernel_btf && info.name == name {
            return Some(fd);
        }
    }
    None
}

/// Search kernel modules' BTF (split on vmlinux) for `name` of `kind`;
/// returns the type id and the module BTF's fd (attach_btf_obj_fd).
pub(crate) fn find_in_modules(
    vmlinux: &Arc<Btf>,
    name: &str,
    kind: Kind,
) -> Result<Option<(u32, OwnedFd)>> {
    for module in module_names() {
        let Some(m) = module_btf(vmlinux, &module) else {
            continue;
        };
        let Some(tid) = m.find_by_name_kind(name, kind) else {
            continue;
        };
        let Some(fd) = module_btf_fd(&module) else {
            log::debug!("{name} found in module {module} BTF, but its BTF object has no fd");
            continue;
        };
        log::debug!("{name} found in module {module} BTF (id {tid})");
        return Ok(Some((tid, fd)));
    }
    Ok(None)
}
