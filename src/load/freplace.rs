//! `freplace` (`BPF_PROG_TYPE_EXT`) targets: the program whose global
//! function an extension program replaces is chosen by the user
//! ([`AttachProgTarget`] in [`LoadOptions::attach_prog_targets`]); at load
//! time its fd goes into `attach_prog_fd` and the BTF id of the function
//! (looked up in the target program's BTF) into `attach_btf_id`.

use super::LoadOptions;
use crate::error::{Error, Result};
use crate::obj::section::prog_type;
use crate::obj::{AttachTarget, ProgKind};
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};

/// The program (and function) an `freplace` program replaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachProgTarget {
    /// Kernel id of the target program (see [`crate::Program::id`]).
    pub prog_id: u32,
    /// The global function of the target to replace; `None`: the name in
    /// the section (`freplace/FUNC`).
    pub func: Option<String>,
}

/// The function an `freplace` program replaces: the option's, else the
/// section's (pure).
pub(crate) fn target_func(kind: &ProgKind, target: &AttachProgTarget) -> Option<String> {
    match (&target.func, &kind.target) {
        (Some(f), _) if !f.is_empty() => Some(f.clone()),
        (_, AttachTarget::Btf { name }) if !name.is_empty() => Some(name.clone()),
        _ => None,
    }
}

/// For an `freplace` program: (attach_btf_id, target program fd); `None`
/// for every other program type.
pub(crate) fn ext_target(
    opts: &LoadOptions,
    prog: &str,
    kind: &ProgKind,
) -> Result<Option<(u32, OwnedFd)>> {
    if kind.prog_type != prog_type::EXT {
        return Ok(None);
    }
    let invalid = |m: String| Error::Invalid(format!("freplace program {prog}: {m}"));
    let target = opts.attach_prog_targets.get(prog).ok_or_else(|| {
        invalid(
            "needs a target program: OpenObject::set_attach_target(program, target id, func), \
             or tinybpf load --attach-prog ID"
                .into(),
        )
    })?;
    let func = target_func(kind, target).ok_or_else(|| {
        invalid("no function to replace: name it in the section (freplace/FUNC) or in set_attach_target".into())
    })?;
    let fd = sys::prog_get_fd_by_id(target.prog_id).map_err(|e| {
        Error::sys(
            format!("freplace program {prog}: target program {}", target.prog_id),
            e,
        )
    })?;
    let id =
        crate::multi::target_func_id(fd.as_fd(), &func, &format!("freplace program {prog}: "))?;
    log::debug!(
        "freplace program {prog}: replaces {func} (BTF id {id}) of program {}",
        target.prog_id
    );
    Ok(Some((id, fd)))
}

/// An `freplace` program refused with EPERM and no verifier log: what
/// kernels without BPF trampolines do (as for fentry/fexit). Other
/// refusals keep their log.
pub(crate) fn explain_refusal(kind: &ProgKind, errno: nix::errno::Errno, log: String) -> String {
    if kind.prog_type == prog_type::EXT
        && errno == nix::errno::Errno::EPERM
        && log.trim().is_empty()
    {
        "freplace programs need BPF trampolines (and the JIT); this kernel refuses them \
         without a verifier log, as kernels without trampoline support for this \
         architecture/configuration do (fentry/fexit are refused too)"
            .to_string()
    } else {
        log
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj::section::prog_kind;

    #[test]
    fn function_to_replace() {
        let kind = prog_kind("freplace/verdict").unwrap();
        assert_eq!(kind.prog_type, prog_type::EXT);
        let t = AttachProgTarget {
            prog_id: 1,
            func: None,
        };
        assert_eq!(target_func(&kind, &t).as_deref(), Some("verdict"));
        let other = AttachProgTarget {
            func: Some("other".into()),
            ..t.clone()
        };
        assert_eq!(target_func(&kind, &other).as_deref(), Some("other"));
        assert_eq!(target_func(&prog_kind("freplace").unwrap(), &t), None);
    }

    #[test]
    fn function_lookup_in_target_btf() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/freplace_target.bpf.o");
        let spec = crate::obj::ObjectSpec::parse("freplace_target", &std::fs::read(path).unwrap())
            .unwrap();
        let btf = spec.btf.as_ref().unwrap();
        assert!(crate::multi::func_btf_id(btf, "verdict").unwrap() > 0);
        let e = crate::multi::func_btf_id(btf, "nope").unwrap_err();
        assert!(e.contains("no function \"nope\""), "{e}");
    }

    #[test]
    fn refusal_without_log_names_trampolines() {
        use nix::errno::Errno;
        let ext = prog_kind("freplace/verdict").unwrap();
        assert!(explain_refusal(&ext, Errno::EPERM, String::new()).contains("trampolines"));
        assert_eq!(explain_refusal(&ext, Errno::EACCES, "x".into()), "x");
        let xdp = prog_kind("xdp").unwrap();
        assert_eq!(explain_refusal(&xdp, Errno::EPERM, String::new()), "");
    }

    #[test]
    fn missing_target_is_a_clear_error() {
        let kind = prog_kind("freplace/verdict").unwrap();
        let e = ext_target(&LoadOptions::default(), "p", &kind).unwrap_err();
        assert!(e.to_string().contains("set_attach_target"), "{e}");
        assert!(e.to_string().contains("--attach-prog"), "{e}");
        assert!(
            ext_target(&LoadOptions::default(), "p", &prog_kind("xdp").unwrap())
                .unwrap()
                .is_none()
        );
    }
}
