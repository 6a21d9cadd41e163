//! `.ksyms` externs, the kernel-facing half: `/proc/kallsyms` (read once per
//! process, only when an untyped extern needs it), vmlinux and module BTF
//! (modules only when a name is not in vmlinux), the fds of the module BTFs
//! that resolved something, and the `fd_array` programs are loaded with.
//! The resolution and the instruction patching are pure
//! ([`crate::reloc::ksyms`]).

use crate::error::{Error, Result};
use crate::load::target::{kernel_btf, module_btf_fd, named_module_btfs};
use crate::obj::ObjectSpec;
use crate::reloc::ksyms::{self, Kallsyms, KernelSyms, KsymValue};
use crate::reloc::link::{LinkError, LinkedProgram};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

const KALLSYMS: &str = "/proc/kallsyms";

/// `/proc/kallsyms`, read and indexed once per process.
fn kallsyms() -> Result<Arc<Kallsyms>> {
    static CACHE: Mutex<Option<Arc<Kallsyms>>> = Mutex::new(None);
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = &*c {
        return Ok(k.clone());
    }
    let text = std::fs::read_to_string(KALLSYMS).map_err(|source| Error::Io {
        path: KALLSYMS.into(),
        source,
    })?;
    // Without the privilege to see them, every address reads as 0.
    let hidden = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .all(|a| a.bytes().all(|b| b == b'0'));
    if hidden {
        return Err(Error::Link(LinkError::Ksym {
            name: KALLSYMS.into(),
            reason: "every address reads as 0 (kernel.kptr_restrict): untyped __ksym externs \
                     need CAP_SYSLOG (run as root)"
                .into(),
        }));
    }
    let k = Arc::new(Kallsyms::parse(&text));
    log::debug!("{KALLSYMS}: {} symbols", k.len());
    *c = Some(k.clone());
    Ok(k)
}

/// The resolved `.ksyms` externs of one load, and the module BTF fds they
/// need (kept open until the programs are loaded).
#[derive(Debug, Default)]
pub(crate) struct Ksyms {
    values: HashMap<String, KsymValue>,
    /// Module index → (its BTF fd, its `fd_array` index).
    modules: HashMap<usize, (OwnedFd, i16)>,
    /// `fd_array` of BPF_PROG_LOAD: index 0 unused, then each module used.
    fd_array: Vec<RawFd>,
}

impl Ksyms {
    /// Resolve the `.ksyms` externs of `spec` against the running kernel.
    pub(crate) fn resolve(spec: &ObjectSpec) -> Result<Ksyms> {
        if spec.externs.iter().all(|e| e.kconfig) {
            return Ok(Ksyms::default());
        }
        let vmlinux = kernel_btf()?;
        let (need_modules, need_kallsyms) = ksyms::needs(spec, &vmlinux);
        let modules = if need_modules {
            named_module_btfs(&vmlinux)
        } else {
            Vec::new()
        };
        let ks = if need_kallsyms {
            Some(kallsyms()?)
        } else {
            None
        };
        let values = ksyms::resolve(
            spec,
            &KernelSyms {
                vmlinux: &vmlinux,
                modules: &modules,
                kallsyms: ks.as_deref(),
            },
        )?;
        let mut out = Ksyms {
            fd_array: vec![-1],
            ..Default::default()
        };
        for v in values.values() {
            let KsymValue::Btf {
                module: Some(m), ..
            } = *v
            else {
                continue;
            };
            if out.modules.contains_key(&m) {
                continue;
            }
            let name = &modules[m].0;
            let fd = module_btf_fd(name).ok_or_else(|| LinkError::Ksym {
                name: name.clone(),
                reason: format!("module {name}'s BTF object has no fd (BTF_GET_FD_BY_ID)"),
            })?;
            let idx = i16::try_from(out.fd_array.len()).map_err(|_| LinkError::Ksym {
                name: name.clone(),
                reason: "too many module BTFs for fd_array".into(),
            })?;
            out.fd_array.push(fd.as_raw_fd());
            out.modules.insert(m, (fd, idx));
        }
        out.values = values;
        if out.fd_array.len() == 1 {
            out.fd_array.clear();
        }
        Ok(out)
    }

    /// Patch the `.ksyms` references of one linked program.
    pub(crate) fn patch(&self, linked: &mut LinkedProgram, spec: &ObjectSpec) -> Result<()> {
        let module = |m: usize| {
            self.modules
                .get(&m)
                .map_or((0, 0), |(fd, i)| (fd.as_raw_fd(), *i))
        };
        ksyms::patch(linked, spec, &self.values, &module)?;
        Ok(())
    }

    /// `log` with a note appended when a `.ksyms` extern made the verifier
    /// fail (see [`ksyms::explain_log`]).
    pub(crate) fn explain(log: String, spec: &ObjectSpec) -> String {
        match ksyms::explain_log(&log, spec) {
            Some(note) => format!("{log}\ntinybpf: {note}"),
            None => log,
        }
    }

    /// `fd_array` for BPF_PROG_LOAD (empty when no module BTF is used).
    pub(crate) fn fd_array(&self) -> &[RawFd] {
        &self.fd_array
    }
}
