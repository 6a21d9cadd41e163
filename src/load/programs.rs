//! Programs into the kernel: link (subprograms, map and data pseudo-insns,
//! `.kconfig` references), patch map fds, fill BPF_PROG_LOAD's attributes
//! (license, flags, kernel version, BTF func/line info, attach BTF ids) and
//! load with the verifier-log retry policy of [`super::log`].

use super::btf::ObjBtf;
use super::log::prog_load_with_log_retry;
use super::LoadOptions;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::section::prog_type;
use crate::obj::ObjectSpec;
use crate::program::Program;
use crate::reloc::kconfig::patch_refs;
use crate::reloc::link::{link_program, ExtInfo, LinkedProgram};
use crate::sys::{self, ProgLoadAttr};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

fn encode_ext(l: &LinkedProgram) -> (Vec<u8>, Vec<u8>) {
    let mut fi = Vec::with_capacity(l.func_info.len() * 8);
    for f in &l.func_info {
        fi.extend_from_slice(&f.insn_off.to_le_bytes());
        fi.extend_from_slice(&f.type_id.to_le_bytes());
    }
    let mut li = Vec::with_capacity(l.line_info.len() * 16);
    for r in &l.line_info {
        for v in [r.insn_off, r.file_name_off, r.line_off, r.line_col] {
            li.extend_from_slice(&v.to_le_bytes());
        }
    }
    (fi, li)
}

/// `LINUX_VERSION_CODE` of the running kernel (0 when unreadable).
fn kernel_version_code() -> u32 {
    crate::util::release::version_code(&sys::uname_release()).unwrap_or(0)
}

/// The license as the C string BPF_PROG_LOAD takes (NULs dropped).
fn c_license(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Link program `i` of `spec` (subprograms, map fds of `maps`, `.kconfig`
/// references), then BPF_PROG_LOAD it with the log retry policy.
#[allow(clippy::too_many_arguments)] // the load's parts, borrowed from the Loader
pub(super) fn load_program(
    spec: &ObjectSpec,
    i: usize,
    maps: &[Map],
    btf_fd: Option<&OwnedFd>,
    btf: &ObjBtf,
    ext: &ExtInfo,
    opts: &LoadOptions,
    token: Option<BorrowedFd<'_>>,
) -> Result<Program> {
    let p = &spec.programs[i];
    let kind = p.kind.clone().ok_or_else(|| Error::UnknownSection {
        program: p.name.clone(),
        section: p.section.clone(),
    })?;
    let mut linked = link_program(spec, i, ext)?;
    patch_refs(&mut linked, spec)?;
    linked.patch_fds(|m| maps[m].fd().as_raw_fd());
    if let Some(dir) = &opts.dump_insns {
        let path = dir.join(format!("{}.insns", p.name));
        std::fs::write(&path, crate::abi::insn::Insn::encode_all(&linked.insns)).map_err(
            |source| Error::Io {
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    let (attach_btf_id, attach_btf_obj_fd) = btf.attach_target(&kind, &p.name)?;
    let ext = super::freplace::ext_target(opts, &p.name, &kind)?;
    let (fi, li) = if btf_fd.is_some() {
        encode_ext(&linked)
    } else {
        (Vec::new(), Vec::new())
    };
    let license = c_license(&spec.license);
    let mut prog_flags = 0;
    if kind.sleepable {
        prog_flags |= BPF_F_SLEEPABLE;
    }
    if kind.xdp_frags {
        prog_flags |= BPF_F_XDP_HAS_FRAGS;
    }
    let kern_version = if spec.kern_version != 0 && spec.kern_version != 0xFFFF_FFFE {
        spec.kern_version
    } else if kind.prog_type == prog_type::KPROBE {
        kernel_version_code()
    } else {
        0
    };
    let name = crate::obj::maps::kernel_name(&p.name);
    let attr = ProgLoadAttr {
        prog_type: kind.prog_type,
        insns: &linked.insns,
        license: &license,
        kern_version,
        prog_flags,
        name: name.as_bytes(),
        expected_attach_type: kind.expected_attach_type,
        prog_btf_fd: if fi.is_empty() {
            None
        } else {
            btf_fd.map(|f| f.as_fd())
        },
        func_info: &fi,
        func_info_rec_size: if fi.is_empty() { 0 } else { 8 },
        line_info: if fi.is_empty() { &[] } else { &li },
        line_info_rec_size: if fi.is_empty() || li.is_empty() {
            0
        } else {
            16
        },
        attach_btf_id: ext.as_ref().map_or(attach_btf_id, |(id, _)| *id),
        attach_btf_obj_fd: attach_btf_obj_fd.as_ref().map(|f| f.as_fd()),
        attach_prog_fd: ext.as_ref().map(|(_, f)| f.as_fd()),
        token_fd: token,
        ..Default::default()
    };
    log::debug!(
        "loading program {} ({} insns, section {})",
        p.name,
        linked.insns.len(),
        p.section
    );
    match prog_load_with_log_retry(&attr, opts.log_level.max(1)) {
        Ok(fd) => Ok(Program {
            name: p.name.clone(),
            section: p.section.clone(),
            kind,
            fd,
        }),
        Err((e, log)) => {
            let log = btf.explain_poison(&log, &p.name, &linked, spec);
            let log = super::freplace::explain_refusal(&kind, e.errno, log);
            Err(Error::Verifier {
                program: p.name.clone(),
                errno: e.errno,
                log,
            })
        }
    }
}
