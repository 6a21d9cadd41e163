//! Programs into the kernel: link (subprograms, map and data pseudo-insns,
//! `.kconfig` references), patch map fds, fill BPF_PROG_LOAD's attributes
//! (license, flags, kernel version, BTF func/line info, attach BTF ids) and
//! load with the verifier-log retry policy of [`super::log`].
//!
//! Each program goes through three steps: [`prepare`] (everything up to the
//! syscall, kept in a [`PreparedLoad`]), [`PreparedLoad::load`] (the
//! syscall and its log retry) and [`finish`] (a [`Program`], or the error
//! with the poison explanation). [`load_all`] runs them for a list of
//! programs, from several threads when asked: the kernel verifies
//! independent programs concurrently. The result does not depend on the
//! thread count: the programs in object order, or the error of the first
//! failing program in object order (every fd made is closed).

use super::btf::ObjBtf;
use super::log::prog_load_with_log_retry;
use super::LoadOptions;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::section::prog_type;
use crate::obj::{ObjectSpec, ProgKind};
use crate::program::Program;
use crate::reloc::kconfig::patch_refs;
use crate::reloc::link::{link_program, ExtInfo, LinkedProgram};
use crate::sys::{self, ProgLoadAttr, SysError};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// What every program's load reads: the object, its maps (already created),
/// its BTF (uploaded) and the options.
pub(super) struct Ctx<'a> {
    pub spec: &'a ObjectSpec,
    pub maps: &'a [Map],
    pub btf_fd: Option<&'a OwnedFd>,
    pub btf: &'a ObjBtf,
    pub ext: &'a ExtInfo,
    pub opts: &'a LoadOptions,
}

/// One program ready for BPF_PROG_LOAD: everything the syscall needs, owned
/// (so it can move to a worker thread), plus the linked code for explaining
/// a rejection.
pub(super) struct PreparedLoad {
    /// Index of the program in the object's `programs`.
    pub index: usize,
    kind: ProgKind,
    linked: LinkedProgram,
    license: CString,
    name: String,
    kern_version: u32,
    prog_flags: u32,
    func_info: Vec<u8>,
    line_info: Vec<u8>,
    attach_btf_id: u32,
    attach_btf_obj_fd: Option<OwnedFd>,
    /// fds the instructions refer to by index (`BPF_PSEUDO_MAP_IDX*`,
    /// module kfunc calls); empty when none.
    fd_array: Vec<RawFd>,
}

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

