//! `.note.stapsdt` of an ELF file → USDT probe sites (pure: over the file's
//! bytes).
//!
//! Each SystemTap SDT note (owner `stapsdt`, type 3) holds the probe's
//! address, the link-time address of `.stapsdt.base`, the semaphore's
//! address (0: none), then NUL-terminated provider, name and argument
//! strings. Addresses are adjusted by how far `.stapsdt.base` moved (a
//! prelinked file) and turned into file offsets through the `PT_LOAD`
//! program headers: the uprobe offset and the `ref_ctr_offset` the kernel
//! wants.

use super::arg::{parse_args, UsdtArg};
use super::UsdtError;
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::Endianness;

/// `NT_STAPSDT`.
const NT_STAPSDT: u32 = 3;

/// One probe site of a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsdtProbe {
    /// The provider (first part of `provider:name`).
    pub provider: String,
    /// The probe's name.
    pub name: String,
    /// The probe's address in the file's address space (after the
    /// `.stapsdt.base` adjustment).
    pub address: u64,
    /// File offset of the probe instruction: where the uprobe goes.
    pub offset: u64,
    /// File offset of the semaphore (`ref_ctr_offset`), 0 when there is none.
    pub semaphore_offset: u64,
    /// The argument string as written in the note (`-4@%edi 8@-16(%rbp)`).
    pub args_text: String,
    /// The arguments, parsed.
    pub args: Vec<UsdtArg>,
}

type Segment = (u64, u64, u64); // (vaddr, filesz, offset)

fn to_offset(loads: &[Segment], addr: u64) -> Option<u64> {
    loads.iter().find_map(|&(va, sz, off)| {
        let d = addr.checked_sub(va)?;
        (d < sz).then(|| off.checked_add(d)).flatten()
    })
}

fn elf_err(e: object::read::Error) -> UsdtError {
    UsdtError::Elf(e.to_string())
}

/// Every USDT probe of the 64-bit little-endian ELF file `data`, in note
/// order. A file without `.note.stapsdt` has none (an empty list).
pub fn parse_probes(data: &[u8]) -> Result<Vec<UsdtProbe>, UsdtError> {
    let header = elf::FileHeader64::<Endianness>::parse(data).map_err(elf_err)?;
    let endian = header.endian().map_err(elf_err)?;
    if header.e_machine(endian) != elf::EM_X86_64 {
        return Err(UsdtError::Elf(format!(
            "machine {} is not x86-64: only x86-64 USDT arguments are understood",
            header.e_machine(endian)
        )));
    }
    let sections = header.sections(endian, data).map_err(elf_err)?;
    let mut loads = Vec::new();
    for ph in header.program_headers(endian, data).map_err(elf_err)? {
        if ph.p_type(endian) == elf::PT_LOAD {
            loads.push((ph.p_vaddr(endian), ph.p_filesz(endian), ph.p_offset(endian)));
        }
    }
    let mut base_addr = None;
    let mut notes: Option<&[u8]> = None;
    for s in sections.iter() {
        let name = sections.section_name(endian, s).map_err(elf_err)?;
        match name {
            b".stapsdt.base" => base_addr = Some(s.sh_addr(endian)),
            b".note.stapsdt" => notes = Some(s.data(endian, data).map_err(elf_err)?),
            _ => {}
        }
    }
    let Some(mut rest) = notes else {
        return Ok(Vec::new());
    };
    let bad = |what: &str| UsdtError::Note(what.to_string());
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let c = b.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    };
    let pad4 = |n: usize| n.checked_add(3).map(|v| v & !3);
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (namesz, descsz, ntype) = match (u32_at(rest, 0), u32_at(rest, 4), u32_at(rest, 8)) {
            (Some(a), Some(b), Some(c)) => (a as usize, b as usize, c),
            _ => return Err(bad("truncated note header")),
        };
        let name_end = 12usize
            .checked_add(pad4(namesz).ok_or_else(|| bad("note name size"))?)
            .ok_or_else(|| bad("note name size"))?;
        let desc_end = name_end
            .checked_add(pad4(descsz).ok_or_else(|| bad("note size"))?)
            .ok_or_else(|| bad("note size"))?;
        if desc_end > rest.len() || name_end.checked_add(descsz).is_none_or(|e| e > rest.len()) {
            return Err(bad("note runs past its section"));
        }
        let name = &rest[12..12 + namesz];
        let desc = &rest[name_end..name_end + descsz];
        rest = &rest[desc_end..];
        if ntype != NT_STAPSDT || name.split(|&b| b == 0).next() != Some(b"stapsdt") {
            continue;
        }
        out.push(one(desc, base_addr, &loads)?);
    }
    Ok(out)
}

fn one(desc: &[u8], base_addr: Option<u64>, loads: &[Segment]) -> Result<UsdtProbe, UsdtError> {
    let bad = |what: String| UsdtError::Note(what);
    if desc.len() < 24 {
        return Err(bad(format!("stapsdt note of {} bytes (< 24)", desc.len())));
    }
    let u64_at = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&desc[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let (mut pc, note_base, mut sema) = (u64_at(0), u64_at(8), u64_at(16));
    let mut strs = desc[24..].split(|&b| b == 0);
    let mut next = |what: &str| -> Result<String, UsdtError> {
        let s = strs
            .next()
            .ok_or_else(|| bad(format!("stapsdt note without {what}")))?;
        String::from_utf8(s.to_vec()).map_err(|_| bad(format!("{what} is not UTF-8")))
    };
    let provider = next("provider")?;
    let name = next("name")?;
    let args_text = next("arguments").unwrap_or_default();
    // A prelinked file moved .stapsdt.base; move the addresses with it.
    if let (Some(actual), true) = (base_addr, note_base != 0) {
        let delta = actual.wrapping_sub(note_base);
        pc = pc.wrapping_add(delta);
        if sema != 0 {
            sema = sema.wrapping_add(delta);
        }
    }
    let site = format!("{provider}:{name}");
    let offset = to_offset(loads, pc).unwrap_or(pc);
    let semaphore_offset = if sema == 0 {
        0
    } else {
        to_offset(loads, sema).ok_or_else(|| {
            bad(format!(
                "{site}: semaphore address {sema:#x} is in no loaded segment"
            ))
        })?
    };
    let args = parse_args(&args_text).map_err(|e| UsdtError::Arg {
        probe: site.clone(),
        spec: args_text.clone(),
        reason: e,
    })?;
    Ok(UsdtProbe {
        provider,
        name,
        address: pc,
        offset,
        semaphore_offset,
        args_text,
        args,
    })
}
