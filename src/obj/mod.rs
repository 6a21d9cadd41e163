//! Object parsing: ELF bytes in, program and map specs out; no syscalls.
//!
//! [`ObjectSpec::parse`] reads a clang-built `*.bpf.o`: one program per function
//! symbol in each executable section (other than `.text`, whose functions are
//! subprograms), maps from `.maps` (BTF-defined), the legacy `maps` section and the
//! global-data sections, and every relocation, resolved to what it points at.

mod btf_maps;
mod elf_map;
mod elf_size;
mod error;
mod func_linkage;
pub mod kconfig;
pub(crate) mod ksyms;
pub(crate) mod maps;
pub(crate) mod section;
pub(crate) mod struct_ops;

pub use error::ParseError;
pub use ksyms::KsymType;
pub use maps::{
    data_map_name, kernel_name, DataKind, MapSpec, Pinning, SlotTarget, StructOpsFunc,
    StructOpsSpec, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, MAX_DATA_SIZE,
};
pub use section::{prog_kind, AttachTarget, ProbeKind, ProgKind};
pub use struct_ops::{
    program_use as struct_ops_program_use, StructOpsLayout, StructOpsProg, BPF_F_LINK,
};

use crate::abi::insn::{Insn, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, INSN_SIZE, LD_IMM64};
use crate::util::elf_bytes::ElfBytes;
use error::sec_err;
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind, SymbolSection};
use std::collections::{BTreeMap, HashMap};

/// ELF machine number of BPF.
const EM_BPF: u16 = 247;
/// ELF relocation types of BPF.
const R_BPF_64_64: u32 = 1;
const R_BPF_64_ABS64: u32 = 2;
const R_BPF_64_ABS32: u32 = 3;
const R_BPF_64_NODYLD32: u32 = 4;
const R_BPF_64_32: u32 = 10;

/// What an instruction's relocation resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reloc {
    /// A bpf-to-bpf call (`call`) or a function address (`ld_imm64`,
    /// BPF_PSEUDO_FUNC): the target is instruction `insn` of code section `sec`.
    Func {
        /// Index of the target code section in [`ObjectSpec::code`].
        sec: usize,
        /// The target instruction within it.
        insn: usize,
    },
    /// `ld_imm64` of a map: BPF_PSEUDO_MAP_FD.
    Map {
        /// Index into [`ObjectSpec::maps`].
        map: usize,
    },
    /// `ld_imm64` of an address in a data map: BPF_PSEUDO_MAP_VALUE.
    MapValue {
        /// Index into [`ObjectSpec::maps`].
        map: usize,
        /// Byte offset within the map value.
        offset: u32,
    },
    /// A `.kconfig` extern (resolved to a `.kconfig` map value at load).
    Kconfig {
        /// The extern's name.
        name: String,
    },
    /// A `.ksyms` extern: a kernel variable or kfunc read by an `ld_imm64`,
    /// or a kfunc called by a `call`.
    Ksym {
        /// The extern's name.
        name: String,
    },
}

/// An executable section: instructions plus resolved relocations.
#[derive(Clone, Debug)]
pub struct CodeSection {
    /// The section's name (e.g. `.text`, `tp/syscalls/sys_enter_execve`).
    pub name: String,
    /// Its index in the ELF section table.
    pub elf_index: usize,
    /// Its instructions, as in the file.
    pub insns: Vec<Insn>,
    /// Relocations by instruction index.
    pub relocs: BTreeMap<usize, Reloc>,
    /// Functions in this section: (name, first insn, insn count), by start.
    pub funcs: Vec<(String, usize, usize)>,
}

