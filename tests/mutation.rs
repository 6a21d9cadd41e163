//! Deterministic mutation test of the whole pure pipeline (no root).
//!
//! Every committed `bpf/**/*.bpf.o` is mutated many times (bit flips,
//! interesting values, truncation, inflated ELF / section header / symbol /
//! relocation / BTF / .BTF.ext fields, section header shuffles, splices of
//! two objects) and each mutant goes through `ObjectSpec::parse` → CO-RE
//! relocation against a fixed target BTF → `link_program` for every program,
//! plus `Btf::parse` / `BtfExt::parse` on the raw sections. Each case must
//! return (Ok or Err) without panicking, within a time bound, and with its
//! peak heap use below `64 × input + 1 MiB` (measured by a counting global
//! allocator, per thread).
//!
//! Knobs (environment):
//! - `TINYBPF_MUTATION_CASES=N`: number of cases (default 12,000).
//! - `TINYBPF_MUTATION_SEED=S`: base seed (default fixed).
//! - `TINYBPF_MUTATION_CASE=I`: run only case I (to reproduce a failure).
//! - `TINYBPF_MUTATION_DUMP=DIR`: write each case's input to `DIR/case-I.bpf.o`.
//!
//! A failing case is reported with its index, object and mutation list.
//!
//! A second test feeds 3,000 objects built by the structure-aware generator
//! (`tests/common/gen_elf.rs`, shared with the `gen_object` fuzz target)
//! through the same pipeline (`TINYBPF_GEN_CASES=N`, `TINYBPF_GEN_CASE=I`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tinybpf::btf::Btf;
use tinybpf::btf::BtfExt;
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc::link::{link_program, ExtInfo};

#[path = "common/gen_elf.rs"]
mod gen_elf;

// ---------------------------------------------------------------------------
// Counting allocator: live bytes and peak, per thread (so tests running in
// parallel in this binary do not disturb each other's numbers).

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// A thread whose live heap passes this is stopped at once (the process
/// aborts after printing the case): a mutant must not take the machine down
/// before the per-case bound can be checked.
const HARD_CAP: isize = 1 << 30;

