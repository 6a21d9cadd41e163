//! Real-world test data for integration tests.
//!
//! * BPF objects carved out of Debian's `libbpf-tools` binaries: each tool is a
//!   libbpf skeleton that embeds its whole `.bpf.o` as a byte array, so the
//!   object can be found by scanning the executable for an ELF header whose
//!   machine is EM_BPF.
//! * A second kernel's BTF (`/var/tmp/tinybpf-btf/vmlinux-<version>.btf` by
//!   default), extracted from a Debian `linux-image` package by
//!   `scripts/fetch-kernel-btf.sh`.
//!
//! Nothing here touches the kernel. Network / package installation only happens
//! when `CI` is set or `TINYBPF_FETCH=1`.
//!
//! Include it from a test crate either through `tests/common/mod.rs`
//! (`pub mod realworld;`) or directly:
//! `#[path = "common/realworld.rs"] mod realworld;`
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// ELF machine number of BPF.
pub const EM_BPF: u16 = 247;

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_REL: u16 = 1;
const EHDR_SIZE: usize = 64;
const SHDR_SIZE: usize = 64;
const SHT_NOBITS: u32 = 8;
/// Sanity cap on the number of sections of one carved object.
const MAX_SECTIONS: u64 = 65_536;

/// Debian package whose binaries embed the objects.
pub const LIBBPF_TOOLS_PACKAGE: &str = "libbpf-tools";

/// Default directory for fetched kernel BTF (never inside the repository).
pub const DEFAULT_BTF_DIR: &str = "/var/tmp/tinybpf-btf";

/// True when tests may download / install things: `CI` set or `TINYBPF_FETCH=1`.
pub fn fetch_allowed() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var("TINYBPF_FETCH")
            .map(|v| v == "1")
            .unwrap_or(false)
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// If `data` starts with a plausible little-endian ELF64 EM_BPF relocatable
/// object, return its total length (derived from the section header table and
/// the sections' extents). `None` if it is not one or does not fit in `data`.
pub fn bpf_object_len(data: &[u8]) -> Option<usize> {
    if data.len() < EHDR_SIZE || &data[0..4] != ELF_MAGIC {
        return None;
    }
    if data[4] != ELFCLASS64 || data[5] != ELFDATA2LSB || data[6] != EV_CURRENT {
        return None;
    }
    if u16_at(data, 16)? != ET_REL || u16_at(data, 18)? != EM_BPF {
        return None;
    }
    if u32_at(data, 20)? != u32::from(EV_CURRENT) {
        return None;
    }
    let shoff = u64_at(data, 40)?;
    let ehsize = u16_at(data, 52)?;
    let shentsize = u16_at(data, 58)?;
    let mut shnum = u64::from(u16_at(data, 60)?);
    let mut shstrndx = u64::from(u16_at(data, 62)?);
    if usize::from(ehsize) != EHDR_SIZE || usize::from(shentsize) != SHDR_SIZE {
        return None;
    }
    let shoff_us = usize::try_from(shoff).ok()?;
    if shoff_us < EHDR_SIZE {
        return None;
    }
    // Section 0 holds the real count / string table index when they overflow.
    let sh0 = data.get(shoff_us..shoff_us.checked_add(SHDR_SIZE)?)?;
    if shnum == 0 {
        shnum = u64_at(sh0, 32)?;
    }
    if shstrndx == 0xffff {
        shstrndx = u64::from(u32_at(sh0, 40)?);
    }
    if !(2..=MAX_SECTIONS).contains(&shnum) || shstrndx == 0 || shstrndx >= shnum {
        return None;
    }
    let table_len = shnum.checked_mul(SHDR_SIZE as u64)?;
    let table_end = shoff.checked_add(table_len)?;
    let table = data.get(shoff_us..usize::try_from(table_end).ok()?)?;
    let mut end = table_end;
    for sh in table.chunks_exact(SHDR_SIZE).skip(1) {
        let sh_type = u32_at(sh, 4)?;
        if sh_type == SHT_NOBITS {
            continue;
        }
        let off = u64_at(sh, 24)?;
        let size = u64_at(sh, 32)?;
        let sec_end = off.checked_add(size)?;
        end = end.max(sec_end);
    }
    let end = usize::try_from(end).ok()?;
    if end > data.len() {
        return None;
    }
    // The section name string table must be in bounds and NUL-terminated.
    let strtab = table.get(usize::try_from(shstrndx).ok()? * SHDR_SIZE..)?;
    let str_off = usize::try_from(u64_at(strtab, 24)?).ok()?;
    let str_size = usize::try_from(u64_at(strtab, 32)?).ok()?;
    let strs = data.get(str_off..str_off.checked_add(str_size)?)?;
    if strs.first() != Some(&0) || strs.last() != Some(&0) {
        return None;
    }
    Some(end)
}

