//! Before the ELF parser: an empty or truncated file is named as such, with
//! the size it would need, instead of a generic "invalid header" message.

use super::ParseError;

/// ELF64 header size.
const EHDR64: u64 = 64;
/// ELF64 section header size.
const SHDR64: u64 = 64;
/// `SHT_NOBITS`: a section without bytes in the file.
const SHT_NOBITS: u32 = 8;

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(off..off + 8)?.try_into().ok()?))
}

fn truncated(what: String, needs: u64, has: usize) -> ParseError {
    ParseError::Truncated {
        what,
        needs,
        has: has as u64,
    }
}

/// Check that `data` holds what its ELF64 little-endian header says it
/// holds: the header, the section header table and every section's bytes.
/// Files that are not ELF64 little-endian are left to the parser.
pub(crate) fn check(data: &[u8]) -> Result<(), ParseError> {
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    if !data.starts_with(b"\x7fELF") {
        return Ok(());
    }
    // EI_CLASS 2 = ELF64, EI_DATA 1 = little-endian.
    if data.get(4) != Some(&2) || data.get(5) != Some(&1) {
        return Ok(());
    }
    let len = data.len();
    if (len as u64) < EHDR64 {
        return Err(truncated("the ELF header".into(), EHDR64, len));
    }
    let (Some(shoff), Some(shentsize), Some(shnum)) =
        (u64_at(data, 0x28), u16_at(data, 0x3a), u16_at(data, 0x3c))
    else {
        return Ok(());
    };
    if shnum == 0 || u64::from(shentsize) != SHDR64 {
        return Ok(());
    }
    let table_end = u64::from(shnum)
        .checked_mul(SHDR64)
        .and_then(|n| n.checked_add(shoff));
    match table_end {
        Some(end) if end > len as u64 => {
            return Err(truncated(
                format!("the section header table ({shnum} entries at offset {shoff})"),
                end,
                len,
            ))
        }
        Some(_) => {}
        None => return Ok(()),
    }
    for i in 0..usize::from(shnum) {
        let Some(base) = usize::try_from(shoff)
            .ok()
            .and_then(|s| s.checked_add(i * SHDR64 as usize))
        else {
            return Ok(());
        };
        let (Some(ty), Some(off), Some(size)) = (
            u32_at(data, base + 4),
            u64_at(data, base + 0x18),
            u64_at(data, base + 0x20),
        ) else {
            return Ok(());
        };
        if ty == SHT_NOBITS || size == 0 {
            continue;
        }
        if let Some(end) = off.checked_add(size) {
            if end > len as u64 {
                return Err(truncated(format!("section {i}"), end, len));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/hello.bpf.o")).unwrap()
    }

    #[test]
    fn whole_file_passes() {
        check(&hello()).unwrap();
        check(b"not elf").unwrap();
    }

    #[test]
    fn empty_and_cut_files_are_named() {
        assert!(matches!(check(b""), Err(ParseError::Empty)));
        let h = hello();
        let e = check(&h[..40]).unwrap_err().to_string();
        assert_eq!(e, "truncated: the ELF header needs 64 bytes, file has 40");
        for cut in [100, h.len() / 2, h.len() - 1] {
            let e = check(&h[..cut]).unwrap_err().to_string();
            assert!(e.starts_with("truncated: "), "{e}");
            assert!(e.ends_with(&format!("file has {cut}")), "{e}");
        }
    }
}