/// What the worker is doing, preformatted so the allocator can print it
/// without allocating.
static CURRENT_CASE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn over_cap(size: usize) -> ! {
    let head = format!("\nmutation: a case tried to allocate {size} bytes past the 1 GiB cap: ");
    // SAFETY: plain writes of valid buffers to stderr, then abort.
    unsafe {
        libc::write(2, head.as_ptr().cast(), head.len());
        if let Ok(c) = CURRENT_CASE.try_lock() {
            libc::write(2, c.as_ptr().cast(), c.len());
        }
        libc::write(2, b"\n".as_ptr().cast(), 1);
        libc::abort();
    }
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        if v > HARD_CAP && delta > 0 {
            l.set(0);
            over_cap(delta as usize);
        }
        l.set(v);
        let _ = PEAK.try_with(|p| {
            if v > p.get() {
                p.set(v)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f`, returning its result and the peak extra heap bytes it used.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    (out, (peak - start).max(0) as usize)
}

// ---------------------------------------------------------------------------
// PRNG.

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so neighbouring seeds diverge at once.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

// ---------------------------------------------------------------------------
// Just enough ELF64/BTF layout knowledge to aim mutations at fields. Reads
// are all checked: a mutated input may have nonsense anywhere.

fn rd16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn rd32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn rd64(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Where a field lives and how wide it is.
#[derive(Clone, Copy, Debug)]
struct Field {
    off: usize,
    width: usize,
}

#[derive(Clone, Debug)]
struct SecHdr {
    hdr_off: usize,
    name: String,
    sh_type: u32,
    offset: usize,
    size: usize,
    entsize: usize,
}

/// Section headers of a (well-formed) ELF64 little-endian object.
fn sections(b: &[u8]) -> Vec<SecHdr> {
    let mut out = Vec::new();
    let (Some(shoff), Some(shentsize), Some(shnum), Some(shstrndx)) =
        (rd64(b, 0x28), rd16(b, 0x3a), rd16(b, 0x3c), rd16(b, 0x3e))
    else {
        return out;
    };
    if shentsize != 64 || shnum > 4096 {
        return out;
    }
    let hdr = |i: usize| -> Option<(usize, u32, u32, usize, usize, usize)> {
        let o = (shoff as usize).checked_add(i.checked_mul(64)?)?;
        Some((
            o,
            rd32(b, o)?,
            rd32(b, o + 4)?,
            rd64(b, o + 24)? as usize,
            rd64(b, o + 32)? as usize,
            rd64(b, o + 56)? as usize,
        ))
    };
    let strtab = hdr(shstrndx as usize).map(|h| (h.3, h.4));
    for i in 0..shnum as usize {
        let Some((o, name_off, sh_type, offset, size, entsize)) = hdr(i) else {
            break;
        };
        let name = strtab
            .and_then(|(so, ss)| {
                let s = b.get(so..so.checked_add(ss)?)?;
                let n = s.get(name_off as usize..)?;
                let end = n.iter().position(|&c| c == 0)?;
                Some(String::from_utf8_lossy(&n[..end]).into_owned())
            })
            .unwrap_or_default();
        out.push(SecHdr {
            hdr_off: o,
            name,
            sh_type,
            offset,
            size,
            entsize,
        });
    }
    out
}

fn section_bytes<'a>(b: &'a [u8], secs: &[SecHdr], name: &str) -> Option<&'a [u8]> {
    let s = secs.iter().find(|s| s.name == name)?;
    b.get(s.offset..s.offset.checked_add(s.size)?)
}

const SHT_SYMTAB: u32 = 2;
const SHT_REL: u32 = 9;

/// Extra bytes after a BTF type record's 12-byte header.
fn btf_extra(kind: u32, vlen: usize) -> usize {
    match kind {
        1 | 14 | 17 => 4,        // INT, VAR, DECL_TAG
        3 => 12,                 // ARRAY
        4 | 5 | 15 => 12 * vlen, // STRUCT, UNION, DATASEC
        6 | 13 => 8 * vlen,      // ENUM, FUNC_PROTO
        19 => 12 * vlen,         // ENUM64
        _ => 0,
    }
}

/// Offsets (within the file) of interesting fields of this object: ELF
/// header, section headers, symbols, relocations, BTF and .BTF.ext headers,
/// BTF type records, .BTF.ext record counts. Labelled by area.
fn field_map(b: &[u8]) -> HashMap<&'static str, Vec<Field>> {
    let mut m: HashMap<&'static str, Vec<Field>> = HashMap::new();
    let mut add = |k: &'static str, off: usize, width: usize| {
        m.entry(k).or_default().push(Field { off, width })
    };
    // ELF header: e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum,
    // e_shentsize, e_shnum, e_shstrndx.
    for (o, w) in [
        (0x20, 8),
        (0x28, 8),
        (0x30, 4),
        (0x34, 2),
        (0x36, 2),
        (0x38, 2),
        (0x3a, 2),
        (0x3c, 2),
        (0x3e, 2),
    ] {
        add("elf", o, w);
    }
    let secs = sections(b);
    for s in &secs {
        // sh_name, sh_type, sh_flags, sh_offset, sh_size, sh_link, sh_info,
        // sh_addralign, sh_entsize.
        for (o, w) in [
            (0, 4),
            (4, 4),
            (8, 8),
            (24, 8),
            (32, 8),
            (40, 4),
            (44, 4),
            (48, 8),
            (56, 8),
        ] {
            add("shdr", s.hdr_off + o, w);
        }
        // (Earlier mutations may have made these headers nonsense: stay
        // within the file.)
        if s.offset.checked_add(s.size).is_none_or(|e| e > b.len()) {
            continue;
        }
        if s.sh_type == SHT_SYMTAB && s.entsize == 24 {
            for i in 0..s.size / 24 {
                let e = s.offset + i * 24;
                // st_name, st_info, st_shndx, st_value, st_size.
                for (o, w) in [(0, 4), (4, 1), (6, 2), (8, 8), (16, 8)] {
                    add("sym", e + o, w);
                }
            }
        }
        if s.sh_type == SHT_REL && s.entsize == 16 {
            for i in 0..s.size / 16 {
                let e = s.offset + i * 16;
                add("rel", e, 8);
                add("rel", e + 8, 4); // r_type
                add("rel", e + 12, 4); // r_sym
            }
        }
    }
    if let Some(btf) = secs.iter().find(|s| s.name == ".BTF") {
        let base = btf.offset;
        for o in [4, 8, 12, 16, 20] {
            add("btf_hdr", base + o, 4);
        }
        let (Some(hdr_len), Some(type_off), Some(type_len)) =
            (rd32(b, base + 4), rd32(b, base + 8), rd32(b, base + 12))
        else {
            return m;
        };
        let start = base + hdr_len as usize + type_off as usize;
        let end = start + type_len as usize;
        let mut o = start;
        while o + 12 <= end.min(b.len()) {
            let Some(info) = rd32(b, o + 4) else { break };
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            add("btf_type", o, 4); // name_off
            add("btf_vlen", o + 4, 2); // vlen
            add("btf_type", o + 7, 1); // kind + kind_flag
            add("btf_type", o + 8, 4); // size / type
            let extra = btf_extra(kind, vlen);
            for k in (0..extra).step_by(4) {
                add("btf_member", o + 12 + k, 4);
            }
            o += 12 + extra;
        }
    }
    if let Some(ext) = secs.iter().find(|s| s.name == ".BTF.ext") {
        let base = ext.offset;
        for o in [4, 8, 12, 16, 20, 24, 28] {
            add("ext_hdr", base + o, 4);
        }
        let Some(hdr_len) = rd32(b, base + 4) else {
            return m;
        };
        for sub in 0..3 {
            let (Some(off), Some(len)) =
                (rd32(b, base + 8 + sub * 8), rd32(b, base + 12 + sub * 8))
            else {
                continue;
            };
            if len == 0 {
                continue;
            }
            let s = base + hdr_len as usize + off as usize;
            let e = s + len as usize;
            add("ext_rec", s, 4); // rec_size
            let Some(rec) = rd32(b, s).filter(|r| (4..=256).contains(r)) else {
                continue;
            };
            let mut o = s + 4;
            while o + 8 <= e.min(b.len()) {
                add("ext_rec", o, 4); // sec_name_off
                add("ext_rec", o + 4, 4); // num_info
                let Some(n) = rd32(b, o + 4) else { break };
                let recs = o + 8;
                if (n as usize)
                    .checked_mul(rec as usize)
                    .and_then(|l| l.checked_add(recs))
                    .is_none_or(|end| end > e.min(b.len()))
                {
                    break;
                }
                for r in 0..n as usize {
                    for k in (0..rec as usize).step_by(4) {
                        add("ext_field", recs + r * rec as usize + k, 4);
                    }
                }
                o = recs + n as usize * rec as usize;
            }
        }
    }
    m
}

// ---------------------------------------------------------------------------
// Mutations.

const AREAS: [&str; 11] = [
    "elf",
    "shdr",
    "sym",
    "rel",
    "btf_hdr",
    "btf_type",
    "btf_vlen",
    "btf_member",
    "ext_hdr",
    "ext_rec",
    "ext_field",
];

fn interesting(rng: &mut Rng, width: usize, old: u64, len: usize) -> u64 {
    let max = if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (width * 8)) - 1
    };
    let v = match rng.below(16) {
        0 => 0,
        1 => max,
        2 => max >> 1,
        3 => (max >> 1) + 1,
        4 => len as u64,
        5 => len as u64 + 1,
        6 => (len as u64).wrapping_sub(1),
        7 => old.wrapping_mul(2),
        8 => old.wrapping_add(1 + rng.below(16) as u64),
        9 => old.wrapping_sub(1 + rng.below(16) as u64),
        10 => old.wrapping_mul(0x100),
        11 => old ^ (1 << rng.below(width * 8)),
        12 => 1,
        13 => (len as u64) * 64,
        14 => 0x7fff_fff0,
        _ => rng.next(),
    };
    v & max
}

fn write_field(b: &mut [u8], f: Field, v: u64) {
    for i in 0..f.width {
        if let Some(x) = b.get_mut(f.off + i) {
            *x = (v >> (8 * i)) as u8;
        }
    }
}

fn read_field(b: &[u8], f: Field) -> u64 {
    let mut v = 0u64;
    for i in 0..f.width {
        v |= (*b.get(f.off + i).unwrap_or(&0) as u64) << (8 * i);
    }
    v
}

/// Apply one random mutation to `b`; returns its description.
fn mutate_once(rng: &mut Rng, b: &mut Vec<u8>, other: &[u8]) -> String {
    let len = b.len();
    if len == 0 {
        b.extend_from_slice(&other[..other.len().min(64)]);
        return "refill".into();
    }
    match rng.below(12) {
        0 => {
            let n = 1 + rng.below(8);
            for _ in 0..n {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            format!("flip {n} bits")
        }
        1 => {
            let i = rng.below(len);
            let vals = [0u8, 0xff, 0x7f, 0x80, 1, 8, 12, 16, 24, 64, len as u8];
            let v = vals[rng.below(vals.len())];
            b[i] = v;
            format!("byte[{i}]={v:#x}")
        }
        2 => {
            let i = rng.below(len) & !3;
            let f = Field { off: i, width: 4 };
            let v = interesting(rng, 4, read_field(b, f), len);
            write_field(b, f, v);
            format!("u32[{i}]={v:#x}")
        }
        3 => {
            let n = rng.below(len);
            b.truncate(n);
            format!("truncate {n}")
        }
        4 => {
            // Section header shuffle: swap two headers, or duplicate one.
            let secs = sections(b);
            if secs.len() < 2 {
                return "shuffle (none)".into();
            }
            let (x, y) = (rng.below(secs.len()), rng.below(secs.len()));
            let (xo, yo) = (secs[x].hdr_off, secs[y].hdr_off);
            let hx: Vec<u8> = b[xo..xo + 64].to_vec();
            if rng.chance(30) {
                // Rename: two sections with one name.
                b.copy_within(xo..xo + 4, yo);
                format!("rename shdr {y} as {x}")
            } else if rng.chance(50) {
                let hy: Vec<u8> = b[yo..yo + 64].to_vec();
                b[xo..xo + 64].copy_from_slice(&hy);
                b[yo..yo + 64].copy_from_slice(&hx);
                format!("swap shdr {x}<->{y}")
            } else {
                b[yo..yo + 64].copy_from_slice(&hx);
                format!("dup shdr {x}->{y}")
            }
        }
        5 => {
            // Splice: prefix of this object, suffix of the other.
            let cut = rng.below(len);
            let ocut = rng.below(other.len().max(1));
            b.truncate(cut);
            b.extend_from_slice(other.get(ocut..).unwrap_or(&[]));
            format!("splice {cut}+other[{ocut}..]")
        }
        6 => {
            // Splice a chunk of the other object over a chunk of this one.
            let n = 1 + rng.below(256);
            let src = rng.below(other.len().max(1));
            let dst = rng.below(len);
            for k in 0..n {
                match (b.get_mut(dst + k), other.get(src + k)) {
                    (Some(d), Some(s)) => *d = *s,
                    _ => break,
                }
            }
            format!("overlay {n}@{dst} from other@{src}")
        }
        _ => {
            // A targeted field.
            let fields = field_map(b);
            let area = AREAS[rng.below(AREAS.len())];
            let Some(list) = fields.get(area).filter(|l| !l.is_empty()) else {
                let i = rng.below(len);
                b[i] = !b[i];
                return format!("{area} (absent): invert byte {i}");
            };
            let f = list[rng.below(list.len())];
            let old = read_field(b, f);
            let v = interesting(rng, f.width, old, len);
            write_field(b, f, v);
            format!("{area}@{}({}B) {old:#x}->{v:#x}", f.off, f.width)
        }
    }
}

// ---------------------------------------------------------------------------
// The pipeline under test.

struct Subject {
    name: String,
    bytes: Vec<u8>,
    target: Arc<Btf>,
}

/// What the loader builds from `.BTF.ext` for the linker.
fn ext_info(spec: &ObjectSpec) -> ExtInfo {
    spec.btf_ext
        .as_ref()
        .map(ExtInfo::from_btf_ext)
        .unwrap_or_default()
}

/// Touch every type of `btf` through the public API.
fn walk_btf(btf: &Btf) -> usize {
    let mut n = 0usize;
    for t in btf.iter() {
        n += t.name.len();
        let _ = t.size();
        let _ = t.ref_type();
        let _ = t.int();
        let _ = t.array();
        let _ = t.linkage();
        let _ = t.decl_tag_component();
        n += t.members().filter(|m| m.is_ok()).count();
        n += t.params().filter(|m| m.is_ok()).count();
        n += t.enumerators().filter(|m| m.is_ok()).count();
        n += t.vars().count();
        let _ = btf.resolve_size(t.id);
        let _ = btf.skip_mods_and_typedefs(t.id);
        let _ = btf.name(t.id);
    }
    let _ = btf.find_by_name("task_struct");
    let _ = btf.type_by_id(btf.len());
    let _ = btf.type_by_id(u32::MAX);
    n
}

/// The pure part of the `OpenObject` API on a parsed mutant: every global
/// set, every map resized, every program toggled. (Globals in sections over
/// 1 MiB are skipped: setting one materialises the whole section, by design
/// up to `MAX_DATA_SIZE`, which a tiny input with a huge NOBITS `.bss` would
/// turn into an allocation far above the per-case bound.)
fn open_object_api(bytes: &[u8], spec: &ObjectSpec) {
    let Ok(mut open) = tinybpf::OpenObject::from_bytes("mutant", bytes) else {
        return;
    };
    for g in &spec.globals {
        let small = spec
            .maps
            .iter()
            .filter(|m| m.section == g.section)
            .all(|m| m.value_size <= 1 << 20);
        if small && g.size <= 4096 {
            let _ = open.set_global(&g.name, &vec![0xa5; g.size as usize]);
        }
        let _ = open.set_global(&g.name, &[1]);
    }
    for m in &spec.maps {
        let _ = open.set_max_entries(&m.name, 0);
        let _ = open.set_max_entries(&m.name, u32::MAX);
    }
    for p in &spec.programs {
        let _ = open.set_autoload(&p.name, false);
    }
    let names: Vec<&str> = spec.programs.iter().map(|p| p.name.as_str()).collect();
    let _ = open.load_only(&names);
}

/// The whole pure pipeline. Returns a short outcome string (for stats).
fn pipeline(bytes: &[u8], target: &Btf) -> &'static str {
    // Raw sections, parsed on their own.
    let secs = sections(bytes);
    let own = section_bytes(bytes, &secs, ".BTF").and_then(|b| Btf::parse(b.to_vec()).ok());
    if let Some(own) = &own {
        walk_btf(own);
    }
    if let Some(ext) = section_bytes(bytes, &secs, ".BTF.ext") {
        let _ = BtfExt::parse(ext, own.as_ref().unwrap_or(target));
    }

    let mut spec = match ObjectSpec::parse("mutant", bytes) {
        Ok(s) => s,
        Err(_) => return "parse error",
    };
    open_object_api(bytes, &spec);
    if let Some(b) = &spec.btf {
        walk_btf(b);
        let _ = b.to_bytes();
    }
    let core = tinybpf::reloc::relocate(&mut spec, target);
    let ext = ext_info(&spec);
    let mut linked = 0;
    for i in 0..spec.programs.len() {
        if let Ok(l) = link_program(&spec, i, &ext) {
            let _ = tinybpf::abi::insn::Insn::encode_all(&l.insns);
            linked += 1;
        }
    }
    match (core.is_ok(), linked == spec.programs.len()) {
        (true, true) => "ok",
        (false, _) => "core error",
        (true, false) => "link error",
    }
}

fn objects() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().ends_with(".bpf.o") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf"), &mut out);
    out.sort();
    out
}

fn subjects() -> Vec<Subject> {
    let paths = objects();
    assert!(
        paths.len() >= 10,
        "expected the committed objects, found {paths:?}"
    );
    let mut out = Vec::new();
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        let s = p.to_string_lossy();
        // CO-RE test objects relocate against their .target twin; the rest
        // against their own BTF (fixed, unmutated).
        let target_path = PathBuf::from(s.replace(".bpf.o", ".target.bpf.o"));
        let target_bytes = if !s.ends_with(".target.bpf.o") && target_path.exists() {
            std::fs::read(&target_path).unwrap()
        } else {
            bytes.clone()
        };
        let target = Arc::new(Btf::from_elf(&target_bytes).unwrap_or_else(|e| {
            panic!("{}: target BTF: {e}", target_path.display());
        }));
        out.push(Subject {
            name: p
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&p)
                .display()
                .to_string(),
            bytes,
            target,
        });
    }
    out
}

const BASE_SEED: u64 = 0x7b9f_2d31_c0de_5eed;

struct Case {
    subject: usize,
    input: Vec<u8>,
    steps: Vec<String>,
}

fn make_case(subjects: &[Subject], seed: u64, index: u64) -> Case {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let subject = (index as usize) % subjects.len();
    let other = &subjects[rng.below(subjects.len())].bytes;
    let mut input = subjects[subject].bytes.clone();
    let n = 1 + (rng.below(8) / 3); // 1..=3, mostly 1
    let steps = (0..n)
        .map(|_| mutate_once(&mut rng, &mut input, other))
        .collect();
    Case {
        subject,
        input,
        steps,
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// Per-case wall-clock bound (debug build, shared 2-core machine).
const CASE_LIMIT: Duration = Duration::from_secs(5);

#[test]
fn mutated_objects_never_panic_hang_or_overallocate() {
    let subjects = subjects();
    let seed = env_u64("TINYBPF_MUTATION_SEED").unwrap_or(BASE_SEED);
    let cases: Vec<u64> = match env_u64("TINYBPF_MUTATION_CASE") {
        Some(i) => vec![i],
        None => (0..env_u64("TINYBPF_MUTATION_CASES").unwrap_or(12_000)).collect(),
    };

    // Warm up: the unmutated objects go through (and build the target BTFs'
    // lazy name indexes, which are not the mutants' allocations).
    for s in &subjects {
        let r = pipeline(&s.bytes, &s.target);
        // ambig.bpf.o (and select.bpf.o's `bad`) are ambiguous on purpose:
        // CO-RE of every relocation refuses them.
        let want = if s.name.contains("ambig") || s.name.contains("core/select.") {
            "core error"
        } else {
            "ok"
        };
        assert_eq!(r, want, "{}: unmutated object through the pipeline", s.name);
    }

    // Silence the default hook's per-panic backtrace spam; failures are
    // collected and reported together below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    // Hang detection: the cases run on a worker thread; this thread watches
    // its progress.
    let current = Arc::new(AtomicUsize::new(usize::MAX));
    let done = Arc::new(AtomicUsize::new(0));
    let subjects = Arc::new(subjects);
    let worker = {
        let (current, done, subjects) = (current.clone(), done.clone(), subjects.clone());
        let cases = cases.clone();
        std::thread::spawn(move || {
            let mut failures: Vec<String> = Vec::new();
            let mut stats: HashMap<&'static str, usize> = HashMap::new();
            let mut worst = (0f64, String::new());
            let mut slowest = (Duration::ZERO, String::new());
            for &i in &cases {
                current.store(i as usize, Ordering::SeqCst);
                let c = make_case(&subjects, seed, i);
                let s = &subjects[c.subject];
                let what = || format!("case {i} ({}: {})", s.name, c.steps.join("; "));
                {
                    let w = what();
                    let mut cur = CURRENT_CASE.lock().unwrap_or_else(|e| e.into_inner());
                    cur.clear();
                    cur.push_str(&w);
                }
                if let Ok(dir) = std::env::var("TINYBPF_MUTATION_DUMP") {
                    let _ = std::fs::write(format!("{dir}/case-{i}.bpf.o"), &c.input);
                }
                if i % 1000 == 0 || std::env::var_os("TINYBPF_MUTATION_VERBOSE").is_some() {
                    eprintln!("mutation: case {i}, live heap {}", LIVE.with(|l| l.get()));
                }
                let t0 = Instant::now();
                let (r, peak) =
                    measure(|| catch_unwind(AssertUnwindSafe(|| pipeline(&c.input, &s.target))));
                let dt = t0.elapsed();
                let limit = 64 * c.input.len() + (1 << 20);
                match r {
                    Ok(outcome) => *stats.entry(outcome).or_default() += 1,
                    Err(p) => {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures.push(format!("{}: PANIC: {msg}", what()));
                    }
                }
                if peak > limit {
                    failures.push(format!(
                        "{}: peak heap {peak} bytes > limit {limit} (input {} bytes)",
                        what(),
                        c.input.len()
                    ));
                }
                let ratio = peak as f64 / limit as f64;
                if ratio > worst.0 {
                    worst = (ratio, format!("{} ({peak} bytes)", what()));
                }
                if dt > slowest.0 {
                    slowest = (dt, what());
                }
                if dt > CASE_LIMIT {
                    failures.push(format!("{}: took {dt:?}", what()));
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
            (failures, stats, worst, slowest)
        })
    };
    let t0 = Instant::now();
    let mut last = (0, Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let d = done.load(Ordering::SeqCst);
        if d != last.0 {
            last = (d, Instant::now());
        } else if last.1.elapsed() > CASE_LIMIT * 6 {
            // (Only the index: making the case again could hang the same way.)
            let i = current.load(Ordering::SeqCst);
            let detail = CURRENT_CASE
                .try_lock()
                .map(|c| c.clone())
                .unwrap_or_default();
            std::panic::set_hook(hook);
            panic!(
                "case {i} hangs ({} s without progress; last case started: {detail}) \
                 (reproduce: TINYBPF_MUTATION_SEED={seed:#x} TINYBPF_MUTATION_CASE={i})",
                last.1.elapsed().as_secs(),
            );
        }
    }
    let (failures, stats, worst, slowest) = worker.join().expect("worker thread");
    std::panic::set_hook(hook);
    let elapsed = t0.elapsed();
    let mut stats: Vec<_> = stats.into_iter().collect();
    stats.sort();
    eprintln!(
        "mutation: {} cases over {} objects in {elapsed:.2?} (seed {seed:#x}); outcomes {stats:?}",
        cases.len(),
        subjects.len()
    );
    eprintln!(
        "mutation: highest peak heap / limit {:.3}: {}",
        worst.0, worst.1
    );
    eprintln!("mutation: slowest case {:?}: {}", slowest.0, slowest.1);
    assert!(
        failures.is_empty(),
        "{} failing case(s) (reproduce one with TINYBPF_MUTATION_SEED={seed:#x} \
         TINYBPF_MUTATION_CASE=<i>):\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The mutations must reach past the ELF parser, or they test little.
    let ok = stats
        .iter()
        .filter(|(k, _)| *k != "parse error")
        .map(|(_, v)| v)
        .sum::<usize>();
    if cases.len() >= 1000 {
        assert!(
            ok * 5 >= cases.len(),
            "only {ok} of {} mutants parsed: the mutations are too destructive",
            cases.len()
        );
    }
}

/// Objects built by the structure-aware generator (`tests/common/gen_elf.rs`,
/// shared with the `gen_object` fuzz target) from seeded PRNG bytes go
/// through the same pipeline, CO-RE against their own BTF (odd cases) or
/// the fixed target (even): no panic, bounded time and heap.
/// `TINYBPF_GEN_CASES=N` (default 3,000), `TINYBPF_GEN_CASE=I`.
#[test]
fn generated_objects_never_panic_or_overallocate() {
    let fixed = Btf::from_elf(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/bpf/tests/core/fields.target.bpf.o"
        ))
        .unwrap(),
    )
    .unwrap();
    let _ = fixed.find_by_name("task_struct");
    let cases: Vec<u64> = match env_u64("TINYBPF_GEN_CASE") {
        Some(i) => vec![i],
        None => (0..env_u64("TINYBPF_GEN_CASES").unwrap_or(3_000)).collect(),
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (mut failures, mut stats) = (Vec::new(), HashMap::<&str, usize>::new());
    let t0 = Instant::now();
    for &i in &cases {
        let mut rng = Rng::new(BASE_SEED ^ 0x6e6e ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let seed_bytes: Vec<u8> = (0..1024).map(|_| rng.next() as u8).collect();
        let bytes = gen_elf::generate(&mut gen_elf::Src::new(&seed_bytes));
        let own = (i % 2 == 1).then(|| Btf::from_elf(&bytes).ok()).flatten();
        let target = own.as_ref().unwrap_or(&fixed);
        let t = Instant::now();
        let (r, peak) = measure(|| catch_unwind(AssertUnwindSafe(|| pipeline(&bytes, target))));
        let limit = 64 * bytes.len() + (1 << 20);
        match r {
            Ok(outcome) => *stats.entry(outcome).or_default() += 1,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("generated case {i}: PANIC: {msg}"));
            }
        }
        if peak > limit {
            failures.push(format!("generated case {i}: peak heap {peak} > {limit}"));
        }
        if t.elapsed() > CASE_LIMIT {
            failures.push(format!("generated case {i}: took {:?}", t.elapsed()));
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "generated: {} cases in {:.2?}; outcomes {stats:?}",
        cases.len(),
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failing generated case(s) (reproduce with TINYBPF_GEN_CASE=<i>):\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
    // The generator must mostly build objects that parse, and some that link.
    if cases.len() >= 1000 {
        let parsed = cases.len() - stats.get("parse error").copied().unwrap_or(0);
        assert!(
            parsed * 4 >= cases.len(),
            "only {parsed} generated objects parsed"
        );
        assert!(
            stats.get("ok").copied().unwrap_or(0) * 20 >= cases.len(),
            "{stats:?}"
        );
    }
}

/// The mutation targets are where they should be: every area has fields in
/// the objects that have that kind of data.
#[test]
fn field_map_covers_every_area() {
    let subjects = subjects();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for s in subjects.iter() {
        for (k, v) in field_map(&s.bytes) {
            *seen.entry(k).or_default() += v.len();
        }
    }
    for a in AREAS {
        assert!(seen.get(a).copied().unwrap_or(0) > 0, "no {a} fields found");
    }
}

// ---------------------------------------------------------------------------
// Regressions found by mutation.

/// Rename section `from` of `bytes` to the name of section `to` (two
/// sections with one name), by pointing its sh_name at the other's.
fn rename_section(bytes: &mut [u8], from: &str, to: &str) {
    let secs = sections(bytes);
    let f = secs.iter().find(|s| s.name == from).unwrap().hdr_off;
    let t = secs.iter().find(|s| s.name == to).unwrap().hdr_off;
    let name = rd32(bytes, t).unwrap();
    bytes[f..f + 4].copy_from_slice(&name.to_le_bytes());
}

/// Two data sections named `.bss` (globals.bpf.o's `.data` renamed): data
/// maps and globals are found by section name, so such an object is
/// ambiguous. It used to parse, and then `set_global("last_len")` (offset 8
/// in the real, 12-byte `.bss`) indexed the first `.bss` map (8 bytes) out of
/// bounds and panicked. Now parsing refuses it, naming the section.
#[test]
fn duplicate_data_section_names_are_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/globals.bpf.o");
    let mut bytes = std::fs::read(path).unwrap();
    rename_section(&mut bytes, ".data", ".bss");
    let r = catch_unwind(AssertUnwindSafe(|| {
        tinybpf::OpenObject::from_bytes("dup", &bytes).map(|mut open| {
            let _ = open.set_global("last_len", &7u32.to_ne_bytes());
        })
    }));
    match r {
        Err(_) => panic!("parsing or set_global panicked on duplicate section names"),
        Ok(Ok(())) => panic!("an object with two .bss sections was accepted"),
        Ok(Err(tinybpf::Error::Parse(tinybpf::obj::ParseError::Section { section, reason }))) => {
            assert_eq!(section, ".bss");
            assert!(reason.contains("two data sections"), "{reason}");
        }
        Ok(Err(e)) => panic!("expected a section parse error, got {e}"),
    }
    // The unmodified object still parses and takes both globals.
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/globals.bpf.o")).unwrap();
    let mut open = tinybpf::OpenObject::from_bytes("globals", &bytes).unwrap();
    open.set_global("last_len", &7u32.to_ne_bytes()).unwrap();
    open.set_global("counter", &9u64.to_ne_bytes()).unwrap();
}
