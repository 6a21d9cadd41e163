//! Finding (and if needed mounting) tracefs, and reading tracepoint ids.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::sys::{self, SysError};

/// Where tracefs is mounted by default (and where we mount it when absent).
pub const TRACEFS_DEFAULT: &str = "/sys/kernel/tracing";

#[derive(Debug, thiserror::Error)]
/// Why tracefs, a tracepoint or `trace_pipe` could not be used.
pub enum TracefsError {
    #[error("tracefs is not mounted and mounting it at {} failed: {source} (hint: `mount -t tracefs nodev {}` as root; the kernel needs CONFIG_TRACING)", .path.display(), .path.display())]
    /// tracefs is not mounted and mounting it failed.
    Mount {
        /// The tracefs path concerned.
        path: PathBuf,
        /// What the system reported.
        source: SysError,
    },
    /// tracefs is there, but this process may not look inside (its root
    /// is mode 0700: CAP_BPF and CAP_PERFMON are not enough).
    #[error("tracefs at {} is not readable: needs root or CAP_DAC_READ_SEARCH (or attach with raw_tp / tp_btf, which need no tracefs)", .path.display())]
    NotReadable {
        /// The tracefs path concerned.
        path: PathBuf,
    },
    #[error("tracefs mounted at {} has no events/ directory (kernel without CONFIG_TRACING events?)", .path.display())]
    /// tracefs has no `events/` directory.
    NoEvents {
        /// The tracefs path concerned.
        path: PathBuf,
    },
    #[error("invalid tracepoint name {category:?}/{name:?}: must be non-empty, without '/' or NUL, not '.' or '..'")]
    /// The tracepoint name is not a valid file name.
    BadName {
        /// Tracepoint category (e.g. `syscalls`).
        category: String,
        /// Tracepoint name (e.g. `sys_enter_execve`).
        name: String,
    },
    #[error("tracepoint {category}/{name} not found ({} does not exist)", .path.display())]
    /// No such tracepoint.
    TracepointNotFound {
        /// Tracepoint category (e.g. `syscalls`).
        category: String,
        /// Tracepoint name (e.g. `sys_enter_execve`).
        name: String,
        /// The tracefs path concerned.
        path: PathBuf,
    },
    #[error("tracepoint {category}/{name}: {}: {source}", .path.display())]
    /// Reading the tracepoint's id failed.
    Io {
        /// Tracepoint category (e.g. `syscalls`).
        category: String,
        /// Tracepoint name (e.g. `sys_enter_execve`).
        name: String,
        /// The tracefs path concerned.
        path: PathBuf,
        /// What the system reported.
        source: std::io::Error,
    },
    #[error("tracepoint {category}/{name}: {} holds {content:?}, not an id", .path.display())]
    /// The tracepoint's `id` file does not hold a number.
    BadId {
        /// Tracepoint category (e.g. `syscalls`).
        category: String,
        /// Tracepoint name (e.g. `sys_enter_execve`).
        name: String,
        /// The tracefs path concerned.
        path: PathBuf,
        /// What the file holds.
        content: String,
    },
}

/// Undo the octal escapes (`\040` for space, ...) of /proc/self/mountinfo.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// From mountinfo text, the tracing directories it offers, in order: tracefs
/// mount points, then `<debugfs>/tracing`.
fn tracing_dirs_from_mountinfo(mountinfo: &str) -> Vec<PathBuf> {
    let mut tracefs = Vec::new();
    let mut debugfs = Vec::new();
    for line in mountinfo.lines() {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        let Some((head, tail)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mount_point) = head.split(' ').nth(4) else {
            continue;
        };
        let Some(fstype) = tail.split(' ').next() else {
            continue;
        };
        let mp = PathBuf::from(unescape_mountinfo(mount_point));
        match fstype {
            "tracefs" => tracefs.push(mp),
            "debugfs" => debugfs.push(mp.join("tracing")),
            _ => {}
        }
    }
    tracefs.extend(debugfs);
    tracefs
}

/// Whether `dir/events` is a directory; `Err` when `dir` exists but may not
/// be searched by this process.
fn has_events(dir: &Path) -> Result<bool, TracefsError> {
    match std::fs::metadata(dir.join("events")) {
        Ok(m) => Ok(m.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(TracefsError::NotReadable {
                path: dir.to_path_buf(),
            })
        }
        Err(_) => Ok(false),
    }
}

