//! The object's BTF on the way into the kernel (BPF_BTF_LOAD, going on
//! without it when the kernel rejects it), BTF attach targets of tracing/LSM
//! programs, and explaining verifier logs that hit poisoned CO-RE
//! instructions.

use crate::btf::Kind;
use crate::error::{Error, KernelBtfError, Result};
use crate::load::target::{find_in_modules, kernel_btf};
use crate::obj::section::{attach_type, prog_type};
use crate::obj::{ObjectSpec, ProgKind};
use crate::reloc::core::RelocOutcome;
use crate::reloc::link::{ExtInfo, LinkedProgram};
use std::os::fd::{BorrowedFd, OwnedFd};

/// The object's BTF as loaded, and what CO-RE did.
#[derive(Debug, Default)]
pub(crate) struct ObjBtf {
    pub fd: BtfFd,
    pub ext_info: Option<ExtInfo>,
    pub core: Vec<RelocOutcome>,
}

#[derive(Debug, Default)]
pub(crate) struct BtfFd(Option<OwnedFd>);

impl BtfFd {
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.0.take()
    }
}

/// Upload the object's BTF (when it has one) and keep its ext info; `core`
/// is what CO-RE did (for explaining poisoned instructions later).
pub(crate) fn upload(
    spec: &ObjectSpec,
    core: Vec<RelocOutcome>,
    token: Option<BorrowedFd<'_>>,
) -> Result<ObjBtf> {
    let mut out = ObjBtf {
        ext_info: spec.btf_ext.as_ref().map(ExtInfo::from_btf_ext),
        core,
        ..Default::default()
    };
    // The object's BTF into the kernel; without it, go on (logged).
    if let Some(btf) = &spec.btf {
        if let Some(fd) = upload_as_is(spec, btf, out.ext_info.is_some(), token)? {
            out.fd = BtfFd(Some(fd));
            return Ok(out);
        }
        // sanitize: rewritten for kernels lacking BTF kinds/flags (probed);
        // without FUNC support func_info/line_info cannot go along.
        let have = crate::features::Features::btf();
        if !have.func {
            out.ext_info = None;
        }
        let mut sanitized = false;
        let bytes = match crate::btf::sanitize(btf, &have) {
            Ok(Some(b)) => {
                sanitized = true;
                b
            }
            Ok(None) => btf.to_bytes(),
            Err(e) => {
                log::warn!(
                    "object {}: cannot sanitize its BTF ({e}); trying it as is",
                    spec.name
                );
                btf.to_bytes()
            }
        };
        match super::log::btf_load_with_log_retry(&bytes, 1, token) {
            Ok(fd) => {
                log::debug!(
                    "object {}: BTF loaded{}",
                    spec.name,
                    if sanitized { " (sanitized)" } else { "" }
                );
                out.fd = BtfFd(Some(fd));
            }
            // No privileges is not a BTF problem: going on without BTF
            // would only fail again at the first map.
            Err((e, _))
                if matches!(
                    e.errno,
                    nix::errno::Errno::EPERM | nix::errno::Errno::EACCES
                ) =>
            {
                return Err(Error::Permission {
                    what: format!("object {}: load its BTF", spec.name),
                    source: e,
                });
            }
            Err((e, log)) => {
                log::warn!(
                    "object {}: kernel rejected its BTF ({e}); loading without it{}",
                    spec.name,
                    crate::error::log_summary(&log)
                        .map(|l| format!(": {l}"))
                        .unwrap_or_default()
                );
                out.ext_info = None;
            }
        }
    }
    Ok(out)
}

/// The object's BTF loaded as it is, before any feature probe: a kernel
/// that accepts it has every BTF kind and flag it uses, so probing them
/// (nine BTF loads) and sanitizing would change nothing. `None`: go the
/// probing way (an override of the BTF features is set, the kernel refused
/// this BTF, or func_info would need FUNC support this BTF cannot show).
fn upload_as_is(
    spec: &ObjectSpec,
    btf: &crate::btf::Btf,
    has_ext_info: bool,
    token: Option<BorrowedFd<'_>>,
) -> Result<Option<OwnedFd>> {
    if crate::features::Features::btf_overridden() {
        return Ok(None);
    }
    // func_info/line_info go along only where the kernel knows FUNC: a BTF
    // without FUNC types accepted as is would not show that.
    if has_ext_info
        && !btf
            .own_ids()
            .any(|id| btf.type_by_id(id).is_ok_and(|t| t.kind == Kind::Func))
    {
        return Ok(None);
    }
    match crate::sys::btf_load_token(&btf.to_bytes(), None, token) {
        Ok(fd) => {
            log::debug!("object {}: BTF loaded as is", spec.name);
            Ok(Some(fd))
        }
        Err(e)
            if matches!(
                e.errno,
                nix::errno::Errno::EPERM | nix::errno::Errno::EACCES
            ) =>
        {
            Err(Error::Permission {
                what: format!("object {}: load its BTF", spec.name),
                source: crate::sys::SysError::new("BPF_BTF_LOAD", e.errno),
            })
        }
        Err(e) => {
            log::debug!(
                "object {}: BTF as is refused ({}); probing BTF features",
                spec.name,
                e.errno
            );
            Ok(None)
        }
    }
}

