//! Parsing: the header checks and the one-pass walk of the type section
//! that records where each type starts.

use crate::util::elf_bytes::{self, ElfBytes};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use super::types::rd32;
use super::walk::{self, Section, EXTRA};
use super::{Btf, BtfError, Kind, Storage, BTF_MAGIC, HDR_MIN, TYPE_HDR};

/// First bytes of an ELF file.
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// Length of the type at the start of `t` (already checked by
/// [`walk_types`]); 0 if `t` is too short to hold a header.
pub(super) fn type_len_at(t: &[u8]) -> usize {
    match t.get(..TYPE_HDR) {
        Some(h) => {
            let vlen = u16::from_le_bytes([h[4], h[5]]) as usize;
            let (fixed, per) = EXTRA[(h[7] & 0x1f) as usize];
            TYPE_HDR + (fixed as usize & 0x7f) + per as usize * vlen
        }
        None => 0,
    }
}

/// Size of the data following the 12-byte header of a type.
pub(super) fn extra_len(kind: Kind, vlen: usize) -> usize {
    use Kind::*;
    match kind {
        Int => 4,
        Array => 12,
        Struct | Union => 12 * vlen,
        Enum => 8 * vlen,
        FuncProto => 8 * vlen,
        Var => 4,
        Datasec => 12 * vlen,
        DeclTag => 4,
        Enum64 => 12 * vlen,
        _ => 0,
    }
}

impl Btf {
    /// Parse BTF from owned bytes (patchable in place).
    pub fn parse(bytes: Vec<u8>) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Owned(bytes), None)
    }

    /// Parse BTF from any byte storage (e.g. an mmap of
    /// `/sys/kernel/btf/vmlinux`) without copying.
    pub fn parse_shared(bytes: Box<dyn AsRef<[u8]> + Send + Sync>) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Shared(bytes), None)
    }

    /// Parse split BTF (a kernel module's) on top of `base`: type ids and
    /// string offsets continue after the base's.
    pub fn parse_split(
        bytes: Box<dyn AsRef<[u8]> + Send + Sync>,
        base: Arc<Btf>,
    ) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Shared(bytes), Some(base))
    }

    /// Take the `.BTF` section of an ELF object file.
    pub fn from_elf(elf: &[u8]) -> Result<Btf, BtfError> {
        // Anything but ELF32 is read as ELF64 (whose parser names what is
        // wrong).
        let data = if elf_bytes::is_elf32(elf) {
            btf_section::<object::elf::FileHeader32<object::Endianness>>(elf)?
        } else {
            btf_section::<object::elf::FileHeader64<object::Endianness>>(elf)?
        };
        Btf::parse(data.to_vec())
    }

    /// Parse a BTF file's contents, told apart by their first bytes: an ELF
    /// object (its `.BTF` section is taken, as [`Btf::from_elf`]) or raw BTF
    /// (as [`Btf::parse`]).
    pub fn from_bytes_auto(bytes: Vec<u8>) -> Result<Btf, BtfError> {
        if bytes.starts_with(ELF_MAGIC) {
            Btf::from_elf(&bytes)
        } else {
            Btf::parse(bytes)
        }
    }

    /// Like [`Btf::from_bytes_auto`], but raw BTF is used in place (as
    /// [`Btf::parse_shared`], e.g. an mmap of a 5 MB vmlinux BTF).
    pub fn from_shared_auto(bytes: Box<dyn AsRef<[u8]> + Send + Sync>) -> Result<Btf, BtfError> {
        if (*bytes).as_ref().starts_with(ELF_MAGIC) {
            Btf::from_elf((*bytes).as_ref())
        } else {
            Btf::parse_shared(bytes)
        }
    }

    fn from_storage(data: Storage, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let b = data.bytes();
        let len = b.len();
        if len < HDR_MIN {
            return Err(BtfError::Truncated {
                what: "header",
                offset: 0,
                need: HDR_MIN,
                len,
            });
        }
        let magic = u16::from_le_bytes([b[0], b[1]]);
        if magic != BTF_MAGIC {
            if magic == BTF_MAGIC.swap_bytes() {
                return Err(BtfError::BigEndian);
            }
            return Err(BtfError::BadMagic(magic));
        }
        if b[2] != 1 {
            return Err(BtfError::Version(b[2]));
        }
        let hdr_len = rd32(b, 4) as usize;
        if hdr_len < HDR_MIN || hdr_len > len {
            return Err(BtfError::BadHeader(format!(
                "hdr_len {hdr_len} (buffer is {len} bytes)"
            )));
        }
        let type_off = rd32(b, 8) as usize;
        let type_len = rd32(b, 12) as usize;
        let str_off = rd32(b, 16) as usize;
        let str_len = rd32(b, 20) as usize;
        let body = len - hdr_len;
        let types_end = type_off.checked_add(type_len);
        let strs_end = str_off.checked_add(str_len);
        match (types_end, strs_end) {
            (Some(te), Some(se)) if te <= body && se <= body => {}
            _ => {
                return Err(BtfError::BadHeader(format!(
                    "type section {type_off}+{type_len} or string section {str_off}+{str_len} \
                     exceeds the {body} bytes after the header"
                )))
            }
        }
        if type_off % 4 != 0 {
            return Err(BtfError::BadHeader(format!(
                "type_off {type_off} not aligned"
            )));
        }
        let strs_start = hdr_len + str_off;
        let strs = &b[strs_start..strs_start + str_len];
        let (first_id, base_str_len) = match &base {
            None => {
                if str_len == 0 || strs[0] != 0 {
                    return Err(BtfError::BadHeader(
                        "string section must start with an empty string".into(),
                    ));
                }
                (1u32, 0u32)
            }
            Some(base) => (base.next_id(), base.total_str_len()),
        };
        if str_len > 0 && strs[str_len - 1] != 0 {
            return Err(BtfError::BadHeader(
                "string section is not NUL-terminated".into(),
            ));
        }
        let total_str = base_str_len as u64 + str_len as u64;
        let types_start = hdr_len + type_off;
        let types = &b[types_start..types_start + type_len];
        // One tight pass over every type (see walk).
        let w = walk::walk(Section {
            types,
            total_str,
            first_id,
            strs,
            base_str_len,
        })?;
        Ok(Btf {
            data,
            types_start,
            types_len: type_len,
            strs_start,
            strs_len: str_len,
            sparse: w.sparse,
            segs: w.segs,
            count: w.count,
            first_id,
            base,
            base_str_len,
            named_types: w.named_types,
            index: [OnceLock::new(), OnceLock::new()],
            recent: [const { AtomicU64::new(0) }; super::RECENT],
        })
    }
}

