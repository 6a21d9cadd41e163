//! `freplace` links: an extension program (`BPF_PROG_TYPE_EXT`) replacing a
//! global function of another loaded program (needs BPF trampolines).

use crate::btf::{Btf, Kind};
use crate::error::{AttachError, Error, Result};
use crate::link::Link;
use crate::obj::section::prog_type;
use crate::program::Program;
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd};

/// The BTF id of global function `func` in a program's BTF (pure).
pub(crate) fn func_btf_id(btf: &Btf, func: &str) -> std::result::Result<u32, String> {
    btf.find_by_name_kind(func, Kind::Func).ok_or_else(|| {
        format!(
            "the target program's BTF has no function {func:?} \
             (only global, non-inlined functions can be replaced)"
        )
    })
}

/// The BTF id of `func` in the BTF of the program open at `target`;
/// `who` (`"freplace program p: "`, or empty) prefixes every message.
pub(crate) fn target_func_id(target: BorrowedFd<'_>, func: &str, who: &str) -> Result<u32> {
    let info = sys::prog_info(target)
        .map_err(|e| Error::sys(format!("{who}freplace target program"), e))?;
    if info.btf_id == 0 {
        return Err(Error::Invalid(format!(
            "{who}target program {} was loaded without BTF: nothing can replace its functions",
            info.id
        )));
    }
    let bytes = sys::btf_get_fd_by_id(info.btf_id)
        .and_then(|b| sys::btf_data(b.as_fd()))
        .map_err(|e| {
            Error::sys(
                format!("{who}BTF {} of program {}", info.btf_id, info.id),
                e,
            )
        })?;
    let btf = Btf::parse(bytes).map_err(|source| Error::Btf {
        what: format!("{who}BTF {} of program {}", info.btf_id, info.id),
        source,
    })?;
    func_btf_id(&btf, func)
        .map_err(|m| Error::Invalid(format!("{who}target program {}: {m}", info.id)))
}

impl Program {
    /// Attach this `freplace` program in place of `func` of the program
    /// open at `target` (a program other than the one given at load time
    /// needs the same function signature).
    pub fn attach_freplace(&self, target: BorrowedFd<'_>, func: &str) -> Result<Link> {
        let desc = format!("freplace {func}");
        if self.kind.prog_type != prog_type::EXT {
            return Err(self.attach_err(
                desc,
                AttachError::WrongSection {
                    section: self.section.clone(),
                    why: "is not an freplace program",
                },
            ));
        }
        let id = target_func_id(target, func, "")?;
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::Fd(target),
            self.kind.expected_attach_type,
            0,
            sys::LinkCreateExtra::TargetBtfId(id),
        )
        .map_err(|e| {
            let hint = no_trampoline_hint(&e);
            self.attach_err(&desc, AttachError::sys_hint(e, hint))
        })?;
        Ok(Link::bpf(fd, None, format!("{} → {desc}", self.name)))
    }
}

/// Why an freplace/fentry-style call failed, when it is the kernel's lack
/// of BPF trampolines.
pub(crate) fn no_trampoline_hint(e: &sys::SysError) -> Option<&'static str> {
    e.not_supported().then_some(
        "this kernel has no BPF trampolines for this architecture/config: \
         freplace, fentry and fexit cannot attach here",
    )
}
