//! Structure-aware generator of plausible BPF ELF objects (std only).
//!
//! Shared by `tests/mutation.rs` (fed from a seeded PRNG) and the fuzz
//! target `fuzz/fuzz_targets/gen_object.rs` (fed the fuzzer's bytes); both
//! include this file with `#[path]`. Every choice is drawn from a [`Src`]:
//! the same bytes build the same object.
//!
//! An object has 1–3 code sections with several functions each (random
//! sizes, `ld_imm64` and calls at function edges, symbol sizes sometimes one
//! instruction short or long), data sections (`.data`, `.rodata`, `.bss`)
//! with symbols of every type and binding (values sometimes near 2^63 or
//! 2^64), a legacy `maps` section, BTF-defined `.maps`, externs
//! (`.kconfig`/`.ksyms`), relocations against functions, sections, data,
//! maps, externs and bad symbol indices, and `.BTF` / `.BTF.ext` (func_info,
//! line_info, CO-RE field relocations) consistent with them, mostly.
#![allow(dead_code)]

/// The generator's source of choices: the input bytes, then zeros.
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
    /// Percent chance that [`Src::around`] gives an odd value.
    wild: u8,
}

impl<'a> Src<'a> {
    pub fn new(data: &'a [u8]) -> Src<'a> {
        Src {
            data,
            pos: 0,
            wild: 12,
        }
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }
    /// A number in `0..n` (`n` ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else {
            self.u32() as usize % n
        }
    }
    /// True with probability about `pct`%.
    pub fn chance(&mut self, pct: u8) -> bool {
        (self.u8() as u32 * 100) < (pct as u32 * 256)
    }
    /// True with this object's odd-choice probability.
    pub fn odd(&mut self) -> bool {
        self.chance(self.wild)
    }
    /// `usual` most of the time, else an interesting value around it.
    pub fn around(&mut self, usual: u64) -> u64 {
        if !self.chance(self.wild) {
            return usual;
        }
        match self.below(10) {
            0 => 0,
            1 => u64::MAX,
            2 => 1 << 63,
            3 => (1 << 63) - 8,
            4 => u64::MAX - 7,
            5 => usual.wrapping_add(8),
            6 => usual.wrapping_sub(8),
            7 => usual.wrapping_add(1),
            8 => u32::MAX as u64,
            _ => self.u64(),
        }
    }
}

// ELF constants.
pub const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;
pub const SHF_WRITE: u64 = 1;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXEC: u64 = 4;
/// Symbol types and bindings.
const STT: [u8; 5] = [0, 1, 2, 3, 4]; // NOTYPE OBJECT FUNC SECTION FILE
pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STB_WEAK: u8 = 2;

/// A section of [`write_elf`]'s output. Its index in the file is its
/// position in the list plus 3 (0 is null, 1 `.strtab`, 2 `.symtab`).
pub struct Section {
    pub name: String,
    pub ty: u32,
    pub flags: u64,
    pub data: Vec<u8>,
    /// sh_size of a NOBITS section.
    pub nobits_size: u64,
    pub link: u32,
    pub info: u32,
    pub entsize: u64,
}

impl Section {
    /// A PROGBITS section.
    pub fn progbits(name: &str, flags: u64, data: Vec<u8>) -> Section {
        Section {
            name: name.into(),
            ty: SHT_PROGBITS,
            flags,
            data,
            nobits_size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        }
    }
    /// An SHT_REL section for the section at file index `target`:
    /// `(offset, symbol index, type)` entries.
    pub fn rel(name: &str, target: u32, entries: &[(u64, u32, u32)]) -> Section {
        let mut data = Vec::new();
        for &(off, sym, ty) in entries {
            data.extend_from_slice(&off.to_le_bytes());
            data.extend_from_slice(&(((sym as u64) << 32) | ty as u64).to_le_bytes());
        }
        Section {
            name: name.into(),
            ty: SHT_REL,
            flags: 0,
            data,
            nobits_size: 0,
            link: 2,
            info: target,
            entsize: 16,
        }
    }
}

/// A symbol of [`write_elf`]'s output (index 0 must be the null symbol).
#[derive(Clone)]
pub struct Sym {
    pub name: String,
    /// `(binding << 4) | type`.
    pub info: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

/// Append `s` to a string table; its offset.
fn add_str(tab: &mut Vec<u8>, s: &str) -> u32 {
    let off = tab.len() as u32;
    tab.extend_from_slice(s.as_bytes());
    tab.push(0);
    off
}

/// One BPF instruction.
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (dst & 0xf) | (src << 4);
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}

