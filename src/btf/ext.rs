//! `.BTF.ext`: func_info, line_info and CO-RE relocation records, grouped by
//! the ELF section (program) they apply to.

use super::{Btf, BtfError, BTF_MAGIC};

/// `struct bpf_func_info`. `insn_off` is in bytes within the section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Offset of the instruction the record describes (bytes in `.BTF.ext`; see the struct docs).
    pub insn_off: u32,
    /// BTF type id: the FUNC (func_info) or the local root type (CO-RE).
    pub type_id: u32,
}

/// `struct bpf_line_info`. `insn_off` is in bytes within the section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Offset of the instruction the record describes (bytes in `.BTF.ext`; see the struct docs).
    pub insn_off: u32,
    /// String offset of the source file name.
    pub file_name_off: u32,
    /// String offset of the source line text.
    pub line_off: u32,
    /// Line number (upper 22 bits) and column (lower 10 bits).
    pub line_col: u32,
}

/// `struct bpf_core_relo`. `insn_off` is in bytes within the section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Offset of the instruction the record describes (bytes in `.BTF.ext`; see the struct docs).
    pub insn_off: u32,
    /// BTF type id: the FUNC (func_info) or the local root type (CO-RE).
    pub type_id: u32,
    /// String offset of the access string (e.g. `0:1:2`).
    pub access_str_off: u32,
    /// The relocation kind (`enum bpf_core_relo_kind`, see [`crate::reloc::core::RelocKind`]).
    pub kind: u32,
}

/// Parsed `.BTF.ext`.
#[derive(Clone, Debug, Default)]
pub struct BtfExt {
    /// Per ELF section name, its func_info records.
    pub func_info: Vec<(String, Vec<FuncInfo>)>,
    /// Per ELF section name, its line_info records.
    pub line_info: Vec<(String, Vec<LineInfo>)>,
    /// Per ELF section name, its CO-RE relocations.
    pub core_relos: Vec<(String, Vec<CoreRelo>)>,
    /// Record sizes as found in the file (≥ the sizes of the structs above).
    pub func_info_rec_size: u32,
    /// line_info record size in the file.
    pub line_info_rec_size: u32,
    /// CO-RE relocation record size in the file.
    pub core_relo_rec_size: u32,
}

fn rd32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn err(what: impl Into<String>, offset: usize) -> BtfError {
    BtfError::Ext {
        what: what.into(),
        offset,
    }
}

/// Parse one subsection: `u32 rec_size`, then blocks of
/// `{sec_name_off, num_info, records...}`. Returns (rec_size, blocks).
#[allow(clippy::type_complexity)]
fn parse_sub<T>(
    btf: &Btf,
    data: &[u8],
    base: usize,
    name: &'static str,
    min_rec: usize,
    decode: impl Fn(&[u8]) -> T,
) -> Result<(u32, Vec<(String, Vec<T>)>), BtfError> {
    let mut out = Vec::new();
    if data.is_empty() {
        return Ok((min_rec as u32, out));
    }
    let rec_size = rd32(data, 0).ok_or_else(|| err(format!("{name}: truncated"), base))? as usize;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return Err(err(
            format!("{name}: record size {rec_size} (need at least {min_rec})"),
            base,
        ));
    }
    let mut off = 4usize;
    while off < data.len() {
        let (Some(sec_off), Some(num)) = (rd32(data, off), rd32(data, off + 4)) else {
            return Err(err(format!("{name}: truncated block header"), base + off));
        };
        off += 8;
        let sec = btf
            .str_at(sec_off)
            .map_err(|e| err(format!("{name}: section name: {e}"), base + off - 8))?
            .to_string();
        let bytes = (num as usize)
            .checked_mul(rec_size)
            .filter(|n| *n <= data.len() - off)
            .ok_or_else(|| {
                err(
                    format!(
                        "{name}: section '{sec}': {num} records of {rec_size} bytes exceed the \
                         {} bytes left",
                        data.len() - off
                    ),
                    base + off,
                )
            })?;
        if num == 0 {
            return Err(err(
                format!("{name}: section '{sec}' has 0 records"),
                base + off,
            ));
        }
        let recs = data[off..off + bytes]
            .chunks_exact(rec_size)
            .map(&decode)
            .collect();
        out.push((sec, recs));
        off += bytes;
    }
    Ok((rec_size as u32, out))
}

