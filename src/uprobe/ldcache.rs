//! The dynamic loader's cache (`/etc/ld.so.cache`), parsed from its bytes
//! (pure: no file access). Only glibc's "new" format is read
//! (`glibc-ld.so.cache1.1`, the only one ldconfig writes since glibc 2.32),
//! alone or after an old `ld.so-1.7.0` table.
//!
//! Layout (native endianness, which the header's flags state):
//!
//! ```text
//! header (48 bytes): magic "glibc-ld.so.cache" [17], version "1.1" [3],
//!                    nlibs u32, len_strings u32, flags u8, pad [3],
//!                    extension_offset u32, unused [3 x u32]
//! entries (nlibs x 24 bytes): flags i32, key u32, value u32,
//!                    osversion u32, hwcap u64
//! ```
//! `key` (the soname) and `value` (the path) are offsets of NUL-terminated
//! strings, counted from the start of the new-format header.

use thiserror::Error;

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache";
const NEW_VERSION: &[u8] = b"1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const HEADER_LEN: usize = 48;
const ENTRY_LEN: usize = 24;
const OLD_HEADER_LEN: usize = 16;
const OLD_ENTRY_LEN: usize = 12;

/// Why the bytes are not a usable ld.so.cache.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LdCacheError {
    /// Shorter than its header (or than the old table it starts with).
    #[error("truncated: {len} bytes, the header needs {need}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header (or old table) needs.
        need: usize,
    },
    /// Neither the new nor the old magic.
    #[error("not an ld.so.cache (no glibc-ld.so.cache magic)")]
    BadMagic,
    /// A new-format header of another version.
    #[error("unsupported ld.so.cache version {0:?} (only 1.1 is read)")]
    UnsupportedVersion(String),
    /// The header says the other byte order (or an invalid one).
    #[error("the cache is for the other byte order (header flags {0:#x})")]
    ForeignEndian(u8),
    /// The entry table runs past the end of the data.
    #[error("{nlibs} entries need {need} bytes, only {len} present")]
    EntriesOutOfBounds {
        /// Entry count from the header.
        nlibs: u32,
        /// Bytes header + entries need.
        need: u64,
        /// Bytes present.
        len: usize,
    },
    /// An entry's string offset is outside the data, or the string there
    /// has no terminating NUL, or is not UTF-8.
    #[error("entry {entry}: bad string at offset {offset}")]
    BadString {
        /// Index of the entry.
        entry: u32,
        /// Offset of the string (from the new header).
        offset: u32,
    },
}

/// One library of the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdCacheEntry {
    /// ldconfig's flags: bits 0-7 the kind (3 = ELF libc6), bits 8-15 the
    /// ABI (0x0300 = x86-64, 0x0a00 = AArch64, 0 = the default one).
    pub flags: i32,
    /// The soname, e.g. `libc.so.6`.
    pub name: String,
    /// Its path, e.g. `/lib/x86_64-linux-gnu/libc.so.6`.
    pub path: String,
    /// Minimum OS version (0: any).
    pub osversion: u32,
    /// Hardware capabilities (0: the baseline library, not a
    /// `glibc-hwcaps` variant).
    pub hwcap: u64,
}

fn u32_at(data: &[u8], off: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&data[off..off + 4]);
    u32::from_ne_bytes(b)
}

fn u64_at(data: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[off..off + 8]);
    u64::from_ne_bytes(b)
}

/// Where the new-format header starts: 0, or after an old-format table.
fn new_header_start(data: &[u8]) -> Result<usize, LdCacheError> {
    if data.starts_with(NEW_MAGIC) {
        return Ok(0);
    }
    if !data.starts_with(OLD_MAGIC) {
        return Err(if data.len() < NEW_MAGIC.len() {
            LdCacheError::Truncated {
                len: data.len(),
                need: HEADER_LEN,
            }
        } else {
            LdCacheError::BadMagic
        });
    }
    if data.len() < OLD_HEADER_LEN {
        return Err(LdCacheError::Truncated {
            len: data.len(),
            need: OLD_HEADER_LEN,
        });
    }
    let nlibs = u32_at(data, 12);
    let end = OLD_HEADER_LEN as u64 + u64::from(nlibs) * OLD_ENTRY_LEN as u64;
    // The new header follows, aligned like its 8-byte hwcap field.
    let start = end.div_ceil(8) * 8;
    match usize::try_from(start) {
        Ok(s) if s <= data.len() && data[s..].starts_with(NEW_MAGIC) => Ok(s),
        Ok(s) if s + NEW_MAGIC.len() > data.len() => Err(LdCacheError::Truncated {
            len: data.len(),
            need: s.saturating_add(HEADER_LEN),
        }),
        _ => Err(LdCacheError::BadMagic),
    }
}

