//! Mounts, statfs, rlimits, uname, possible CPUs, epoll, and bpffs setup.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sys::epoll::{EpollCreateFlags, EpollFlags};

pub use nix::sys::epoll::EpollEvent;

use super::{SysError, SysResult};

/// `BPF_FS_MAGIC` from linux/magic.h.
pub const BPF_FS_MAGIC: i64 = 0xcafe4a11;
/// `TRACEFS_MAGIC`.
pub const TRACEFS_MAGIC: i64 = 0x74726163;
/// `DEBUGFS_MAGIC`.
pub const DEBUGFS_MAGIC: i64 = 0x64626720;

/// mount(2) a pseudo filesystem `fstype` (source = `fstype`) on `target`.
pub fn mount_fs(fstype: &str, target: &Path) -> SysResult<()> {
    nix::mount::mount(
        Some(fstype),
        target,
        Some(fstype),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| SysError::new("mount", e))
}

/// The filesystem magic (`f_type`) of the filesystem holding `path`.
pub fn statfs_magic(path: &Path) -> SysResult<i64> {
    let st = nix::sys::statfs::statfs(path).map_err(|e| SysError::new("statfs", e))?;
    Ok(st.filesystem_type().0 as i64)
}

/// `(soft, hard)` RLIMIT_MEMLOCK; `u64::MAX` is infinity.
pub fn getrlimit_memlock() -> SysResult<(u64, u64)> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK)
        .map_err(|e| SysError::new("getrlimit(RLIMIT_MEMLOCK)", e))
}

pub fn setrlimit_memlock(soft: u64, hard: u64) -> SysResult<()> {
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK, soft, hard)
        .map_err(|e| SysError::new("setrlimit(RLIMIT_MEMLOCK)", e))
}

/// The kernel release (`uname -r`), e.g. `"6.18.44-fc-v782"`; empty if unknown.
pub fn uname_release() -> String {
    // SAFETY: utsname is plain old data; uname fills it.
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
    }
    let bytes: Vec<u8> = u
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The CPUs in a list like `0-3,5` (as in /sys/devices/system/cpu/online).
pub fn parse_cpu_set(s: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in s.trim().split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let n = part.parse::<u32>().ok()?;
                (n, n)
            }
        };
        // Refuse absurd ranges instead of allocating for them.
        if lo > hi || hi - lo > 65_536 {
            return None;
        }
        cpus.extend(lo..=hi);
    }
    crate::util::sort::sort(&mut cpus);
    cpus.dedup();
    Some(cpus)
}

/// Parse a CPU list like `0-3,5,7-8` into the number of CPUs (highest + 1,
/// as the kernel sizes per-CPU map values).
pub fn parse_cpu_list(s: &str) -> Option<u32> {
    parse_cpu_set(s)?.into_iter().max()?.checked_add(1)
}

/// The number of possible CPUs (from /sys/devices/system/cpu/possible),
/// cached for the process.
pub fn num_possible_cpus() -> SysResult<u32> {
    static CPUS: OnceLock<u32> = OnceLock::new();
    if let Some(&n) = CPUS.get() {
        return Ok(n);
    }
    let call = "read /sys/devices/system/cpu/possible";
    let s = std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .map_err(|e| SysError::from_io(call, &e))?;
    let n = parse_cpu_list(&s).ok_or(SysError::new(
        "parse /sys/devices/system/cpu/possible",
        Errno::EINVAL,
    ))?;
    Ok(*CPUS.get_or_init(|| n))
}

/// A small epoll wrapper: register fds with a `u64` token, wait for events.
#[derive(Debug)]
pub struct Epoll(nix::sys::epoll::Epoll);

impl Epoll {
    pub fn new() -> SysResult<Epoll> {
        nix::sys::epoll::Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map(Epoll)
            .map_err(|e| SysError::new("epoll_create1", e))
    }