pub const LD_IMM64: u8 = 0x18;
pub const CALL: u8 = 0x85;
pub const EXIT: u8 = 0x95;
pub const MOV64_IMM: u8 = 0xb7;
const LDXW: u8 = 0x61;
const JA: u8 = 0x05;

/// A minimal BTF writer: types in order (ids from 1), then strings.
pub struct BtfW {
    types: Vec<u8>,
    strs: Vec<u8>,
    n: u32,
}

impl BtfW {
    pub fn new() -> BtfW {
        BtfW {
            types: Vec::new(),
            strs: vec![0],
            n: 0,
        }
    }
    /// Add a string; its offset.
    pub fn s(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        add_str(&mut self.strs, s)
    }
    /// Add a type record; its id.
    pub fn ty(
        &mut self,
        name: &str,
        kind: u32,
        vlen: u32,
        size_or_type: u32,
        extra: &[u32],
    ) -> u32 {
        let name_off = self.s(name);
        for v in [name_off, (kind << 24) | (vlen & 0xffff), size_or_type] {
            self.types.extend_from_slice(&v.to_le_bytes());
        }
        for v in extra {
            self.types.extend_from_slice(&v.to_le_bytes());
        }
        self.n += 1;
        self.n
    }
    /// The `.BTF` section.
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9fu16.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strs.len() as u32,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.types);
        b.extend_from_slice(&self.strs);
        b
    }
}

const PROG_SECTIONS: [&str; 8] = [
    ".text",
    "tp/syscalls/sys_enter_execve",
    "kprobe/do_unlinkat",
    "xdp",
    "socket",
    "tracepoint/sched/sched_switch",
    "bogus/x",
    "uprobe//bin/sh:main",
];
const DATA_SECTIONS: [&str; 5] = [".data", ".rodata", ".bss", ".data.extra", ".rodata.str1.1"];

/// One function's place in a code section.
struct Func {
    sec: usize,
    sym: usize,
    start: usize,
    len: usize,
}