fn string_at(strings: &[u8], entry: u32, offset: u32) -> Result<String, LdCacheError> {
    let bad = LdCacheError::BadString { entry, offset };
    let rest = strings.get(offset as usize..).ok_or(bad.clone())?;
    let end = rest.iter().position(|&b| b == 0).ok_or(bad.clone())?;
    String::from_utf8(rest[..end].to_vec()).map_err(|_| bad)
}

/// Every entry of the cache, in its order (ldconfig's: by name, the most
/// specific hwcaps variant first).
pub fn parse(data: &[u8]) -> Result<Vec<LdCacheEntry>, LdCacheError> {
    let start = new_header_start(data)?;
    let cache = &data[start..];
    if cache.len() < HEADER_LEN {
        return Err(LdCacheError::Truncated {
            len: data.len(),
            need: start + HEADER_LEN,
        });
    }
    let version = &cache[NEW_MAGIC.len()..NEW_MAGIC.len() + NEW_VERSION.len()];
    if version != NEW_VERSION {
        return Err(LdCacheError::UnsupportedVersion(
            String::from_utf8_lossy(version).into_owned(),
        ));
    }
    let nlibs = u32_at(cache, 20);
    // flags & 3: 0 unknown (assume native), 1 invalid, 2 little, 3 big.
    let endian = cache[28] & 3;
    let native = if cfg!(target_endian = "little") { 2 } else { 3 };
    if endian != 0 && endian != native {
        return Err(LdCacheError::ForeignEndian(cache[28]));
    }
    let need = HEADER_LEN as u64 + u64::from(nlibs) * ENTRY_LEN as u64;
    if need > cache.len() as u64 {
        return Err(LdCacheError::EntriesOutOfBounds {
            nlibs,
            need: need + start as u64,
            len: data.len(),
        });
    }
    let mut out = Vec::with_capacity(nlibs as usize);
    for i in 0..nlibs {
        let e = HEADER_LEN + i as usize * ENTRY_LEN;
        out.push(LdCacheEntry {
            flags: u32_at(cache, e) as i32,
            name: string_at(cache, i, u32_at(cache, e + 4))?,
            path: string_at(cache, i, u32_at(cache, e + 8))?,
            osversion: u32_at(cache, e + 12),
            hwcap: u64_at(cache, e + 16),
        });
    }
    Ok(out)
}