/// The `.BTF` section of an ELF file of class `H`.
fn btf_section<H: object::read::elf::FileHeader>(elf: &[u8]) -> Result<&[u8], BtfError> {
    use object::{Object, ObjectSection};
    let file = object::read::elf::ElfFile::<H, ElfBytes>::parse(ElfBytes(elf))
        .map_err(|e| BtfError::Elf(e.to_string()))?;
    let sec = file
        .section_by_name(".BTF")
        .ok_or_else(|| BtfError::Elf("no .BTF section".into()))?;
    sec.data()
        .map_err(|e| BtfError::Elf(format!(".BTF section: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw BTF with no types and an empty string section.
    fn empty_raw() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for w in [HDR_MIN as u32, 0, 0, 0, 1] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.push(0);
        b
    }

    #[test]
    fn auto_tells_raw_from_elf() {
        let raw = empty_raw();
        assert_eq!(Btf::from_bytes_auto(raw.clone()).unwrap().len(), 1);
        assert_eq!(Btf::from_shared_auto(Box::new(raw)).unwrap().len(), 1);

        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/tests/core/fields.bpf.o");
        let elf = std::fs::read(path).unwrap();
        let want = Btf::from_elf(&elf).unwrap().len();
        assert!(want > 1);
        assert_eq!(Btf::from_bytes_auto(elf.clone()).unwrap().len(), want);
        assert_eq!(Btf::from_shared_auto(Box::new(elf)).unwrap().len(), want);

        // An ELF magic on garbage is an ELF error, not a BTF magic error.
        let mut bad = b"\x7fELF".to_vec();
        bad.resize(64, 0);
        assert!(matches!(Btf::from_bytes_auto(bad), Err(BtfError::Elf(_))));
        assert!(matches!(
            Btf::from_bytes_auto(vec![0; 8]),
            Err(BtfError::Truncated { .. })
        ));
    }
}
