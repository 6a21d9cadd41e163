//! Uprobe targets: a binary (a path, or a bare library name such as
//! `libc.so.6`) and a symbol of it → the path and file offset the kernel
//! wants.
//!
//! The parsing is pure (`ldcache`: the loader's cache, `elf_sym`:
//! symbols and versions); this module does the file and `/proc` access.
//! A bare name (no `/`) is looked for, in order, in the mappings of the
//! given process (`/proc/PID/maps`), in `/etc/ld.so.cache`, in the standard
//! library directories and, for names that are not libraries (no `.so`), in
//! `$PATH`; only files of this machine's ELF class and machine qualify.

pub(crate) mod elf_sym;
pub(crate) mod ldcache;

pub use elf_sym::{elf_symbol_offset, SymbolError};
pub use ldcache::LdCacheError;

use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the loader's cache is.
pub const LD_SO_CACHE: &str = "/etc/ld.so.cache";

/// Library directories searched after the cache, in order.
pub const LIB_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// Why a uprobe target could not be resolved.
#[derive(Debug, Error)]
pub enum UprobeError {
    /// A file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The symbol could not be found in the (readable) file.
    #[error("{}: {source}", .path.display())]
    Symbol {
        /// The file.
        path: PathBuf,
        /// Why.
        source: SymbolError,
    },
    /// A bare library name was found nowhere.
    #[error("library {name} not found (looked in {}); give its path instead", .searched.join(", "))]
    LibraryNotFound {
        /// The name asked for.
        name: String,
        /// What was searched, in order.
        searched: Vec<String>,
    },
}

/// File offset of `symbol` (`name`, `name@VER`, `name@@VER`) in the ELF
/// file at `path`.
pub fn symbol_offset(path: &Path, symbol: &str) -> Result<u64, UprobeError> {
    let data = std::fs::read(path).map_err(|source| UprobeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    elf_symbol_offset(&data, symbol).map_err(|source| UprobeError::Symbol {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether the file at `path` is an ELF file for this machine.
fn is_host_elf(path: &Path) -> bool {
    let mut head = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && elf_sym::elf_matches_host(&head)
}

/// The mapped file paths of `/proc/PID/maps` text (pure), in order,
/// without duplicates or deleted files.
pub fn maps_paths(maps: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for line in maps.lines() {
        // start-end perms offset dev inode   path
        let Some(path) = line.splitn(6, ' ').nth(5).map(str::trim_start) else {
            continue;
        };
        if path.starts_with('/') && !path.ends_with(" (deleted)") && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// Whether a file name is what a bare library `name` asks for: the same
/// name, or a versioned one (`libc.so` → `libc.so.6`).
fn name_matches(file: &str, name: &str) -> bool {
    file == name || file.strip_prefix(name).is_some_and(|r| r.starts_with('.'))
}

/// The file a uprobe on `binary` means: `binary` itself when it contains
/// a `/`, otherwise the library (or program) of that name, found as the
/// module documentation says (`/proc/PID/maps` only when `pid` is given).
pub fn resolve_binary(binary: &str, pid: Option<i32>) -> Result<PathBuf, UprobeError> {
    if binary.contains('/') {
        return Ok(PathBuf::from(binary));
    }
    let mut searched = Vec::new();
    if let Some(pid) = pid.filter(|&p| p > 0) {
        let maps = format!("/proc/{pid}/maps");
        match std::fs::read_to_string(&maps) {
            Ok(text) => {
                for p in maps_paths(&text) {
                    let file = p.rsplit('/').next().unwrap_or(p);
                    if name_matches(file, binary) {
                        log::debug!("uprobe target {binary}: {p} (from {maps})");
                        return Ok(PathBuf::from(p));
                    }
                }
            }
            Err(source) => {
                return Err(UprobeError::Io {
                    path: maps.into(),
                    source,
                })
            }
        }
        searched.push(maps);
    }
    match std::fs::read(LD_SO_CACHE) {
        Ok(data) => match ldcache::parse(&data) {
            Ok(entries) => {
                for p in ldcache::lookup(&entries, binary) {
                    if is_host_elf(Path::new(p)) {
                        log::debug!("uprobe target {binary}: {p} (from {LD_SO_CACHE})");
                        return Ok(PathBuf::from(p));
                    }
                }
                searched.push(LD_SO_CACHE.to_string());
            }
            Err(e) => {
                log::warn!("{LD_SO_CACHE} ignored: {e}");
                searched.push(format!("{LD_SO_CACHE} (unreadable: {e})"));
            }
        },
        Err(e) => {
            log::debug!("{LD_SO_CACHE}: {e}");
            searched.push(format!("{LD_SO_CACHE} ({e})"));
        }
    }
    let mut dirs: Vec<String> = LIB_DIRS.iter().map(|d| d.to_string()).collect();
    if !binary.contains(".so") {
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path).map(|p| p.display().to_string()));
        }
    }
    for d in dirs {
        let p = Path::new(&d).join(binary);
        if is_host_elf(&p) {
            log::debug!("uprobe target {binary}: {}", p.display());
            return Ok(p);
        }
        searched.push(d);
    }
    Err(UprobeError::LibraryNotFound {
        name: binary.to_string(),
        searched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let text = "\
55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234   /usr/bin/cat
7f0000000000-7f0000028000 r--p 00000000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000028000-7f0000100000 r-xp 00028000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000201000 rw-p 00000000 00:00 0
7f0000300000-7f0000301000 r--p 00000000 08:01 77     /tmp/gone.so (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]
garbage";
        assert_eq!(
            maps_paths(text),
            ["/usr/bin/cat", "/usr/lib/x86_64-linux-gnu/libc.so.6"]
        );
        assert!(name_matches("libc.so.6", "libc.so.6"));
        assert!(name_matches("libc.so.6", "libc.so"));
        assert!(!name_matches("libcrypt.so.1", "libc"));
        assert!(!name_matches("libc.so.6", "libc.so.6.1"));
    }

    #[test]
    fn libc_by_name_everywhere() {
        let via_cache = resolve_binary("libc.so.6", None).unwrap();
        assert!(via_cache.ends_with("libc.so.6"), "{}", via_cache.display());
        let me = std::process::id() as i32;
        let via_maps = resolve_binary("libc.so.6", Some(me)).unwrap();
        assert_eq!(
            std::fs::canonicalize(&via_maps).unwrap(),
            std::fs::canonicalize(&via_cache).unwrap()
        );
        assert!(symbol_offset(&via_cache, "getpid").unwrap() > 0);
        // Paths are taken as they are.
        assert_eq!(
            resolve_binary("./x/libc.so.6", None).unwrap(),
            PathBuf::from("./x/libc.so.6")
        );
        match resolve_binary("libtinybpf-no-such-lib.so.9", None) {
            Err(e @ UprobeError::LibraryNotFound { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("/usr/lib64") && msg.contains(LD_SO_CACHE),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolve_binary("libc.so.6", Some(i32::MAX)),
            Err(UprobeError::Io { .. })
        ));
    }
}