    /// Watch `fd` for readability; events carry `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, token: u64) -> SysResult<()> {
        self.0
            .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))
            .map_err(|e| SysError::new("epoll_ctl(ADD)", e))
    }

    pub fn delete(&self, fd: BorrowedFd<'_>) -> SysResult<()> {
        self.0
            .delete(fd)
            .map_err(|e| SysError::new("epoll_ctl(DEL)", e))
    }

    /// Wait up to `timeout_ms` (-1: forever) and fill `events`; returns how
    /// many are ready (0 on timeout or when interrupted by a signal). Each
    /// event's token is `events[i].data()`.
    pub fn wait(&self, events: &mut [EpollEvent], timeout_ms: i32) -> SysResult<usize> {
        let timeout = if timeout_ms < 0 {
            nix::sys::epoll::EpollTimeout::NONE
        } else {
            nix::sys::epoll::EpollTimeout::try_from(timeout_ms)
                .unwrap_or(nix::sys::epoll::EpollTimeout::MAX)
        };
        match self.0.wait(events, timeout) {
            Ok(n) => Ok(n),
            Err(Errno::EINTR) => Ok(0),
            Err(e) => Err(SysError::new("epoll_wait", e)),
        }
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0 .0.as_fd()
    }
}

/// Where bpffs is mounted by convention.
pub const BPFFS_DEFAULT: &str = "/sys/fs/bpf";

#[derive(Debug, thiserror::Error)]
/// Why a directory could not be made ready for pinning.
pub enum BpffsError {
    #[error("{path}: not on a bpf filesystem (mount one with `mount -t bpf bpf {mount}`)", path = .path.display(), mount = BPFFS_DEFAULT)]
    /// The directory is not on a bpf filesystem, and not under `/sys/fs/bpf`.
    NotBpffs {
        /// The directory concerned.
        path: PathBuf,
    },
    #[error("mounting bpffs at {}: {source}", .path.display())]
    /// Mounting bpffs failed.
    Mount {
        /// The directory concerned.
        path: PathBuf,
        /// What the system reported.
        source: SysError,
    },
    #[error("{}: {source}", .path.display())]
    /// Creating the directory failed.
    Io {
        /// The directory concerned.
        path: PathBuf,
        /// What the system reported.
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    /// statfs(2) failed.
    Statfs {
        /// The directory concerned.
        path: PathBuf,
        /// What the system reported.
        source: SysError,
    },
}

/// The deepest existing ancestor of `path` (itself included).
fn existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
}

/// Make sure `dir` is a directory on a bpf filesystem, creating it as
/// needed. When it is not on bpffs but lies under /sys/fs/bpf, bpffs is
/// mounted at /sys/fs/bpf first.
pub fn bpffs_ensure(dir: &Path) -> Result<(), BpffsError> {
    let on_bpffs = |p: &Path| -> Result<bool, BpffsError> {
        let base = existing_ancestor(p).unwrap_or(Path::new("/"));
        statfs_magic(base)
            .map(|m| m == BPF_FS_MAGIC)
            .map_err(|source| BpffsError::Statfs {
                path: base.to_path_buf(),
                source,
            })
    };
    if !on_bpffs(dir)? {
        let root = Path::new(BPFFS_DEFAULT);
        if !dir.starts_with(root) {
            return Err(BpffsError::NotBpffs {
                path: dir.to_path_buf(),
            });
        }
        std::fs::create_dir_all(root).map_err(|source| BpffsError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        mount_fs("bpf", root).map_err(|source| BpffsError::Mount {
            path: root.to_path_buf(),
            source,
        })?;
        log::info!("mounted bpffs at {}", root.display());
        if !on_bpffs(dir)? {
            return Err(BpffsError::NotBpffs {
                path: dir.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| BpffsError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-3,5,7-8"), Some(9));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list("4294967295"), None);
        assert!(num_possible_cpus().unwrap() >= 1);
    }

    #[test]
    fn release() {
        assert!(uname_release().starts_with(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn ancestors() {
        assert_eq!(
            existing_ancestor(Path::new("/tmp/does/not/exist/x")),
            Some(Path::new("/tmp"))
        );
        assert_eq!(existing_ancestor(Path::new("/")), Some(Path::new("/")));
    }

    #[test]
    fn not_bpffs() {
        let e = bpffs_ensure(Path::new("/tmp/tinybpf-not-bpffs")).unwrap_err();
        assert!(matches!(e, BpffsError::NotBpffs { .. }), "{e}");
        assert!(e.to_string().contains("/tmp/tinybpf-not-bpffs"));
        assert!(!Path::new("/tmp/tinybpf-not-bpffs").exists());
    }
}
