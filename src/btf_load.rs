//! The object's BTF on the way into the kernel, CO-RE, kconfig and attach
//! targets (glue between the pure `btf`/`reloc_core` modules and the loader).

use crate::error::{Error, Result};
use crate::linker::{ExtInfo, LinkedProgram, LoadRef};
use crate::obj::section::prog_type;
use crate::obj::{ObjectSpec, ProgKind};
use crate::object::LoadOptions;
use std::os::fd::OwnedFd;

/// The object's BTF as loaded.
#[derive(Debug, Default)]
pub(crate) struct ObjBtf {
    pub fd: BtfFd,
    pub ext_info: Option<ExtInfo>,
}

#[derive(Debug, Default)]
pub(crate) struct BtfFd(Option<OwnedFd>);

impl BtfFd {
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.0.take()
    }
}

pub(crate) fn prepare(_spec: &mut ObjectSpec, _opts: &LoadOptions) -> Result<ObjBtf> {
    Ok(ObjBtf::default())
}

impl ObjBtf {
    pub fn resolve_kconfig(&self, l: &mut LinkedProgram, _spec: &ObjectSpec) -> Result<()> {
        if let Some(LoadRef::Kconfig { name, .. }) =
            l.refs.iter().find(|r| matches!(r, LoadRef::Kconfig { .. }))
        {
            return Err(Error::Invalid(format!(
                "extern {name}: .kconfig externs need BTF"
            )));
        }
        Ok(())
    }

    pub fn attach_target(&self, kind: &ProgKind, prog: &str) -> Result<(u32, Option<OwnedFd>)> {
        if matches!(
            kind.prog_type,
            prog_type::TRACING | prog_type::LSM | prog_type::EXT
        ) {
            return Err(Error::Btf(format!(
                "program {prog}: needs kernel BTF for its attach target"
            )));
        }
        Ok((0, None))
    }

    pub fn explain_poison(&self, log: &str, _prog: &str) -> String {
        log.to_string()
    }
}