/// A program: one function symbol in a program section.
#[derive(Clone, Debug)]
pub struct ProgramSpec {
    /// The function symbol's name.
    pub name: String,
    /// The ELF section it lives in (e.g. `tp/syscalls/sys_enter_execve`).
    pub section: String,
    /// What the section name means; `None` for a name we do not know (an error
    /// only if the program is loaded).
    pub kind: Option<ProgKind>,
    /// Index into [`ObjectSpec::code`].
    pub code: usize,
    /// First instruction of the function in its section, and its length.
    pub start: usize,
    /// Instruction count of the function.
    pub len: usize,
    /// Whether the program is loaded (all are, by default).
    pub autoload: bool,
}

/// An extern variable (`.kconfig` or `.ksyms`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternSpec {
    /// The extern's name.
    pub name: String,
    /// Declared `__weak`: may stay unresolved.
    pub weak: bool,
    /// In `.kconfig` (otherwise `.ksyms`).
    pub kconfig: bool,
    /// For a `.ksyms` extern, what it is (from BTF); `None` for `.kconfig`
    /// ones and externs of objects without BTF.
    pub ksym: Option<ksyms::KsymType>,
}

/// A global variable in a data section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVar {
    /// The variable's name.
    pub name: String,
    /// Its data section (`.rodata`, `.data`, `.bss`, ...).
    pub section: String,
    /// Byte offset in the section.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

/// A parsed object: everything the loader needs, without any kernel state.
#[derive(Debug)]
pub struct ObjectSpec {
    /// Name derived from the file name (`hello` for `hello.bpf.o`); prefix of
    /// data map names.
    pub name: String,
    /// The `license` section (e.g. `GPL`).
    pub license: String,
    /// The `version` section (0 if absent).
    pub kern_version: u32,
    /// Programs, in symbol order.
    pub programs: Vec<ProgramSpec>,
    /// Maps: BTF-defined, legacy, then data maps.
    pub maps: Vec<MapSpec>,
    /// Executable sections.
    pub code: Vec<CodeSection>,
    /// Extern variables.
    pub externs: Vec<ExternSpec>,
    /// `.kconfig` externs: (name, offset in the `.kconfig` map).
    pub kconfig_offsets: Vec<(String, u32)>,
    /// Global variables of `.rodata`, `.data` and `.bss` sections.
    pub globals: Vec<GlobalVar>,
    /// Raw `.BTF` / `.BTF.ext` bytes.
    pub btf_bytes: Option<Vec<u8>>,
    /// Raw `.BTF.ext` bytes.
    pub btf_ext_bytes: Option<Vec<u8>>,
    /// The object's BTF, DATASECs fixed up (ready for BPF_BTF_LOAD).
    pub btf: Option<crate::btf::Btf>,
    /// Its `.BTF.ext`: func_info, line_info, CO-RE relocations.
    pub btf_ext: Option<crate::btf::ext::BtfExt>,
    /// ELF section sizes and symbol values, by name, for BTF DATASEC fix-ups.
    pub section_sizes: HashMap<String, u64>,
    /// Symbol values by name (for DATASEC fix-ups).
    pub symbol_offsets: HashMap<String, u64>,
}

struct Sym {
    name: String,
    section: Option<usize>,
    value: u64,
    size: u64,
    kind: SymbolKind,
    weak: bool,
    global: bool,
    /// STV_HIDDEN or STV_INTERNAL visibility (`__hidden`).
    hidden: bool,
}

/// Object name from a path: the file name up to its first '.'.
pub fn object_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    if stem.is_empty() {
        "obj".to_string()
    } else {
        stem.to_string()
    }
}

fn is_data_section(name: &str) -> Option<DataKind> {
    if name == ".rodata" || name.starts_with(".rodata.") {
        Some(DataKind::Rodata)
    } else if name == ".data" || name.starts_with(".data.") {
        Some(DataKind::Data)
    } else if name == ".bss" || name.starts_with(".bss.") {
        Some(DataKind::Bss)
    } else {
        None
    }
}