fn find_or_mount() -> Result<PathBuf, TracefsError> {
    let default = Path::new(TRACEFS_DEFAULT);
    // A mount we cannot read is reported as such, not as "not mounted".
    let mut unreadable = None;
    match has_events(default) {
        Ok(true) => return Ok(default.to_path_buf()),
        Ok(false) => {}
        Err(e) => unreadable = Some(e),
    }
    if let Ok(mi) = std::fs::read_to_string("/proc/self/mountinfo") {
        for dir in tracing_dirs_from_mountinfo(&mi) {
            match has_events(&dir) {
                Ok(true) => {
                    log::debug!("tracefs found at {}", dir.display());
                    return Ok(dir);
                }
                Ok(false) => {}
                Err(e) => {
                    unreadable.get_or_insert(e);
                }
            }
        }
    }
    if let Some(e) = unreadable {
        return Err(e);
    }
    sys::mount_fs("tracefs", default).map_err(|source| TracefsError::Mount {
        path: default.to_path_buf(),
        source,
    })?;
    log::info!("mounted tracefs at {}", default.display());
    if default.join("events").is_dir() {
        Ok(default.to_path_buf())
    } else {
        Err(TracefsError::NoEvents {
            path: default.to_path_buf(),
        })
    }
}

/// The tracefs directory (e.g. /sys/kernel/tracing), found once per process:
/// /sys/kernel/tracing if populated, else a tracefs (or debugfs `tracing/`)
/// mount from /proc/self/mountinfo, else tracefs is mounted at
/// /sys/kernel/tracing. Failures are not cached.
pub fn tracefs_dir() -> Result<PathBuf, TracefsError> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    if let Some(d) = DIR.get() {
        return Ok(d.clone());
    }
    // One thread at a time looks (and mounts), so tracefs is mounted once.
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = DIR.get() {
        return Ok(d.clone());
    }
    let d = find_or_mount()?;
    Ok(DIR.get_or_init(|| d).clone())
}

fn valid_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0'])
}

/// The id of tracepoint `category`/`name` (`events/<category>/<name>/id`).
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64, TracefsError> {
    if !valid_component(category) || !valid_component(name) {
        return Err(TracefsError::BadName {
            category: category.into(),
            name: name.into(),
        });
    }
    let path = tracefs_dir()?
        .join("events")
        .join(category)
        .join(name)
        .join("id");
    let content = match std::fs::read_to_string(&path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TracefsError::TracepointNotFound {
                category: category.into(),
                name: name.into(),
                path,
            })
        }
        Err(source) => {
            return Err(TracefsError::Io {
                category: category.into(),
                name: name.into(),
                path,
                source,
            })
        }
    };
    content.trim().parse().map_err(|_| TracefsError::BadId {
        category: category.into(),
        name: name.into(),
        path,
        content: content.chars().take(64).collect(),
    })
}

/// The path of `trace_pipe` (where `bpf_printk` output goes).
pub fn trace_pipe_path() -> Result<PathBuf, TracefsError> {
    Ok(tracefs_dir()?.join("trace_pipe"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_parsing() {
        let mi = "\
22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
30 22 0:7 / /sys/kernel/debug rw,relatime shared:12 - debugfs debugfs rw
31 22 0:12 / /mnt/my\\040tracing rw,relatime - tracefs tracefs rw
garbage line
";
        assert_eq!(
            tracing_dirs_from_mountinfo(mi),
            vec![
                PathBuf::from("/mnt/my tracing"),
                PathBuf::from("/sys/kernel/debug/tracing")
            ]
        );
        assert_eq!(unescape_mountinfo("a\\134b\\0"), "a\\b\\0");
        assert_eq!(unescape_mountinfo("\\777"), "\\777");
    }

    #[test]
    fn names_checked() {
        for (c, n) in [("", "x"), ("..", "x"), ("a/b", "x"), ("syscalls", "a\0")] {
            assert!(matches!(
                tracepoint_id(c, n),
                Err(TracefsError::BadName { .. })
            ));
        }
    }

    /// Against the running kernel (needs root: tracefs's root is mode 0700).
    #[test]
    fn running_kernel() {
        if !nix::unistd::geteuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "running_kernel needs root and CI is set"
            );
            eprintln!("running_kernel: skipped (needs root)");
            return;
        }
        let dir = tracefs_dir().unwrap();
        assert!(dir.join("events").is_dir());
        assert!(trace_pipe_path().unwrap().ends_with("trace_pipe"));
        let id = tracepoint_id("syscalls", "sys_enter_execve").unwrap();
        assert!(id > 0);
        let e = tracepoint_id("syscalls", "no_such_tracepoint").unwrap_err();
        assert!(e.to_string().contains("syscalls/no_such_tracepoint"), "{e}");
    }
}