/// The paths the cache gives for soname `name`: baseline libraries
/// (hwcap 0) first, then hwcaps variants, each in cache order.
pub fn lookup<'a>(entries: &'a [LdCacheEntry], name: &str) -> Vec<&'a str> {
    let matching = || entries.iter().filter(move |e| e.name == name);
    matching()
        .filter(|e| e.hwcap == 0)
        .chain(matching().filter(|e| e.hwcap != 0))
        .map(|e| e.path.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new-format cache of `libs` (name, path, hwcap).
    fn build(libs: &[(&str, &str, u64)]) -> Vec<u8> {
        let strings_at = HEADER_LEN + libs.len() * ENTRY_LEN;
        let mut strings = Vec::new();
        let mut entries = Vec::new();
        for (name, path, hwcap) in libs {
            let k = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
            let v = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(path.as_bytes());
            strings.push(0);
            entries.extend_from_slice(&0x0303i32.to_ne_bytes());
            entries.extend_from_slice(&k.to_ne_bytes());
            entries.extend_from_slice(&v.to_ne_bytes());
            entries.extend_from_slice(&0u32.to_ne_bytes());
            entries.extend_from_slice(&hwcap.to_ne_bytes());
        }
        let mut d = Vec::new();
        d.extend_from_slice(NEW_MAGIC);
        d.extend_from_slice(NEW_VERSION);
        d.extend_from_slice(&(libs.len() as u32).to_ne_bytes());
        d.extend_from_slice(&(strings.len() as u32).to_ne_bytes());
        d.push(if cfg!(target_endian = "little") { 2 } else { 3 });
        d.extend_from_slice(&[0; 3]);
        d.extend_from_slice(&[0; 16]);
        assert_eq!(d.len(), HEADER_LEN);
        d.extend_from_slice(&entries);
        d.extend_from_slice(&strings);
        d
    }

    #[test]
    fn synthetic_cache_round_trips_and_prefers_baseline() {
        let d = build(&[
            ("libfoo.so.1", "/opt/hw/libfoo.so.1", 1 << 62),
            ("libfoo.so.1", "/lib/libfoo.so.1", 0),
            ("libbar.so", "/lib/libbar.so", 0),
        ]);
        let e = parse(&d).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].name, "libbar.so");
        assert_eq!(e[2].path, "/lib/libbar.so");
        assert_eq!(e[0].flags, 0x0303);
        assert_eq!(
            lookup(&e, "libfoo.so.1"),
            ["/lib/libfoo.so.1", "/opt/hw/libfoo.so.1"]
        );
        assert!(lookup(&e, "libnone.so").is_empty());
    }

    #[test]
    fn new_format_after_an_old_table() {
        // Old header with 3 entries (16 + 36 = 52 bytes), padded to 56.
        let new = build(&[("libx.so", "/lib/libx.so", 0)]);
        let mut d = Vec::new();
        d.extend_from_slice(OLD_MAGIC);
        d.push(0);
        d.extend_from_slice(&3u32.to_ne_bytes());
        d.extend_from_slice(&[0; 36]);
        d.extend_from_slice(&[0; 4]);
        d.extend_from_slice(&new);
        let e = parse(&d).unwrap();
        assert_eq!(lookup(&e, "libx.so"), ["/lib/libx.so"]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let d = build(&[("libc.so.6", "/lib/libc.so.6", 0), ("libm.so.6", "/m", 0)]);
        assert!(parse(&d).is_ok());
        for len in 0..d.len() {
            assert!(parse(&d[..len]).is_err(), "truncated to {len} parsed");
        }
        assert!(matches!(
            parse(&d[..10]),
            Err(LdCacheError::Truncated { .. })
        ));
        assert!(matches!(
            parse(&d[..60]),
            Err(LdCacheError::EntriesOutOfBounds { nlibs: 2, .. })
        ));
    }

    #[test]
    fn garbage_and_corrupted_headers_are_typed_errors() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(parse(&garbage), Err(LdCacheError::BadMagic));
        let good = build(&[("libc.so.6", "/lib/libc.so.6", 0)]);
        let mut d = good.clone();
        d[17..20].copy_from_slice(b"1.0");
        assert!(matches!(parse(&d), Err(LdCacheError::UnsupportedVersion(v)) if v == "1.0"));
        let mut d = good.clone();
        d[28] ^= 1; // little <-> big
        assert!(matches!(parse(&d), Err(LdCacheError::ForeignEndian(_))));
        let mut d = good.clone();
        d[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(matches!(
            parse(&d),
            Err(LdCacheError::EntriesOutOfBounds { .. })
        ));
        let mut d = good.clone();
        d[HEADER_LEN + 8..HEADER_LEN + 12].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(
            parse(&d),
            Err(LdCacheError::BadString {
                entry: 0,
                offset: u32::MAX
            })
        );
        // No NUL after the last string.
        let mut d = good.clone();
        d.pop();
        assert!(matches!(parse(&d), Err(LdCacheError::BadString { .. })));
        // An old table claiming huge size.
        let mut d = OLD_MAGIC.to_vec();
        d.push(0);
        d.extend_from_slice(&u32::MAX.to_ne_bytes());
        assert!(parse(&d).is_err());
        // Every single-byte corruption of the header: no panic.
        for i in 0..HEADER_LEN + ENTRY_LEN {
            for v in [0u8, 0xff, 0x80] {
                let mut d = good.clone();
                d[i] = v;
                let _ = parse(&d);
            }
        }
    }

    #[test]
    fn the_real_ld_so_cache_names_libc() {
        let Ok(data) = std::fs::read("/etc/ld.so.cache") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI: /etc/ld.so.cache is missing"
            );
            return;
        };
        let e = parse(&data).unwrap();
        assert!(e.len() > 10, "{} entries", e.len());
        let libc = lookup(&e, "libc.so.6");
        assert!(!libc.is_empty(), "no libc.so.6 in /etc/ld.so.cache");
        assert!(std::path::Path::new(libc[0]).exists(), "{}", libc[0]);
        for x in &e {
            assert!(x.path.starts_with('/'), "{x:?}");
            assert!(!x.name.is_empty(), "{x:?}");
        }
    }
}
