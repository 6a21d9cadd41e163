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
    pub target: Option<Arc<Btf>>,
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
        Ok(m) if m.as_slice().starts_with(b"\x7fELF") => Btf::from_elf(m.as_slice()),
        Ok(m) => Btf::parse_shared(Box::new(m)),
        Err(_) => {
            let bytes = std::fs::read(path).map_err(io)?;
            if bytes.starts_with(b"\x7fELF") {
                Btf::from_elf(&bytes)
            } else {
                Btf::parse(bytes)
            }
        }
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

/// Whether any program to load needs kernel BTF for its attach target.
fn needs_attach_btf(spec: &ObjectSpec) -> bool {
    spec.programs.iter().filter(|p| p.autoload).any(|p| {
        p.kind
            .as_ref()
            .is_some_and(|k| matches!(k.prog_type, prog_type::TRACING | prog_type::LSM))
    })
}

/// Load the target BTF (custom path, or the kernel's) for CO-RE.
pub(crate) fn target_btf(opts: &LoadOptions) -> Result<Arc<Btf>> {
    match &opts.target_btf {
        Some(p) => Ok(Arc::new(read_btf_file(p)?)),
        None => kernel_btf(),
    }
}

pub(crate) fn prepare(spec: &mut ObjectSpec, opts: &LoadOptions) -> Result<ObjBtf> {
    let mut out = ObjBtf {
        ext_info: ext_info(spec),
        ..Default::default()
    };
    // CO-RE: relocate the code sections against the target BTF.
    let needs_core = spec
        .btf_ext
        .as_ref()
        .is_some_and(crate::reloc_core::needs_kernel_btf);
    if needs_core || needs_attach_btf(spec) {
        let target = if needs_core || opts.target_btf.is_some() {
            target_btf(opts)?
        } else {
            kernel_btf()?
        };
        if needs_core {
            out.core = if opts.target_btf.is_some() {
                crate::core_load::relocate(spec, &target)?
            } else {
                crate::core_load::relocate_kernel(spec, &target)?
            };
        }
        out.target = Some(target);
    }
    // The object's BTF into the kernel; without it, go on (logged).
    if let Some(btf) = &spec.btf {
        match sys::btf_load(&btf.to_bytes(), 1) {
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
        let vmlinux = match &self.target {
            Some(t) => t.clone(),
            None => kernel_btf()?,
        };
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

    /// Add to a verifier log which CO-RE relocations of `prog` were
    /// unresolved (their instructions were poisoned).
    pub fn explain_poison(&self, log: &str, prog: &str, section: &str) -> String {
        let poisoned: Vec<String> = self
            .core
            .iter()
            .filter(|r| r.target_value.is_none() && (r.section == section || r.section == ".text"))
            .map(|r| {
                format!(
                    "  insn {}: {} {} ({})",
                    r.insn_idx, r.kind, r.access, r.type_name
                )
            })
            .collect();
        if poisoned.is_empty() || !(log.contains("195896080") || log.contains("bad2310")) {
            return log.to_string();
        }
        format!(
            "{log}\nprogram {prog} reached an instruction poisoned by an unresolved CO-RE relocation; \
             unresolved in section {section}:\n{}",
            poisoned.join("\n")
        )
    }
}
