//! The object's BTF on the way into the kernel, kernel BTF (mmap'd, shared,
//! loaded only when needed), CO-RE, `.kconfig` and BTF attach targets: the glue
//! between the pure `btf`/`reloc_core` modules and the loader.

use crate::btf::{Btf, Kind};
use crate::error::{Error, Result};
use crate::linker::{ExtInfo, LinkedProgram};
use crate::obj::section::{attach_type, prog_type};
use crate::obj::{ObjectSpec, ProgKind};
use crate::object::LoadOptions;
use crate::sys;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The object's BTF as loaded, and what CO-RE did.
#[derive(Debug, Default)]
pub(crate) struct ObjBtf {
    pub fd: BtfFd,
    pub ext_info: Option<ExtInfo>,
    pub core: Vec<crate::reloc_core::RelocOutcome>,
}

#[derive(Debug, Default)]
pub(crate) struct BtfFd(Option<OwnedFd>);

impl BtfFd {
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.0.take()
    }
}

/// Read a BTF file: raw BTF, or an ELF file with a `.BTF` section (mmap'd
/// when possible: vmlinux BTF is 5 MB and needs no copy).
pub fn read_btf_file(path: &Path) -> Result<Btf> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let btf = match sys::Mmap::map_file_readonly(&file) {
        Ok(m) => Btf::from_shared_auto(Box::new(m)),
        Err(_) => Btf::from_bytes_auto(std::fs::read(path).map_err(io)?),
    };
    btf.map_err(|e| Error::Btf(format!("{}: {e}", path.display())))
}

/// The running kernel's BTF: parsed once per process and shared.
pub fn kernel_btf() -> Result<Arc<Btf>> {
    static CACHE: Mutex<Option<Arc<Btf>>> = Mutex::new(None);
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = &*c {
        return Ok(b.clone());
    }
    let release = sys::uname_release();
    let mut tried = Vec::new();
    for p in crate::btf::kernel_btf_paths(&release) {
        if !p.exists() {
            tried.push(p.display().to_string());
            continue;
        }
        log::debug!("reading kernel BTF from {}", p.display());
        let b = Arc::new(read_btf_file(&p)?);
        *c = Some(b.clone());
        return Ok(b);
    }
    Err(Error::Btf(format!(
        "no kernel BTF found (tried {}); the kernel needs CONFIG_DEBUG_INFO_BTF, or pass a BTF file",
        tried.join(", ")
    )))
}

fn ext_info(spec: &ObjectSpec) -> Option<ExtInfo> {
    spec.btf_ext.as_ref().map(ExtInfo::from_btf_ext)
}

/// Load the CO-RE target: the custom BTF file when given (it replaces the
/// kernel's BTF for CO-RE only), else the running kernel.
pub(crate) fn core_target(opts: &LoadOptions) -> Result<crate::core_load::CoreTarget> {
    match &opts.target_btf {
        Some(p) => crate::core_load::CoreTarget::file(p),
        None => crate::core_load::CoreTarget::kernel(),
    }
}

pub(crate) fn prepare(spec: &mut ObjectSpec, opts: &LoadOptions) -> Result<ObjBtf> {
    let mut out = ObjBtf {
        ext_info: ext_info(spec),
        ..Default::default()
    };
    // CO-RE: relocate the code of the programs that load (and their
    // subprograms) against the target BTF.
    if crate::core_load::needs_target(spec, crate::core_load::Selection::Autoload) {
        let target = core_target(opts)?;
        out.core =
            crate::core_load::relocate_spec(spec, crate::core_load::Selection::Autoload, &target)?;
    }
    // The object's BTF into the kernel; without it, go on (logged).
    if let Some(btf) = &spec.btf {
        // sanitize: rewritten for kernels lacking BTF kinds/flags (probed);
        // without FUNC support func_info/line_info cannot go along.
        let have = crate::features::Features::btf();
        if !have.func {
            out.ext_info = None;
        }
        let bytes = match crate::btf::sanitize(btf, &have) {
            Ok(b) => b.unwrap_or_else(|| btf.to_bytes()),
            Err(e) => {
                log::warn!(
                    "object {}: cannot sanitize its BTF ({e}); trying it as is",
                    spec.name
                );
                btf.to_bytes()
            }
        };
        match crate::verifier_log::btf_load_with_log_retry(&bytes, 1) {
            Ok(fd) => out.fd = BtfFd(Some(fd)),
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

impl ObjBtf {
    /// `.kconfig` externs: resolved through the `.kconfig` map.
    pub fn resolve_kconfig(&self, l: &mut LinkedProgram, spec: &ObjectSpec) -> Result<()> {
        crate::kconfig::patch_refs(l, spec)
    }

    /// attach_btf_id (and the module BTF fd, when the target is in a module)
    /// of tp_btf/fentry/fexit/fmod_ret/lsm/iter programs.
    pub fn attach_target(&self, kind: &ProgKind, prog: &str) -> Result<(u32, Option<OwnedFd>)> {
        if !matches!(kind.prog_type, prog_type::TRACING | prog_type::LSM) {
            return Ok((0, None));
        }
        let crate::obj::AttachTarget::Btf { name } = &kind.target else {
            return Err(Error::Btf(format!(
                "program {prog}: section names no attach target"
            )));
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
        if let Some((id, fd)) = crate::kconfig::find_in_modules(&vmlinux, &tname, tkind)? {
            return Ok((id, Some(fd)));
        }
        Err(Error::Btf(format!(
            "program {prog}: attach target {tname} ({}) not found in kernel BTF",
            tkind.as_str()
        )))
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
        let describe = |r: &crate::reloc_core::RelocOutcome| {
            format!(
                "{} {} {} (section {} insn {})",
                r.kind, r.type_name, r.access, r.section, r.insn_idx
            )
        };
        // Unresolved relocations in the code linked into this program, by
        // position in the linked program.
        let mut poisoned: Vec<(usize, &crate::reloc_core::RelocOutcome)> = Vec::new();
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
        poisoned.sort_by_key(|(pos, _)| *pos);
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