impl ObjectSpec {
    /// Parse an object's bytes. `name` is the object's name (see [`object_name`]).
    pub fn parse(name: &str, data: &[u8]) -> Result<ObjectSpec, ParseError> {
        log::debug!("parsing object {name} ({} bytes)", data.len());
        elf_size::check(data)?;
        let elf = object::read::elf::ElfFile64::<object::Endianness, _>::parse(ElfBytes(data))
            .map_err(|e| {
                // An ELF, but not a BPF one.
                if crate::util::elf_bytes::is_elf32(data) {
                    ParseError::NotBpf {
                        machine: 0,
                        class: "ELF32",
                    }
                } else {
                    ParseError::Elf(e.to_string())
                }
            })?;
        let machine = elf.elf_header().e_machine.get(elf.endian());
        if machine != EM_BPF {
            return Err(ParseError::NotBpf {
                machine,
                class: "ELF64",
            });
        }
        if !elf.is_little_endian() {
            return Err(ParseError::Elf(
                "big-endian BPF objects are not supported".into(),
            ));
        }

        let mut spec = ObjectSpec {
            name: name.to_string(),
            license: String::new(),
            kern_version: 0,
            programs: Vec::new(),
            maps: Vec::new(),
            code: Vec::new(),
            externs: Vec::new(),
            globals: Vec::new(),
            kconfig_offsets: Vec::new(),
            btf_bytes: None,
            btf_ext_bytes: None,
            btf: None,
            btf_ext: None,
            section_sizes: HashMap::new(),
            symbol_offsets: HashMap::new(),
        };

        // Symbols.
        let mut syms: Vec<Option<Sym>> = Vec::new();
        for s in elf.symbols() {
            let idx = s.index().0;
            if syms.len() <= idx {
                syms.resize_with(idx + 1, || None);
            }
            let name = s.name().unwrap_or("").to_string();
            let section = match s.section() {
                SymbolSection::Section(i) => Some(i.0),
                _ => None,
            };
            syms[idx] = Some(Sym {
                name,
                section,
                value: s.address(),
                size: s.size(),
                kind: s.kind(),
                weak: s.is_weak(),
                global: s.is_global(),
                hidden: matches!(s.flags(), object::SymbolFlags::Elf { st_other, .. }
                    if matches!(st_other & 3, object::elf::STV_HIDDEN | object::elf::STV_INTERNAL)),
            });
        }

        // Sections: code, data, maps, license, BTF.
        let mut code_by_elf: HashMap<usize, usize> = HashMap::new();
        let mut data_by_elf: HashMap<usize, usize> = HashMap::new();
        let mut legacy_maps_sec: Option<(usize, String, Vec<u8>)> = None;
        let mut btf_maps_sec: Option<usize> = None;
        for sec in elf.sections() {
            let sname = sec.name().unwrap_or("").to_string();
            let idx = sec.index().0;
            let executable = matches!(sec.kind(), SectionKind::Text);
            if sec.kind() != SectionKind::Metadata && !sname.is_empty() {
                spec.section_sizes.insert(sname.clone(), sec.size());
            }
            if executable {
                let bytes = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
                if bytes.len() % INSN_SIZE != 0 {
                    return Err(sec_err(
                        &sname,
                        format!("size {} is not a multiple of 8", bytes.len()),
                    ));
                }
                if bytes.is_empty() {
                    continue;
                }
                code_by_elf.insert(idx, spec.code.len());
                spec.code.push(CodeSection {
                    name: sname,
                    elf_index: idx,
                    insns: Insn::decode_all(bytes),
                    relocs: BTreeMap::new(),
                    funcs: Vec::new(),
                });
                continue;
            }
            match sname.as_str() {
                "license" => {
                    let bytes = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
                    let end = bytes
                        .iter()
                        .position(|&b| b == 0)
                        .ok_or_else(|| sec_err("license", "not NUL-terminated"))?;
                    spec.license = String::from_utf8_lossy(&bytes[..end]).into_owned();
                }
                "version" => {
                    let bytes = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
                    let b: [u8; 4] = bytes.try_into().map_err(|_| {
                        sec_err("version", format!("size {} is not 4", bytes.len()))
                    })?;
                    spec.kern_version = u32::from_le_bytes(b);
                }
                ".BTF" => {
                    spec.btf_bytes = Some(
                        sec.data()
                            .map_err(|e| sec_err(&sname, e.to_string()))?
                            .to_vec(),
                    )
                }
                ".BTF.ext" => {
                    spec.btf_ext_bytes = Some(
                        sec.data()
                            .map_err(|e| sec_err(&sname, e.to_string()))?
                            .to_vec(),
                    )
                }
                "maps" => {
                    let bytes = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
                    legacy_maps_sec = Some((idx, sname.clone(), bytes.to_vec()));
                }
                ".maps" => btf_maps_sec = Some(idx),
                _ => {
                    if let Some(kind) = is_data_section(&sname) {
                        // Data maps, and globals, are found by section name.
                        if spec.maps.iter().any(|m| m.section == sname) {
                            return Err(sec_err(&sname, "two data sections with this name"));
                        }
                        let size = sec.size();
                        if size > maps::MAX_DATA_SIZE {
                            return Err(sec_err(&sname, format!("size {size} is too large")));
                        }
                        let bytes = match kind {
                            DataKind::Bss => Vec::new(),
                            _ => {
                                let d = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
                                if d.len() as u64 != size {
                                    return Err(sec_err(&sname, "data shorter than its size"));
                                }
                                d.to_vec()
                            }
                        };
                        data_by_elf.insert(idx, spec.maps.len());
                        spec.maps
                            .push(MapSpec::data(name, &sname, kind, size as u32, bytes, idx));
                    }
                }
            }
        }

        // Symbol offsets for DATASEC fix-ups, functions of each code section,
        // and externs.
        for s in syms.iter().flatten() {
            if s.name.is_empty() {
                continue;
            }
            if matches!(s.kind, SymbolKind::Data) && s.section.is_some() {
                spec.symbol_offsets.insert(s.name.clone(), s.value);
                if let Some(&mi) = s.section.and_then(|i| data_by_elf.get(&i)) {
                    let m = &spec.maps[mi];
                    if s.value
                        .checked_add(s.size)
                        .is_none_or(|e| e > m.value_size as u64)
                    {
                        return Err(ParseError::Symbol {
                            symbol: s.name.clone(),
                            reason: format!("extends past the end of {}", m.section),
                        });
                    }
                    spec.globals.push(GlobalVar {
                        name: s.name.clone(),
                        section: m.section.clone(),
                        offset: s.value,
                        size: s.size,
                    });
                }
            }
            if s.section.is_none() && s.global && !matches!(s.kind, SymbolKind::Section) {
                // Undefined global: an extern. Which section (.kconfig or .ksyms)
                // comes from BTF; without BTF, CONFIG_* and LINUX_* are kconfig.
                let kconfig = s.name.starts_with("CONFIG_") || s.name.starts_with("LINUX_");
                spec.externs.push(ExternSpec {
                    name: s.name.clone(),
                    weak: s.weak,
                    kconfig,
                    ksym: None,
                });
            }
            let Some(sec) = s.section else { continue };
            let Some(&ci) = code_by_elf.get(&sec) else {
                continue;
            };
            if s.kind != SymbolKind::Text {
                continue;
            }
            let cs = &mut spec.code[ci];
            let n = cs.insns.len() as u64;
            if s.value % 8 != 0 || s.size % 8 != 0 || s.size == 0 {
                return Err(ParseError::Symbol {
                    symbol: s.name.clone(),
                    reason: format!(
                        "function at {:#x} size {} is not instruction-aligned",
                        s.value, s.size
                    ),
                });
            }
            let (start, len) = (s.value / 8, s.size / 8);
            if start.checked_add(len).is_none_or(|e| e > n) {
                return Err(ParseError::Symbol {
                    symbol: s.name.clone(),
                    reason: format!("function extends past the end of section {}", cs.name),
                });
            }
            cs.funcs
                .push((s.name.clone(), start as usize, len as usize));
        }
        for cs in &mut spec.code {
            crate::util::sort::sort_by_key(&mut cs.funcs, |f| f.1);
            cs.funcs.dedup_by_key(|f| f.1);
        }

        // Legacy maps.
        if let Some((idx, sname, bytes)) = legacy_maps_sec {
            let mut defs: Vec<(&str, u64)> = syms
                .iter()
                .flatten()
                .filter(|s| s.section == Some(idx) && !matches!(s.kind, SymbolKind::Section))
                .filter(|s| !s.name.is_empty())
                .map(|s| (s.name.as_str(), s.value))
                .collect();
            crate::util::sort::sort_by_key(&mut defs, |d| d.1);
            for m in elf_map::legacy_maps(&sname, &bytes, &defs, idx)? {
                spec.maps.push(m);
            }
        }

        // The object's BTF: fixed up, then BTF-defined maps.
        if let Some(bytes) = spec.btf_bytes.clone() {
            let mut btf =
                crate::btf::Btf::parse(bytes).map_err(|e| ParseError::Btf(e.to_string()))?;
            btf_maps::fixup_datasecs(&spec, &mut btf)?;
            kconfig::layout(&mut spec, &mut btf)?;
            ksyms::layout(&mut spec, &mut btf)?;
            if let Some(ext) = &spec.btf_ext_bytes {
                spec.btf_ext = Some(crate::btf::ext::BtfExt::parse(ext, &btf).map_err(
                    |e| match e {
                        crate::btf::BtfError::Ext { what, offset } => {
                            ParseError::BtfExt(format!("{what} (offset {offset})"))
                        }
                        e => ParseError::BtfExt(e.to_string()),
                    },
                )?);
            }
            if let Some(idx) = btf_maps_sec {
                let btf_maps = btf_maps::btf_maps(&btf, idx)?;
                spec.maps.extend(btf_maps);
            }
            btf_maps::set_data_value_types(&btf, &mut spec.maps);
            let hidden: Vec<&str> = syms
                .iter()
                .flatten()
                .filter(|s| s.hidden && s.global && s.kind == SymbolKind::Text)
                .map(|s| s.name.as_str())
                .collect();
            func_linkage::hidden_funcs_static(&mut btf, &hidden)?;
            spec.btf = Some(btf);
        } else if btf_maps_sec.is_some() {
            return Err(sec_err(".maps", "BTF-defined maps need a .BTF section"));
        }

        // Programs.
        for (ci, cs) in spec.code.iter().enumerate() {
            if cs.name == ".text" {
                continue;
            }
            let kind = section::prog_kind(&cs.name);
            for (fname, start, len) in &cs.funcs {
                // Only global functions are programs; static ones in a program
                // section are subprograms (libbpf's rule).
                let is_global = syms
                    .iter()
                    .flatten()
                    .any(|s| s.name == *fname && s.global && s.section == Some(cs.elf_index));
                if !is_global && cs.funcs.len() > 1 {
                    continue;
                }
                spec.programs.push(ProgramSpec {
                    name: fname.clone(),
                    section: cs.name.clone(),
                    kind: kind.clone(),
                    code: ci,
                    start: *start,
                    len: *len,
                    autoload: true,
                });
            }
        }

        // `.struct_ops*` variables: maps whose members point at programs.
        struct_ops::collect(&mut spec, &elf, &syms)?;

        // Relocations of code sections (and of `.maps`, for initial slots).
        for sec in elf.sections() {
            let idx = sec.index().0;
            if let Some(&ci) = code_by_elf.get(&idx) {
                for (off, rel) in sec.relocations() {
                    spec.resolve_code_reloc(ci, off, &rel, &syms, &data_by_elf)?;
                }
            } else if Some(idx) == btf_maps_sec {
                for (off, rel) in sec.relocations() {
                    spec.resolve_map_slot(off, &rel, &syms, idx, &code_by_elf)?;
                }
            }
        }
        log::debug!(
            "object {name}: {} programs, {} maps, {} code sections",
            spec.programs.len(),
            spec.maps.len(),
            spec.code.len()
        );
        Ok(spec)
    }

