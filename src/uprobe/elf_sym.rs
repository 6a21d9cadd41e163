//! Function symbols of an ELF file → file offsets (pure: over the file's
//! bytes). Looks in `.symtab` and `.dynsym`, with GNU symbol versions:
//! `getpid` matches `getpid@@GLIBC_2.2.5` (and any `getpid@...`, when only
//! one address is named that way); `getpid@GLIBC_2.2.5` and
//! `malloc@@GLIBC_2.2.5` match only that version (`@@`: the default one).

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, Sym};
use object::read::SymbolIndex;
use object::Endianness;
use thiserror::Error;

/// Why a symbol has no offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolError {
    /// Not an ELF file, or one whose headers or tables are malformed.
    #[error("not a readable ELF file: {0}")]
    Elf(String),
    /// No defined symbol of that name (and version).
    #[error("no symbol {symbol} is defined here{}", hint(.similar))]
    NotFound {
        /// What was asked for.
        symbol: String,
        /// Defined symbols with the same base name (other versions).
        similar: Vec<String>,
    },
    /// Several addresses carry that name: say which version.
    #[error("{symbol} is ambiguous: {}; name the version (NAME@VERSION)", .candidates.join(", "))]
    Ambiguous {
        /// What was asked for.
        symbol: String,
        /// The versioned names of the candidates.
        candidates: Vec<String>,
    },
}

fn hint(similar: &[String]) -> String {
    if similar.is_empty() {
        String::new()
    } else {
        format!(" (defined: {})", similar.join(", "))
    }
}

/// `name`, `name@VER` or `name@@VER`.
struct Query<'a> {
    base: &'a str,
    version: Option<&'a str>,
    default_only: bool,
}

