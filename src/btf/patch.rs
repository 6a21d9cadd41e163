//! In-place fix-ups (DATASEC sizes and offsets, VAR linkage) and
//! serialization for the kernel.

use super::{Btf, BtfError, Kind, Storage, BTF_MAGIC, HDR_MIN, TYPE_HDR};

impl Btf {
    pub(super) fn own_type_offset(&self, id: u32, expect: Kind) -> Result<usize, BtfError> {
        let t = self.type_by_id(id)?;
        if id < self.first_id {
            return Err(BtfError::Patch {
                id,
                what: "type belongs to the base BTF",
            });
        }
        if t.kind != expect {
            return Err(BtfError::WrongKind {
                id,
                name: t.name.to_string(),
                kind: t.kind,
                expected: expect.as_str(),
            });
        }
        let off = self.own_offset(id).ok_or(BtfError::NoSuchType {
            id,
            last: self.next_id().saturating_sub(1),
        })?;
        Ok(self.types_start + off)
    }

    pub(super) fn write32(&mut self, id: u32, at: usize, v: u32) -> Result<(), BtfError> {
        fn put(buf: &mut [u8], id: u32, at: usize, v: u32) -> Result<(), BtfError> {
            match buf.get_mut(at..at.saturating_add(4)) {
                Some(s) => {
                    s.copy_from_slice(&v.to_le_bytes());
                    Ok(())
                }
                None => Err(BtfError::Patch {
                    id,
                    what: "write outside buffer",
                }),
            }
        }
        match &mut self.data {
            Storage::Owned(buf) => put(buf, id, at, v),
            Storage::Shared(b) => {
                // Copy on first write.
                let mut buf = (**b).as_ref().to_vec();
                put(&mut buf, id, at, v)?;
                self.data = Storage::Owned(buf);
                Ok(())
            }
        }
    }

    /// Set the size of DATASEC `type_id`.
    pub fn set_datasec_size(&mut self, type_id: u32, size: u32) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Datasec)? + 8;
        self.write32(type_id, at, size)
    }

    /// Set the offset of entry `index` of DATASEC `type_id`.
    pub fn set_datasec_var_offset(
        &mut self,
        type_id: u32,
        index: usize,
        offset: u32,
    ) -> Result<(), BtfError> {
        let t = self.type_by_id(type_id)?;
        if index >= t.vlen() {
            return Err(BtfError::Patch {
                id: type_id,
                what: "datasec entry index out of range",
            });
        }
        let at = self.own_type_offset(type_id, Kind::Datasec)? + TYPE_HDR + index * 12 + 4;
        self.write32(type_id, at, offset)
    }

    /// Set the linkage of VAR `type_id` (0 static, 1 global, 2 extern). The
    /// kernel refuses extern VARs, so `.kconfig` externs become global.
    pub fn set_var_linkage(&mut self, type_id: u32, linkage: u32) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Var)? + TYPE_HDR;
        self.write32(type_id, at, linkage)
    }

    /// Serialize as the kernel takes it: a 24-byte header, the type section,
    /// the string section (for split BTF: own types and strings only).
    pub fn to_bytes(&self) -> Vec<u8> {
        let types = self.types();
        let strs = self.strs();
        let mut out = Vec::with_capacity(HDR_MIN + types.len() + strs.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1);
        out.push(0);
        out.extend_from_slice(&(HDR_MIN as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(strs.len() as u32).to_le_bytes());
        out.extend_from_slice(types);
        out.extend_from_slice(strs);
        out
    }
}