    fn resolve_code_reloc(
        &mut self,
        ci: usize,
        off: u64,
        rel: &object::Relocation,
        syms: &[Option<Sym>],
        data_by_elf: &HashMap<usize, usize>,
    ) -> Result<(), ParseError> {
        let sec_name = self.code[ci].name.clone();
        let insn_idx = (off / 8) as usize;
        let sym_idx = match rel.target() {
            object::RelocationTarget::Symbol(s) => s.0,
            _ => {
                return Err(ParseError::Reloc {
                    section: sec_name,
                    insn: insn_idx,
                    symbol: "?".into(),
                    reason: "relocation without a symbol".into(),
                })
            }
        };
        let sym = syms.get(sym_idx).and_then(|s| s.as_ref());
        let sym_name = sym
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("#{sym_idx}"));
        let err = |reason: String| ParseError::Reloc {
            section: sec_name.clone(),
            insn: insn_idx,
            symbol: sym_name.clone(),
            reason,
        };
        let r_type = match rel.flags() {
            object::RelocationFlags::Elf { r_type } => r_type,
            _ => 0,
        };
        if matches!(r_type, R_BPF_64_ABS64 | R_BPF_64_ABS32 | R_BPF_64_NODYLD32) {
            // Data relocations inside code (DWARF-like); nothing to do.
            return Ok(());
        }
        if !matches!(r_type, R_BPF_64_64 | R_BPF_64_32) {
            return Err(err(format!("unsupported relocation type {r_type}")));
        }
        if off % 8 != 0 {
            return Err(err(format!("offset {off:#x} is not instruction-aligned")));
        }
        let Some(sym) = sym else {
            return Err(err("symbol index out of range".into()));
        };
        let cs = &self.code[ci];
        let Some(insn) = cs.insns.get(insn_idx).copied() else {
            return Err(err(format!("offset {off:#x} is past the section's end")));
        };
        let is_extern = sym.section.is_none() && self.externs.iter().any(|e| e.name == sym.name);
        let reloc = if is_extern && insn.code == crate::abi::insn::CALL {
            // A kfunc call.
            if self.externs.iter().any(|e| e.name == sym.name && e.kconfig) {
                return Err(err("call of a .kconfig extern".into()));
            }
            Reloc::Ksym {
                name: sym.name.clone(),
            }
        } else if !is_extern
            && (insn.is_pseudo_call() || (insn.is_ld_imm64() && sym.kind == SymbolKind::Text))
            || (insn.is_ld_imm64()
                && sym
                    .section
                    .is_some_and(|s| self.code.iter().any(|c| c.elf_index == s)))
        {
            // Call or function pointer into a code section.
            if insn.is_ld_imm64() && cs.insns.get(insn_idx + 1).is_none() {
                return Err(err("ld_imm64 is truncated".into()));
            }
            let tsec = sym
                .section
                .and_then(|s| self.code.iter().position(|c| c.elf_index == s))
                .ok_or_else(|| err("call target is not in a code section".into()))?;
            let base = (sym.value / 8) as i64;
            let target = if insn.is_ld_imm64() {
                base + (insn.imm as i64) / 8
            } else if insn.code == crate::abi::insn::CALL {
                base + insn.imm as i64 + 1
            } else {
                return Err(err("relocated call is not a call".into()));
            };
            let n = self.code[tsec].insns.len() as i64;
            if target < 0 || target >= n {
                return Err(err(format!("call target {target} is outside section")));
            }
            Reloc::Func {
                sec: tsec,
                insn: target as usize,
            }
        } else if insn.is_ld_imm64() {
            if cs.insns.get(insn_idx + 1).is_none() {
                return Err(err("ld_imm64 is truncated".into()));
            }
            match sym.section {
                None => {
                    let ext = self.externs.iter().find(|e| e.name == sym.name);
                    match ext {
                        Some(e) if e.kconfig => Reloc::Kconfig {
                            name: e.name.clone(),
                        },
                        Some(e) => Reloc::Ksym {
                            name: e.name.clone(),
                        },
                        None => return Err(err("relocation against an undefined symbol".into())),
                    }
                }
                Some(s) => {
                    if let Some(&m) = data_by_elf.get(&s) {
                        let base = if sym.kind == SymbolKind::Section {
                            0
                        } else {
                            sym.value
                        };
                        // In i128: a symbol value near 2^64 must not overflow.
                        let offset = base as i128 + insn.imm as i128;
                        let size = self.maps[m].value_size as i128;
                        if offset < 0 || offset > size {
                            return Err(err(format!(
                                "offset {offset} is outside {} (size {size})",
                                self.maps[m].section
                            )));
                        }
                        Reloc::MapValue {
                            map: m,
                            offset: offset as u32,
                        }
                    } else if let Some(m) = self
                        .maps
                        .iter()
                        .position(|m| m.elf_section == Some(s) && m.sec_offset == sym.value)
                    {
                        Reloc::Map { map: m }
                    } else {
                        return Err(err(
                            "ld_imm64 of a symbol that is neither map nor data".into()
                        ));
                    }
                }
            }
        } else {
            return Err(err(format!(
                "relocation on an unexpected instruction {insn:?}"
            )));
        };
        log::trace!("{sec_name}[{insn_idx}]: {reloc:?}");
        self.code[ci].relocs.insert(insn_idx, reloc);
        Ok(())
    }

    fn resolve_map_slot(
        &mut self,
        off: u64,
        rel: &object::Relocation,
        syms: &[Option<Sym>],
        maps_sec: usize,
        code_by_elf: &HashMap<usize, usize>,
    ) -> Result<(), ParseError> {
        let object::RelocationTarget::Symbol(si) = rel.target() else {
            return Err(sec_err(".maps", "relocation without a symbol"));
        };
        let Some(sym) = syms.get(si.0).and_then(|s| s.as_ref()) else {
            return Err(sec_err(".maps", "relocation symbol index out of range"));
        };
        // Which map's `values` does the offset fall into?
        let Some(mi) = self.maps.iter().position(|m| {
            m.elf_section == Some(maps_sec)
                && m.values_offset.is_some_and(|v| {
                    let start = m.sec_offset as u128 + v as u128;
                    let end = start + 8 * (m.max_entries.max(1) as u128);
                    (off as u128) >= start && (off as u128) < end
                })
        }) else {
            return Err(sec_err(
                ".maps",
                format!("relocation at {off:#x} is not in a map's values"),
            ));
        };
        let m = &self.maps[mi];
        let start = m.sec_offset as u128 + m.values_offset.unwrap_or(0) as u128;
        let slot = ((off as u128 - start) / 8) as u32;
        let target = if sym.section.is_some_and(|s| code_by_elf.contains_key(&s)) {
            SlotTarget::Program(sym.name.clone())
        } else {
            SlotTarget::Map(sym.name.clone())
        };
        log::trace!("map {} slot {slot} = {target:?}", m.name);
        self.maps[mi].init_slots.push((slot, target));
        Ok(())
    }

    /// Find a program by function name.
    pub fn program(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// Find a map by its full name or its name in the object (the variable,
    /// or the data section).
    pub fn map(&self, name: &str) -> Option<&MapSpec> {
        self.maps
            .iter()
            .find(|m| m.name == name || m.symbol == name)
    }
}

/// Which `call`/`ld_imm64` instructions refer to functions.
pub fn is_func_ref(insn: &Insn) -> bool {
    (insn.code == crate::abi::insn::CALL && insn.src() == BPF_PSEUDO_CALL)
        || (insn.code == LD_IMM64 && insn.src() == BPF_PSEUDO_FUNC)
}