impl<'a> Query<'a> {
    fn parse(s: &'a str) -> Query<'a> {
        match s.split_once('@') {
            None => Query {
                base: s,
                version: None,
                default_only: false,
            },
            Some((base, v)) => match v.strip_prefix('@') {
                Some(v) => Query {
                    base,
                    version: Some(v),
                    default_only: true,
                },
                None => Query {
                    base,
                    version: Some(v),
                    default_only: false,
                },
            },
        }
    }
}

/// A defined symbol: base name, version (if any), whether that version is
/// the default (`@@`) one, and its virtual address.
#[derive(Debug, Clone)]
struct Def {
    base: String,
    version: Option<String>,
    default: bool,
    addr: u64,
}

impl Def {
    fn display(&self) -> String {
        match &self.version {
            None => self.base.clone(),
            Some(v) => format!("{}{}{v}", self.base, if self.default { "@@" } else { "@" }),
        }
    }
    fn matches(&self, q: &Query<'_>) -> bool {
        self.base == q.base
            && match q.version {
                None => true,
                Some(v) => self.version.as_deref() == Some(v) && (self.default || !q.default_only),
            }
    }
}

/// A `PT_LOAD` segment: virtual address, size in the file, file offset.
type Load = (u64, u64, u64);

/// Whether an ELF header (at least its first 20 bytes) is for this
/// machine's ABI: class, byte order and (where known) `e_machine`.
pub fn elf_matches_host(head: &[u8]) -> bool {
    if head.len() < 20 || &head[..4] != b"\x7fELF" {
        return false;
    }
    let class = if cfg!(target_pointer_width = "64") {
        elf::ELFCLASS64
    } else {
        elf::ELFCLASS32
    };
    let (data, machine_bytes) = if cfg!(target_endian = "little") {
        (elf::ELFDATA2LSB, u16::from_le_bytes([head[18], head[19]]))
    } else {
        (elf::ELFDATA2MSB, u16::from_be_bytes([head[18], head[19]]))
    };
    if head[4] != class || head[5] != data {
        return false;
    }
    let host = if cfg!(target_arch = "x86_64") {
        Some(elf::EM_X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(elf::EM_AARCH64)
    } else if cfg!(target_arch = "x86") {
        Some(elf::EM_386)
    } else if cfg!(target_arch = "riscv64") {
        Some(elf::EM_RISCV)
    } else if cfg!(target_arch = "s390x") {
        Some(elf::EM_S390)
    } else if cfg!(target_arch = "powerpc64") {
        Some(elf::EM_PPC64)
    } else {
        None
    };
    host.is_none_or(|m| m == machine_bytes)
}

fn defs<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> Result<(Vec<Def>, Vec<Load>), object::read::Error> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let mut out = Vec::new();
    for kind in [elf::SHT_SYMTAB, elf::SHT_DYNSYM] {
        let table = sections.symbols(endian, data, kind)?;
        let versions = if kind == elf::SHT_DYNSYM {
            sections.versions(endian, data)?
        } else {
            None
        };
        for (i, sym) in table.enumerate() {
            let st_type = sym.st_type();
            if sym.is_undefined(endian)
                || !matches!(
                    st_type,
                    elf::STT_FUNC | elf::STT_GNU_IFUNC | elf::STT_NOTYPE
                )
                || sym.st_shndx(endian) == elf::SHN_ABS
            {
                continue;
            }
            let Ok(name) = std::str::from_utf8(sym.name(endian, table.strings())?) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let addr: u64 = sym.st_value(endian).into();
            let def = match (&versions, name.split_once('@')) {
                // .symtab of a linked library: "name@@VER" / "name@VER".
                (_, Some((base, v))) => Def {
                    base: base.to_string(),
                    version: Some(v.trim_start_matches('@').to_string()),
                    default: v.starts_with('@'),
                    addr,
                },
                (Some(vt), None) => {
                    let vi = vt.version_index(endian, SymbolIndex(i.0));
                    match vt.version(vi)? {
                        Some(v) if vi.index() > elf::VER_NDX_GLOBAL => Def {
                            base: name.to_string(),
                            version: Some(String::from_utf8_lossy(v.name()).into_owned()),
                            default: !vi.is_hidden(),
                            addr,
                        },
                        _ => Def {
                            base: name.to_string(),
                            version: None,
                            default: true,
                            addr,
                        },
                    }
                }
                (None, None) => Def {
                    base: name.to_string(),
                    version: None,
                    default: true,
                    addr,
                },
            };
            out.push(def);
        }
    }
    let mut loads = Vec::new();
    for ph in header.program_headers(endian, data)? {
        if ph.p_type(endian) == elf::PT_LOAD {
            loads.push((
                ph.p_vaddr(endian).into(),
                ph.p_filesz(endian).into(),
                ph.p_offset(endian).into(),
            ));
        }
    }
    Ok((out, loads))
}

/// File offset of function `symbol` (`name`, `name@VER` or `name@@VER`) in
/// the ELF file `data`: its address translated through the `PT_LOAD`
/// program headers (an address outside them, as in a relocatable file, is
/// taken as the offset).
pub fn elf_symbol_offset(data: &[u8], symbol: &str) -> Result<u64, SymbolError> {
    let elf_err = |e: object::read::Error| SymbolError::Elf(e.to_string());
    let (all, loads) = match object::FileKind::parse(data).map_err(elf_err)? {
        object::FileKind::Elf64 => defs::<elf::FileHeader64<Endianness>>(data),
        object::FileKind::Elf32 => defs::<elf::FileHeader32<Endianness>>(data),
        k => return Err(SymbolError::Elf(format!("{k:?} is not an ELF file"))),
    }
    .map_err(elf_err)?;
    let q = Query::parse(symbol);
    let mut hits: Vec<&Def> = all.iter().filter(|d| d.matches(&q)).collect();
    // Several addresses for a bare name: keep the default versions.
    let distinct = |h: &[&Def]| {
        let mut a: Vec<u64> = h.iter().map(|d| d.addr).collect();
        crate::util::sort::sort(&mut a);
        a.dedup();
        a.len()
    };
    if distinct(&hits) > 1 && q.version.is_none() {
        hits.retain(|d| d.default);
    }
    let addr = match distinct(&hits) {
        0 => {
            let mut similar: Vec<String> = all
                .iter()
                .filter(|d| d.base == q.base)
                .map(Def::display)
                .collect();
            crate::util::sort::sort(&mut similar);
            similar.dedup();
            return Err(SymbolError::NotFound {
                symbol: symbol.to_string(),
                similar,
            });
        }
        1 => hits[0].addr,
        _ => {
            let mut candidates: Vec<String> = hits.iter().map(|d| d.display()).collect();
            crate::util::sort::sort(&mut candidates);
            candidates.dedup();
            return Err(SymbolError::Ambiguous {
                symbol: symbol.to_string(),
                candidates,
            });
        }
    };
    for (vaddr, filesz, off) in loads {
        if addr >= vaddr && addr - vaddr < filesz {
            return Ok(addr - vaddr + off);
        }
    }
    Ok(addr)
}

/// Every function whose base name (without `@VERSION`) passes `keep`, as
/// (versioned name, file offset), one per distinct offset, sorted by
/// offset: the targets of a `uprobe.multi` pattern.
pub(crate) fn elf_matching_offsets(
    data: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, u64)>, SymbolError> {
    let elf_err = |e: object::read::Error| SymbolError::Elf(e.to_string());
    let (all, loads) = match object::FileKind::parse(data).map_err(elf_err)? {
        object::FileKind::Elf64 => defs::<elf::FileHeader64<Endianness>>(data),
        object::FileKind::Elf32 => defs::<elf::FileHeader32<Endianness>>(data),
        k => return Err(SymbolError::Elf(format!("{k:?} is not an ELF file"))),
    }
    .map_err(elf_err)?;
    let mut out: Vec<(String, u64)> = all
        .iter()
        .filter(|d| keep(&d.base))
        .map(|d| {
            let off = loads
                .iter()
                .find(|(vaddr, filesz, _)| d.addr >= *vaddr && d.addr - vaddr < *filesz)
                .map_or(d.addr, |(vaddr, _, off)| d.addr - vaddr + off);
            (d.display(), off)
        })
        .collect();
    crate::util::sort::sort_by(&mut out, |a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    out.dedup_by_key(|e| e.1);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libc() -> Option<Vec<u8>> {
        let p = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/libc.so.6",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
        std::fs::read(p).ok()
    }

    #[test]
    fn versioned_names_of_libc() {
        let Some(data) = libc() else {
            assert!(std::env::var_os("CI").is_none(), "CI: no libc.so.6");
            return;
        };
        assert!(elf_matches_host(&data));
        let bare = elf_symbol_offset(&data, "getpid").unwrap();
        assert!(bare > 0);
        // getpid's version: the one .dynsym gives it (GLIBC_2.2.5 on x86-64).
        let Err(SymbolError::NotFound { similar, .. }) =
            elf_symbol_offset(&data, "getpid@NO_SUCH_VERSION")
        else {
            panic!("a made-up version matched");
        };
        let full = similar
            .iter()
            .find(|s| s.starts_with("getpid@@"))
            .unwrap_or_else(|| panic!("{similar:?}"));
        assert_eq!(elf_symbol_offset(&data, full).unwrap(), bare);
        let single = full.replacen("@@", "@", 1);
        assert_eq!(elf_symbol_offset(&data, &single).unwrap(), bare);
        assert!(matches!(
            elf_symbol_offset(&data, "no_such_function_here"),
            Err(SymbolError::NotFound { .. })
        ));
        assert!(elf_symbol_offset(&data, "malloc").is_ok());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            elf_symbol_offset(b"not an elf file at all", "x"),
            Err(SymbolError::Elf(_))
        ));
        let data = std::fs::read("/bin/true").unwrap();
        for len in [0, 16, 64, 100, data.len() / 2] {
            assert!(elf_symbol_offset(&data[..len], "main").is_err());
        }
        assert!(!elf_matches_host(b"\x7fELF"));
        assert!(!elf_matches_host(&[0u8; 64]));
    }

    #[test]
    fn query_forms() {
        let d = Def {
            base: "f".into(),
            version: Some("V1".into()),
            default: false,
            addr: 1,
        };
        assert!(d.matches(&Query::parse("f")));
        assert!(d.matches(&Query::parse("f@V1")));
        assert!(!d.matches(&Query::parse("f@@V1")));
        assert!(!d.matches(&Query::parse("f@V2")));
        assert!(!d.matches(&Query::parse("g")));
        assert_eq!(d.display(), "f@V1");
    }
}