impl BtfExt {
    /// Parse `.BTF.ext` bytes; section names are looked up in `btf` (the
    /// object's `.BTF`).
    pub fn parse(bytes: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        if bytes.len() < 24 {
            return Err(err(
                format!("header truncated ({} bytes, need 24)", bytes.len()),
                0,
            ));
        }
        let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
        if magic == BTF_MAGIC.swap_bytes() {
            return Err(BtfError::BigEndian);
        }
        if magic != BTF_MAGIC {
            return Err(BtfError::BadMagic(magic));
        }
        if bytes[2] != 1 {
            return Err(BtfError::Version(bytes[2]));
        }
        let hdr_len = rd32(bytes, 4).unwrap_or(0) as usize;
        if hdr_len < 24 || hdr_len > bytes.len() {
            return Err(err(format!("bad hdr_len {hdr_len}"), 4));
        }
        let body = &bytes[hdr_len..];
        let sub = |off_at: usize, what: &'static str| -> Result<(&[u8], usize), BtfError> {
            if off_at + 8 > hdr_len {
                return Ok((&[], 0));
            }
            let off = rd32(bytes, off_at).unwrap_or(0) as usize;
            let len = rd32(bytes, off_at + 4).unwrap_or(0) as usize;
            let end = off
                .checked_add(len)
                .filter(|e| *e <= body.len())
                .ok_or_else(|| {
                    err(
                        format!("{what} {off}+{len} exceeds {} bytes of data", body.len()),
                        off_at,
                    )
                })?;
            Ok((&body[off..end], hdr_len + off))
        };
        let (fi, fi_base) = sub(8, "func_info")?;
        let (li, li_base) = sub(16, "line_info")?;
        let (cr, cr_base) = sub(24, "core_relo")?;
        let (func_info_rec_size, func_info) =
            parse_sub(btf, fi, fi_base, "func_info", 8, |r| FuncInfo {
                insn_off: rd32(r, 0).unwrap_or(0),
                type_id: rd32(r, 4).unwrap_or(0),
            })?;
        let (line_info_rec_size, line_info) =
            parse_sub(btf, li, li_base, "line_info", 16, |r| LineInfo {
                insn_off: rd32(r, 0).unwrap_or(0),
                file_name_off: rd32(r, 4).unwrap_or(0),
                line_off: rd32(r, 8).unwrap_or(0),
                line_col: rd32(r, 12).unwrap_or(0),
            })?;
        let (core_relo_rec_size, core_relos) =
            parse_sub(btf, cr, cr_base, "core_relo", 16, |r| CoreRelo {
                insn_off: rd32(r, 0).unwrap_or(0),
                type_id: rd32(r, 4).unwrap_or(0),
                access_str_off: rd32(r, 8).unwrap_or(0),
                kind: rd32(r, 12).unwrap_or(0),
            })?;
        log::debug!(
            "btf.ext: {} func_info, {} line_info, {} core_relo sections",
            func_info.len(),
            line_info.len(),
            core_relos.len()
        );
        Ok(BtfExt {
            func_info,
            line_info,
            core_relos,
            func_info_rec_size,
            line_info_rec_size,
            core_relo_rec_size,
        })
    }

    /// func_info records of one ELF section.
    pub fn func_info_for(&self, section: &str) -> &[FuncInfo] {
        self.func_info
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
    /// line_info records of one ELF section.
    pub fn line_info_for(&self, section: &str) -> &[LineInfo] {
        self.line_info
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
    /// CO-RE relocations of one ELF section.
    pub fn core_relos_for(&self, section: &str) -> &[CoreRelo] {
        self.core_relos
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
}