impl ObjBtf {
    /// attach_btf_id (and the module BTF fd, when the target is in a module)
    /// of tp_btf/fentry/fexit/fmod_ret/lsm/iter programs.
    pub fn attach_target(&self, kind: &ProgKind, prog: &str) -> Result<(u32, Option<OwnedFd>)> {
        if !matches!(kind.prog_type, prog_type::TRACING | prog_type::LSM) {
            return Ok((0, None));
        }
        let crate::obj::AttachTarget::Btf { name } = &kind.target else {
            return Err(KernelBtfError::NoAttachTarget {
                program: prog.to_string(),
            }
            .into());
        };
        let (tname, tkind) = match kind.expected_attach_type {
            attach_type::TRACE_RAW_TP => (format!("btf_trace_{name}"), Kind::Typedef),
            attach_type::LSM_MAC => (format!("bpf_lsm_{name}"), Kind::Func),
            attach_type::TRACE_ITER => (format!("bpf_iter_{name}"), Kind::Func),
            _ => (name.clone(), Kind::Func),
        };
        // Attach targets live in the running kernel, whatever BTF CO-RE used.
        let vmlinux = kernel_btf()?;
        if let Some(id) = vmlinux.find_by_name_kind(&tname, tkind) {
            log::debug!("program {prog}: attach target {tname} is vmlinux BTF id {id}");
            return Ok((id, None));
        }
        if let Some((id, fd)) = find_in_modules(&vmlinux, &tname, tkind)? {
            return Ok((id, Some(fd)));
        }
        Err(KernelBtfError::AttachTargetNotFound {
            program: prog.to_string(),
            target: tname,
            kind: tkind.as_str(),
        }
        .into())
    }

    /// Add to a verifier log which CO-RE relocations of the linked program
    /// were unresolved (their instructions were poisoned), ending with the one
    /// at the instruction where the verifier stopped (so the log's summary
    /// names it).
    pub fn explain_poison(
        &self,
        log: &str,
        prog: &str,
        linked: &LinkedProgram,
        spec: &ObjectSpec,
    ) -> String {
        if !(log.contains("195896080") || log.contains("bad2310")) {
            return log.to_string();
        }
        let describe = |r: &RelocOutcome| {
            format!(
                "{} {} {} (section {} insn {})",
                r.kind, r.type_name, r.access, r.section, r.insn_idx
            )
        };
        // Unresolved relocations in the code linked into this program, by
        // position in the linked program.
        let mut poisoned: Vec<(usize, &RelocOutcome)> = Vec::new();
        for (sec, start, len, at) in &linked.placed {
            let name = spec.code[*sec].name.as_str();
            for r in &self.core {
                if r.target_value.is_none()
                    && r.section == name
                    && r.insn_idx >= *start
                    && r.insn_idx < start + len
                {
                    poisoned.push((at + r.insn_idx - start, r));
                }
            }
        }
        if poisoned.is_empty() {
            return log.to_string();
        }
        crate::util::sort::sort_by_key(&mut poisoned, |(pos, _)| *pos);
        let list: Vec<String> = poisoned
            .iter()
            .map(|(pos, r)| format!("  insn {pos}: {}", describe(r)))
            .collect();
        // The verifier stopped at the poisoned call: that insn, or the second
        // half of a poisoned ld_imm64.
        let failing = crate::error::log_failing_insn(log).and_then(|f| {
            poisoned
                .iter()
                .find(|(pos, _)| *pos == f || (*pos + 1 == f && linked.insns[*pos].is_ld_imm64()))
        });
        let last = match failing {
            Some((pos, r)) => format!(
                "instruction {pos} is poisoned: CO-RE relocation {} is unresolved in the target BTF",
                describe(r)
            ),
            None => format!(
                "program {prog} reached an instruction poisoned by an unresolved CO-RE relocation \
                 (see the list above)"
            ),
        };
        format!(
            "{log}\nunresolved CO-RE relocations in program {prog} (instructions poisoned):\n{}\n{last}",
            list.join("\n")
        )
    }
}