/// Build an object from `src`'s choices.
pub fn generate(src: &mut Src) -> Vec<u8> {
    // How odd this object is: many are clean (they reach the linker and
    // CO-RE), the rest have a few odd values each.
    src.wild = [0, 0, 0, 1, 1, 2, 3, 6][src.below(8)];
    let mut secs: Vec<Section> = Vec::new();
    let mut syms: Vec<Sym> = vec![Sym {
        name: String::new(),
        info: 0,
        shndx: 0,
        value: 0,
        size: 0,
    }];
    // Section indices: 0 null, 1 .strtab, 2 .symtab, then ours from 3.
    let first = 3u16;
    let mut btf = BtfW::new();
    let int_id = btf.ty("int", 1, 0, 4, &[(1 << 24) | 32]);
    let u8_id = btf.ty("char", 1, 0, 1, &[8]);
    let s_member_a = btf.s("a");
    let s_member_b = btf.s("b");
    let big = src.odd();
    let (st_size, b_off) = if big {
        (
            // (2^30 + 1) with index 2^31 - 2 puts a field 16 bits below 2^64.
            [(1 << 30) + 1, 1 << 29, u32::MAX, 0, 4][src.below(5)],
            src.around(32) as u32,
        )
    } else {
        (8, 32)
    };
    let st_id = btf.ty(
        "task_struct",
        4,
        2,
        st_size,
        &[s_member_a, int_id, 0, s_member_b, int_id, b_off],
    );
    let ptr_id = btf.ty("", 2, 0, st_id, &[]);
    let proto_id = btf.ty("", 13, 1, int_id, &[0, ptr_id]);

    // Code sections and their functions.
    let ncode = 1 + src.below(3);
    let mut funcs: Vec<Func> = Vec::new();
    let mut code_secs: Vec<usize> = Vec::new(); // indices into secs
    let mut insn_kinds: Vec<Vec<u8>> = Vec::new(); // per code sec, per insn: 0 plain, 1 ld_imm64, 2 call, 3 ld_imm64 second half
    for c in 0..ncode {
        let mut name = PROG_SECTIONS[src.below(PROG_SECTIONS.len())].to_string();
        if secs.iter().any(|s| s.name == name) {
            name = format!("{name}{c}");
        }
        let nfuncs = 1 + src.below(4);
        let mut data = Vec::new();
        let mut kinds = Vec::new();
        let sec_index = secs.len();
        for f in 0..nfuncs {
            let start = kinds.len();
            let body = 1 + src.below(10);
            for _ in 0..body {
                match src.below(6) {
                    0 | 1 => {
                        data.extend_from_slice(&insn(LD_IMM64, 1, 0, 0, src.around(0) as i32));
                        data.extend_from_slice(&insn(0, 0, 0, 0, 0));
                        kinds.extend_from_slice(&[1, 3]);
                    }
                    2 => {
                        let pseudo = !src.odd();
                        let imm = src.below(24) as i32 - 12;
                        data.extend_from_slice(&insn(CALL, 0, pseudo as u8, 0, imm));
                        kinds.push(2);
                    }
                    3 => {
                        data.extend_from_slice(&insn(LDXW, 0, 1, src.below(16) as i16, 0));
                        kinds.push(4);
                    }
                    4 => {
                        data.extend_from_slice(&insn(JA, 0, 0, src.below(6) as i16 - 2, 0));
                        kinds.push(0);
                    }
                    _ => {
                        data.extend_from_slice(&insn(MOV64_IMM, 0, 0, 0, src.u8() as i32));
                        kinds.push(0);
                    }
                }
            }
            // Usually end with exit; sometimes end on an ld_imm64 (its
            // second half then belongs to the next function or nothing).
            if src.chance(80) {
                data.extend_from_slice(&insn(EXIT, 0, 0, 0, 0));
                kinds.push(0);
            }
            let mut len = kinds.len() - start;
            match src.below(20) {
                // The size cuts the last instruction (maybe an ld_imm64).
                0 if len > 1 => len -= 1,
                1 if src.odd() => len += 1,
                _ => {}
            }
            let fname = format!("f{c}_{f}");
            let bind = match src.below(4) {
                0 => STB_LOCAL,
                1 => STB_WEAK,
                _ => STB_GLOBAL,
            };
            let ty = if src.chance(90) { 2 } else { STT[src.below(5)] };
            syms.push(Sym {
                name: fname.clone(),
                info: (bind << 4) | ty,
                shndx: first + sec_index as u16,
                value: src.around(start as u64 * 8),
                size: src.around(len as u64 * 8),
            });
            funcs.push(Func {
                sec: c,
                sym: syms.len() - 1,
                start,
                len,
            });
            btf.ty(&fname, 12, (bind != STB_LOCAL) as u32, proto_id, &[]);
        }
        if src.chance(2) && !data.is_empty() {
            // A section whose size is not a multiple of 8.
            data.pop();
        }
        // A section symbol for the code section.
        syms.push(Sym {
            name: String::new(),
            info: 3,
            shndx: first + sec_index as u16,
            value: 0,
            size: 0,
        });
        secs.push(Section {
            name,
            ty: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_EXEC,
            data,
            nobits_size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        });
        code_secs.push(sec_index);
        insn_kinds.push(kinds);
    }

    // Data sections with variables of every symbol type and binding.
    let mut data_syms: Vec<usize> = Vec::new();
    let mut data_sec_syms: Vec<usize> = Vec::new();
    let ndata = src.below(4);
    let mut used = Vec::new();
    for _ in 0..ndata {
        let name = DATA_SECTIONS[src.below(DATA_SECTIONS.len())];
        if used.contains(&name) && !src.chance(5) {
            continue;
        }
        used.push(name);
        let size = 8 + src.below(56) as u64;
        let sec_index = secs.len();
        let bss = name.starts_with(".bss");
        let mut vars = Vec::new();
        let nvars = src.below(4);
        for v in 0..nvars {
            let vsize = 1 + src.below(8) as u64;
            let off = if size > vsize {
                src.below((size - vsize + 1) as usize) as u64
            } else {
                0
            };
            let vname = format!("{}_v{v}", name.trim_start_matches('.').replace('.', "_"));
            let ty = [0u8, 1, 1, 1, 3, 4][src.below(6)];
            let bind = [STB_LOCAL, STB_GLOBAL, STB_GLOBAL, STB_WEAK][src.below(4)];
            syms.push(Sym {
                name: if ty == 3 {
                    String::new()
                } else {
                    vname.clone()
                },
                info: (bind << 4) | ty,
                shndx: first + sec_index as u16,
                value: src.around(off),
                size: src.around(vsize),
            });
            data_syms.push(syms.len() - 1);
            let var_id = btf.ty(&vname, 14, 0, int_id, &[1]);
            vars.extend_from_slice(&[var_id, off as u32, vsize as u32]);
        }
        syms.push(Sym {
            name: String::new(),
            info: 3,
            shndx: first + sec_index as u16,
            value: 0,
            size: 0,
        });
        data_sec_syms.push(syms.len() - 1);
        btf.ty(
            name,
            15,
            (vars.len() / 3) as u32,
            src.around(0) as u32,
            &vars,
        );
        let data = if bss {
            Vec::new()
        } else {
            (0..size).map(|_| src.u8()).collect()
        };
        secs.push(Section {
            name: name.to_string(),
            ty: if bss { SHT_NOBITS } else { SHT_PROGBITS },
            flags: SHF_ALLOC
                | if name.starts_with(".rodata") {
                    0
                } else {
                    SHF_WRITE
                },
            data,
            nobits_size: src.around(size),
            link: 0,
            info: 0,
            entsize: 0,
        });
    }

    // Legacy maps.
    let mut map_syms: Vec<usize> = Vec::new();
    if src.chance(40) {
        let sec_index = secs.len();
        let n = 1 + src.below(3);
        let mut data = Vec::new();
        for m in 0..n {
            for v in [
                1 + src.below(30) as u32,
                4,
                4 << src.below(4),
                src.around(16) as u32,
                0,
            ] {
                data.extend_from_slice(&v.to_le_bytes());
            }
            syms.push(Sym {
                name: format!("legacy_map{m}"),
                info: (STB_GLOBAL << 4) | 1,
                shndx: first + sec_index as u16,
                value: src.around(m as u64 * 20),
                size: 20,
            });
            map_syms.push(syms.len() - 1);
        }
        secs.push(Section {
            name: "maps".into(),
            ty: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_WRITE,
            data,
            nobits_size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        });
    }

    // BTF-defined maps in `.maps`.
    let mut maps_sec: Option<usize> = None;
    if src.chance(50) {
        let sec_index = secs.len();
        let n = 1 + src.below(3);
        let mut vars = Vec::new();
        let idx_id = int_id;
        for m in 0..n {
            let mut members = Vec::new();
            let mut off = 0u32;
            let mut attr = |btf: &mut BtfW, name: &str, val: u32| {
                let arr = btf.ty("", 3, 0, 0, &[int_id, idx_id, val]);
                let p = btf.ty("", 2, 0, arr, &[]);
                let n = btf.s(name);
                members.extend_from_slice(&[n, p, off]);
                off += 64;
            };
            attr(&mut btf, "type", [1, 2, 3, 27][src.below(4)]);
            attr(&mut btf, "max_entries", src.around(4) as u32);
            if src.chance(80) {
                attr(&mut btf, "key_size", 4);
                attr(&mut btf, "value_size", src.around(8) as u32);
            }
            let nm = (members.len() / 3) as u32;
            let st = btf.ty("", 4, nm, off / 8, &members);
            let name = format!("btf_map{m}");
            let var = btf.ty(&name, 14, 0, st, &[1]);
            vars.extend_from_slice(&[var, m as u32 * off / 8, off / 8]);
            syms.push(Sym {
                name,
                info: (STB_GLOBAL << 4) | 1,
                shndx: first + sec_index as u16,
                value: src.around(m as u64 * (off / 8) as u64),
                size: (off / 8) as u64,
            });
            map_syms.push(syms.len() - 1);
        }
        let total: u32 = vars.chunks(3).map(|v| v[2]).sum();
        btf.ty(".maps", 15, n as u32, total, &vars);
        secs.push(Section {
            name: ".maps".into(),
            ty: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_WRITE,
            data: vec![0; total as usize],
            nobits_size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        });
        maps_sec = Some(sec_index);
    }

    // Externs: undefined globals, some described by a .kconfig / .ksyms
    // DATASEC.
    let mut extern_syms = Vec::new();
    let nextern = src.below(3);
    let mut kvars = Vec::new();
    for e in 0..nextern {
        let name = [
            "CONFIG_HZ",
            "LINUX_KERNEL_VERSION",
            "bpf_ksym",
            "CONFIG_X86",
        ][src.below(4)];
        let name = format!(
            "{name}{}",
            if e > 0 { e.to_string() } else { String::new() }
        );
        let bind = if src.chance(50) { STB_WEAK } else { STB_GLOBAL };
        syms.push(Sym {
            name: name.clone(),
            info: (bind << 4) | if src.odd() { [1u8, 2][src.below(2)] } else { 0 },
            shndx: 0,
            value: 0,
            size: 0,
        });
        extern_syms.push(syms.len() - 1);
        let ty = if src.chance(70) { int_id } else { u8_id };
        let var = btf.ty(&name, 14, 0, ty, &[2]);
        kvars.extend_from_slice(&[var, 0, 4]);
    }
    if !kvars.is_empty() {
        let sec = if src.chance(70) { ".kconfig" } else { ".ksyms" };
        btf.ty(sec, 15, (kvars.len() / 3) as u32, 0, &kvars);
    }

    // License.
    secs.push(Section {
        name: "license".into(),
        ty: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_WRITE,
        data: if src.chance(99) {
            b"GPL\0".to_vec()
        } else {
            b"GPL".to_vec()
        },
        nobits_size: 0,
        link: 0,
        info: 0,
        entsize: 0,
    });

    // Relocations of each code section.
    let func_syms: Vec<usize> = funcs.iter().map(|f| f.sym).collect();
    let code_sec_syms: Vec<usize> = (0..syms.len())
        .filter(|&i| {
            syms[i].info == 3 && code_secs.iter().any(|&c| syms[i].shndx == first + c as u16)
        })
        .collect();
    let nsyms = syms.len();
    let mut rels: Vec<(usize, Vec<u8>)> = Vec::new();
    for (c, kinds) in insn_kinds.iter().enumerate() {
        let mut rel = Vec::new();
        let starts: Vec<usize> = funcs
            .iter()
            .filter(|f| f.sec == c)
            .map(|f| f.start)
            .collect();
        let data = &mut secs[code_secs[c]].data;
        let mut set_imm = |i: usize, imm: i32| {
            if let Some(b) = data.get_mut(i * 8 + 4..i * 8 + 8) {
                b.copy_from_slice(&imm.to_le_bytes());
            }
        };
        for (i, &k) in kinds.iter().enumerate() {
            let wanted = match k {
                1 => src.chance(80),
                2 => src.chance(60),
                _ => src.odd(),
            };
            if !wanted {
                if k == 2 && !starts.is_empty() && !src.odd() {
                    // An unrelocated call within the section: aim it at a
                    // function start, as clang does for static callees.
                    let t = starts[src.below(starts.len())] as i32;
                    set_imm(i, t - i as i32 - 1);
                }
                continue;
            }
            let pick = |src: &mut Src, v: &[usize]| -> Option<usize> {
                (!v.is_empty()).then(|| v[src.below(v.len())])
            };
            let choice = if k == 2 && !src.odd() {
                0
            } else {
                src.below(7)
            };
            let (sym, imm) = match choice {
                1 => {
                    // A code section symbol: the function's offset in imm.
                    let s = pick(src, &code_sec_syms);
                    let t = starts
                        .get(src.below(starts.len().max(1)))
                        .copied()
                        .unwrap_or(0);
                    (s, (t * 8) as i32)
                }
                2 => (pick(src, &data_syms), src.below(8) as i32),
                3 => (pick(src, &data_sec_syms), src.below(16) as i32),
                4 => (pick(src, &map_syms), 0),
                5 => (pick(src, &extern_syms), 0),
                6 if src.odd() => (Some(src.below(nsyms + 2)), 0),
                _ => (pick(src, &func_syms), if k == 2 { -1 } else { 0 }),
            };
            let sym = sym.or_else(|| pick(src, &func_syms)).unwrap_or(0);
            let imm = src.around(imm as u64) as i32;
            set_imm(i, imm);
            let r_type: u64 = match k {
                _ if src.odd() => [2, 3, 4, 7, 0][src.below(5)],
                2 => 10,
                _ => 1,
            };
            let off = src.around(i as u64 * 8);
            rel.extend_from_slice(&off.to_le_bytes());
            rel.extend_from_slice(&(((sym as u64) << 32) | r_type).to_le_bytes());
        }
        rels.push((code_secs[c], rel));
    }
    // `.maps` slot relocations (program arrays): rarely.
    if let Some(ms) = maps_sec {
        if src.odd() && !func_syms.is_empty() {
            let mut rel = Vec::new();
            let sym = func_syms[src.below(func_syms.len())];
            rel.extend_from_slice(&src.around(32).to_le_bytes());
            rel.extend_from_slice(&(((sym as u64) << 32) | 2).to_le_bytes());
            rels.push((ms, rel));
        }
    }

    // .BTF.ext: func_info, line_info, CO-RE relocations per code section.
    let btf_bytes;
    let mut ext_sub: [Vec<u8>; 3] = [
        8u32.to_le_bytes().to_vec(),
        16u32.to_le_bytes().to_vec(),
        16u32.to_le_bytes().to_vec(),
    ];
    let access = if big || src.odd() {
        // Huge indexes: offsets near 2^64 bits.
        [
            "4294967295:1",
            "536870911:1",
            "0:4294967295",
            "2147483646:1",
            "0:1:0",
            "x",
        ][src.below(6)]
    } else {
        ["0:1", "0:0", "0", "1:0", "2:1"][src.below(5)]
    };
    let access = btf.s(access);
    let file = btf.s("gen.bpf.c");
    let func_type_base = proto_id + 1;
    for (c, &si) in code_secs.iter().enumerate() {
        let sname = btf.s(&secs[si].name);
        let fs: Vec<&Func> = funcs.iter().filter(|f| f.sec == c).collect();
        // func_info.
        ext_sub[0].extend_from_slice(&sname.to_le_bytes());
        ext_sub[0].extend_from_slice(&(fs.len() as u32).to_le_bytes());
        for (k, f) in fs.iter().enumerate() {
            let off = src.around(f.start as u64 * 8) as u32;
            let tid =
                func_type_base + funcs.iter().position(|g| std::ptr::eq(g, *f)).unwrap_or(k) as u32;
            ext_sub[0].extend_from_slice(&off.to_le_bytes());
            ext_sub[0].extend_from_slice(&src.around(tid as u64).to_le_bytes()[..4]);
        }
        // line_info.
        let nl = src.below(4);
        if nl > 0 || src.chance(2) {
            ext_sub[1].extend_from_slice(&sname.to_le_bytes());
            ext_sub[1].extend_from_slice(&(nl as u32).to_le_bytes());
        }
        for _ in 0..nl {
            let at = src.below(insn_kinds[c].len() + 1) as u64 * 8;
            let off = src.around(at) as u32;
            for v in [off, file, file, (src.below(100) as u32) << 10] {
                ext_sub[1].extend_from_slice(&v.to_le_bytes());
            }
        }
        // CO-RE: field relocations on LDX instructions (or anything).
        let nr = src.below(3);
        if nr > 0 || src.chance(2) {
            ext_sub[2].extend_from_slice(&sname.to_le_bytes());
            ext_sub[2].extend_from_slice(&(nr as u32).to_le_bytes());
        }
        let ldx: Vec<usize> = (0..insn_kinds[c].len())
            .filter(|&i| insn_kinds[c][i] == 4)
            .collect();
        for _ in 0..nr {
            let at = if !ldx.is_empty() && src.chance(80) {
                ldx[src.below(ldx.len())] as u64 * 8
            } else {
                src.below(insn_kinds[c].len() + 1) as u64 * 8
            };
            let off = src.around(at) as u32;
            let kind = if src.chance(80) {
                0
            } else {
                src.below(14) as u32
            };
            for v in [off, src.around(st_id as u64) as u32, access, kind] {
                ext_sub[2].extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    if src.chance(90) {
        btf_bytes = btf.bytes();
        secs.push(Section {
            name: ".BTF".into(),
            ty: SHT_PROGBITS,
            flags: 0,
            data: btf_bytes,
            nobits_size: 0,
            link: 0,
            info: 0,
            entsize: 0,
        });
        if src.chance(90) {
            let mut ext = Vec::new();
            ext.extend_from_slice(&0xeb9fu16.to_le_bytes());
            ext.extend_from_slice(&[1, 0]);
            let mut off = 0u32;
            let mut hdr = vec![32u32];
            for s in &ext_sub {
                hdr.extend_from_slice(&[off, s.len() as u32]);
                off += s.len() as u32;
            }
            for v in hdr {
                ext.extend_from_slice(&v.to_le_bytes());
            }
            for s in &ext_sub {
                ext.extend_from_slice(s);
            }
            secs.push(Section {
                name: ".BTF.ext".into(),
                ty: SHT_PROGBITS,
                flags: 0,
                data: ext,
                nobits_size: 0,
                link: 0,
                info: 0,
                entsize: 0,
            });
        }
    }

    // Relocation sections.
    for (target, rel) in rels {
        if rel.is_empty() {
            continue;
        }
        let name = format!(".rel{}", secs[target].name);
        secs.push(Section {
            name,
            ty: SHT_REL,
            flags: 0,
            data: rel,
            nobits_size: 0,
            link: 2,
            info: first as u32 + target as u32,
            entsize: 16,
        });
    }

    // sh_info of .symtab: one past the leading run of locals.
    let first_global = syms
        .iter()
        .position(|s| s.info >> 4 != STB_LOCAL)
        .unwrap_or(syms.len()) as u32;

    write_elf(secs, &syms, first_global)
}

/// Lay out a BPF ELF file: header, section contents, section headers.
/// `first_global` is `.symtab`'s sh_info.
pub fn write_elf(secs: Vec<Section>, syms: &[Sym], first_global: u32) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let strtab_name = add_str(&mut strtab, ".strtab");
    let symtab_name = add_str(&mut strtab, ".symtab");
    let sec_names: Vec<u32> = secs.iter().map(|s| add_str(&mut strtab, &s.name)).collect();
    let mut symtab = Vec::new();
    for s in syms {
        let n = if s.name.is_empty() {
            0
        } else {
            add_str(&mut strtab, &s.name)
        };
        symtab.extend_from_slice(&n.to_le_bytes());
        symtab.push(s.info);
        symtab.push(0);
        symtab.extend_from_slice(&s.shndx.to_le_bytes());
        symtab.extend_from_slice(&s.value.to_le_bytes());
        symtab.extend_from_slice(&s.size.to_le_bytes());
    }
    let mut out = vec![0u8; 64];
    let mut hdrs: Vec<[u64; 10]> = vec![[0; 10]];
    let mut put = |out: &mut Vec<u8>,
                   name: u32,
                   ty: u32,
                   flags: u64,
                   data: &[u8],
                   size: Option<u64>,
                   link: u32,
                   info: u32,
                   entsize: u64| {
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let off = out.len() as u64;
        out.extend_from_slice(data);
        hdrs.push([
            name as u64,
            ty as u64,
            flags,
            0,
            off,
            size.unwrap_or(data.len() as u64),
            link as u64,
            info as u64,
            8,
            entsize,
        ]);
    };
    put(&mut out, strtab_name, SHT_STRTAB, 0, &strtab, None, 0, 0, 0);
    put(
        &mut out,
        symtab_name,
        SHT_SYMTAB,
        0,
        &symtab,
        None,
        1,
        first_global,
        24,
    );
    for (s, &n) in secs.iter().zip(&sec_names) {
        let size = (s.ty == SHT_NOBITS).then_some(s.nobits_size);
        put(
            &mut out, n, s.ty, s.flags, &s.data, size, s.link, s.info, s.entsize,
        );
    }
    while out.len() % 8 != 0 {
        out.push(0);
    }
    let shoff = out.len() as u64;
    for h in &hdrs {
        out.extend_from_slice(&(h[0] as u32).to_le_bytes());
        out.extend_from_slice(&(h[1] as u32).to_le_bytes());
        for v in &h[2..6] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(h[6] as u32).to_le_bytes());
        out.extend_from_slice(&(h[7] as u32).to_le_bytes());
        out.extend_from_slice(&h[8].to_le_bytes());
        out.extend_from_slice(&h[9].to_le_bytes());
    }
    // ELF header.
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\x7fELF");
    h.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, SYSV
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
    h.extend_from_slice(&247u16.to_le_bytes()); // EM_BPF
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes()); // entry
    h.extend_from_slice(&0u64.to_le_bytes()); // phoff
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // flags
    h.extend_from_slice(&64u16.to_le_bytes()); // ehsize
    h.extend_from_slice(&0u16.to_le_bytes()); // phentsize
    h.extend_from_slice(&0u16.to_le_bytes()); // phnum
    h.extend_from_slice(&64u16.to_le_bytes()); // shentsize
    h.extend_from_slice(&(hdrs.len() as u16).to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // shstrndx: .strtab
    out[..64].copy_from_slice(&h);
    out
}
