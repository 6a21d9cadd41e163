//! Global functions with hidden visibility (`__hidden`, as in libbpf's
//! `<bpf/usdt.bpf.h>`: `bpf_usdt_arg`, `bpf_usdt_cookie`) get static
//! linkage in the object's BTF, as libbpf gives them: the verifier then
//! checks them with their callers' argument types (a global function is
//! verified alone, where a pointer argument may be NULL, and
//! `bpf_usdt_arg`'s `*res = 0` would be refused).

use super::error::ParseError;
use crate::btf::{Btf, Kind};

/// Make the BTF FUNC of each name in `hidden` static.
pub(crate) fn hidden_funcs_static(btf: &mut Btf, hidden: &[&str]) -> Result<(), ParseError> {
    for name in hidden {
        let Some(id) = btf.find_by_name_kind(name, Kind::Func) else {
            continue;
        };
        if btf.type_by_id(id).ok().and_then(|t| t.linkage()) == Some(1) {
            log::debug!("function {name}: hidden visibility, static linkage in BTF");
            btf.set_func_linkage(id, 0)
                .map_err(|e| ParseError::Btf(e.to_string()))?;
        }
    }
    Ok(())
}