/// Find every embedded little-endian ELF64 EM_BPF object in `binary`.
///
/// Scans for `\x7fELF`, checks class/endianness/machine, computes the length
/// from the section header table and every non-NOBITS section's extent, and
/// validates that it fits. Returns copies of the objects' bytes, in order.
pub fn carve_bpf_objects(binary: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(rel) = find(binary.get(pos..).unwrap_or(&[]), ELF_MAGIC) {
        let start = pos + rel;
        let rest = &binary[start..];
        match bpf_object_len(rest) {
            Some(len) => {
                out.push(rest[..len].to_vec());
                pos = start + len.max(1);
            }
            None => pos = start + 1,
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ok installed"))
        .unwrap_or(false)
}

/// Make sure `libbpf-tools` is installed. Installs it with apt-get only when
/// [`fetch_allowed`]; returns whether the package is (now) installed.
pub fn ensure_libbpf_tools() -> bool {
    if dpkg_installed(LIBBPF_TOOLS_PACKAGE) {
        return true;
    }
    if !fetch_allowed() {
        return false;
    }
    let ok = Command::new("apt-get")
        .args([
            "-o",
            "DPkg::Lock::Timeout=120",
            "-q",
            "install",
            "-y",
            "--no-install-recommends",
            LIBBPF_TOOLS_PACKAGE,
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok && dpkg_installed(LIBBPF_TOOLS_PACKAGE)
}

/// Executables shipped by the installed `libbpf-tools` package (sorted), or an
/// empty list when the package is not installed.
pub fn libbpf_tools_binaries() -> Vec<PathBuf> {
    let out = match Command::new("dpkg")
        .args(["-L", LIBBPF_TOOLS_PACKAGE])
        .stderr(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        _ => return Vec::new(),
    };
    let mut bins: Vec<PathBuf> = String::from_utf8_lossy(&out)
        .lines()
        .map(PathBuf::from)
        .filter(|p| is_executable_file(p))
        .collect();
    bins.sort();
    bins.dedup();
    bins
}

fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    // symlink_metadata: skip symlinks (they would duplicate their target).
    match std::fs::symlink_metadata(p) {
        Ok(m) => m.file_type().is_file() && m.permissions().mode() & 0o111 != 0,
        Err(_) => false,
    }
}

/// Carve the BPF objects of every installed `libbpf-tools` tool.
///
/// Each object is named after its tool (`execsnoop`); should a binary embed
/// several, the later ones are named `tool.2`, `tool.3`, ... Tools without an
/// embedded object are left out. Sorted by name. Empty when the package is not
/// installed (see [`ensure_libbpf_tools`]).
pub fn libbpf_tools_objects() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for bin in libbpf_tools_binaries() {
        let Some(name) = bin.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&bin) else {
            continue;
        };
        for (i, obj) in carve_bpf_objects(&bytes).into_iter().enumerate() {
            let n = if i == 0 {
                name.clone()
            } else {
                format!("{name}.{}", i + 1)
            };
            out.push((n, obj));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Root of the repository: the manifest directory, or its parent for the
/// tests of the `cli/` package.
pub fn repo_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if dir.join("bpf").is_dir() {
        dir
    } else {
        dir.join("..")
    }
}

/// Directory for fetched kernel BTF: `TINYBPF_BTF_DIR` or [`DEFAULT_BTF_DIR`].
pub fn btf_dir() -> PathBuf {
    std::env::var_os("TINYBPF_BTF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BTF_DIR))
}

/// Sort key comparing the digit runs of a file name numerically
/// (`vmlinux-6.1.0-9-amd64` < `vmlinux-6.1.0-57-amd64`).
pub fn version_key(p: &Path) -> Vec<(u64, String)> {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut key = Vec::new();
    let mut rest: &str = &name;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (num, tail) = rest.split_at(digits);
        let text_len = tail.len() - tail.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
        let (text, tail) = tail.split_at(text_len);
        key.push((num.parse().unwrap_or(0), text.to_string()));
        rest = tail;
    }
    key
}

/// `vmlinux-*.btf` files in `dir`, sorted by [`version_key`].
pub fn btf_files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinux-") && n.ends_with(".btf"))
                && p.is_file()
        })
        .collect();
    v.sort_by_key(|p| version_key(p));
    v
}

fn run_fetch_script(args: &[&str]) -> Vec<PathBuf> {
    let script = repo_root().join("scripts/fetch-kernel-btf.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .arg(btf_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| PathBuf::from(l.trim()))
            .filter(|p| p.is_file())
            .collect(),
        Ok(o) => {
            eprintln!("realworld: {} failed: {}", script.display(), o.status);
            Vec::new()
        }
        Err(e) => {
            eprintln!("realworld: cannot run {}: {e}", script.display());
            Vec::new()
        }
    }
}

/// BTF of a second kernel (Debian's newest 6.1 `linux-image-*-amd64`), as a
/// raw `.BTF` blob on disk.
///
/// Returns an existing `vmlinux-6.1.*.btf` from [`btf_dir`]; otherwise runs
/// `scripts/fetch-kernel-btf.sh` (only when [`fetch_allowed`]). `None` when
/// it is not available.
pub fn second_kernel_btf() -> Option<PathBuf> {
    let existing = btf_files_in(&btf_dir())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinux-6.1."))
        })
        .max_by(|a, b| version_key(a).cmp(&version_key(b)));
    if existing.is_some() {
        return existing;
    }
    if !fetch_allowed() {
        return None;
    }
    run_fetch_script(&[]).into_iter().last()
}

/// BTF of up to `max` Debian kernels (the fetch script's `--all --max`),
/// alternating 6.12 / 6.1 releases, newest first. Fetches the missing ones
/// (about 8 s and 70 MB of download each) only when [`fetch_allowed`];
/// otherwise returns what is already in [`btf_dir`] (version-sorted).
pub fn many_kernel_btfs(max: usize) -> Vec<PathBuf> {
    if fetch_allowed() {
        let max = max.to_string();
        let got = run_fetch_script(&["--all", "--max", &max]);
        if !got.is_empty() {
            return got;
        }
    }
    let mut v = btf_files_in(&btf_dir());
    v.truncate(max);
    v
}