/// Link program `i` (subprograms, map fds, `.kconfig` references), write
/// its instructions to `dump_insns` when asked, and gather the rest of
/// BPF_PROG_LOAD's attributes.
pub(super) fn prepare(cx: &Ctx<'_>, i: usize) -> Result<PreparedLoad> {
    let spec = cx.spec;
    let p = &spec.programs[i];
    let kind = p.kind.clone().ok_or_else(|| Error::UnknownSection {
        program: p.name.clone(),
        section: p.section.clone(),
    })?;
    let mut linked = link_program(spec, i, cx.ext)?;
    patch_refs(&mut linked, spec)?;
    linked.patch_fds(|m| cx.maps[m].fd().as_raw_fd());
    if let Some(dir) = &cx.opts.dump_insns {
        let path = dir.join(format!("{}.insns", p.name));
        std::fs::write(&path, crate::abi::insn::Insn::encode_all(&linked.insns)).map_err(
            |source| Error::Io {
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    let (attach_btf_id, attach_btf_obj_fd) = cx.btf.attach_target(&kind, &p.name)?;
    let (func_info, line_info) = if cx.btf_fd.is_some() {
        encode_ext(&linked)
    } else {
        (Vec::new(), Vec::new())
    };
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
    Ok(PreparedLoad {
        index: i,
        kind,
        linked,
        license: c_license(&spec.license),
        name: crate::obj::maps::kernel_name(&p.name).to_string(),
        kern_version,
        prog_flags,
        func_info,
        line_info,
        attach_btf_id,
        attach_btf_obj_fd,
        fd_array: Vec::new(),
    })
}

impl PreparedLoad {
    /// BPF_PROG_LOAD with the log retry policy (`level` when rejected).
    pub(super) fn load(
        &self,
        btf_fd: Option<&OwnedFd>,
        level: u32,
    ) -> std::result::Result<OwnedFd, (SysError, String)> {
        let fi = &self.func_info;
        let attr = ProgLoadAttr {
            prog_type: self.kind.prog_type,
            insns: &self.linked.insns,
            license: &self.license,
            kern_version: self.kern_version,
            prog_flags: self.prog_flags,
            name: self.name.as_bytes(),
            expected_attach_type: self.kind.expected_attach_type,
            prog_btf_fd: if fi.is_empty() {
                None
            } else {
                btf_fd.map(|f| f.as_fd())
            },
            func_info: fi,
            func_info_rec_size: if fi.is_empty() { 0 } else { 8 },
            line_info: if fi.is_empty() { &[] } else { &self.line_info },
            line_info_rec_size: if fi.is_empty() || self.line_info.is_empty() {
                0
            } else {
                16
            },
            attach_btf_id: self.attach_btf_id,
            attach_btf_obj_fd: self.attach_btf_obj_fd.as_ref().map(|f| f.as_fd()),
            fd_array: &self.fd_array,
            ..Default::default()
        };
        log::debug!(
            "loading program {} ({} insns)",
            self.name,
            self.linked.insns.len()
        );
        prog_load_with_log_retry(&attr, level.max(1))
    }
}

/// The [`Program`] of a load, or its error (the verifier log, with the
/// unresolved CO-RE relocations explained when it hit a poisoned insn).
pub(super) fn finish(
    cx: &Ctx<'_>,
    prep: PreparedLoad,
    loaded: std::result::Result<OwnedFd, (SysError, String)>,
) -> Result<Program> {
    let p = &cx.spec.programs[prep.index];
    match loaded {
        Ok(fd) => Ok(Program {
            name: p.name.clone(),
            section: p.section.clone(),
            kind: prep.kind,
            fd,
        }),
        Err((e, log)) => {
            let log = cx
                .btf
                .explain_poison(&log, &p.name, &prep.linked, cx.spec);
            Err(Error::Verifier {
                program: p.name.clone(),
                errno: e.errno,
                log,
            })
        }
    }
}

/// Prepare, load and finish program `i`.
fn load_one(cx: &Ctx<'_>, i: usize) -> Result<Program> {
    let prep = prepare(cx, i)?;
    let loaded = prep.load(cx.btf_fd, cx.opts.log_level);
    finish(cx, prep, loaded)
}

/// The number of threads a load with `jobs` uses (0 = available CPUs).
pub(super) fn job_count(jobs: usize) -> usize {
    if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    }
}

/// Load programs `which` (indices into the object's programs, in object
/// order) with up to `jobs` threads. Returns them in the order of `which`,
/// or the error of the first of them that failed; on error every program
/// loaded here is closed.
pub(super) fn load_all(cx: &Ctx<'_>, which: &[usize], jobs: usize) -> Result<Vec<Program>> {
    let threads = job_count(jobs).min(which.len());
    if threads <= 1 {
        return which.iter().map(|&i| load_one(cx, i)).collect();
    }
    log::debug!("loading {} programs on {threads} threads", which.len());
    // Positions in `which` are handed out in order; once position `f` has
    // failed, positions after it are not started (their result could not
    // matter), but every position before it is, so the first failure in
    // object order is always found.
    let next = AtomicUsize::new(0);
    let first_failed = AtomicUsize::new(usize::MAX);
    let done: Mutex<Vec<(usize, Result<Program>)>> = Mutex::new(Vec::with_capacity(which.len()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let pos = next.fetch_add(1, Ordering::Relaxed);
                if pos >= which.len() || pos > first_failed.load(Ordering::Acquire) {
                    break;
                }
                let r = load_one(cx, which[pos]);
                if r.is_err() {
                    first_failed.fetch_min(pos, Ordering::AcqRel);
                }
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((pos, r));
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|(pos, _)| *pos);
    // Everything before the first failure succeeded; the first `Err` is
    // returned and the rest (and the programs already collected) dropped.
    done.into_iter().map(|(_, r)| r).collect()
}
