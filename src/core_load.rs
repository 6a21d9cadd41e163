//! CO-RE at load time: relocate an object's code sections against a target BTF.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::obj::ObjectSpec;

pub(crate) fn relocate(
    spec: &mut ObjectSpec,
    target: &Btf,
) -> Result<Vec<crate::reloc_core::RelocOutcome>> {
    let _ = (spec, target);
    Err(Error::Core("CO-RE relocation is not built yet".into()))
}
