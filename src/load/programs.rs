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
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// What BPF_PROG_LOAD gave: the fd, or the error and the verifier log.
pub(super) type LoadResult = std::result::Result<OwnedFd, (SysError, String)>;

const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// What every program's load reads: the object, its maps (already created),
/// its BTF (uploaded) and the options.
pub(super) struct Ctx<'a> {
    pub spec: &'a ObjectSpec,
    pub maps: &'a [Map],
    /// A duplicate of the object's BTF fd, shared by every [`PreparedLoad`].
    pub btf_fd: Option<Arc<OwnedFd>>,
    pub btf: &'a ObjBtf,
    pub ext: &'a ExtInfo,
    /// The resolved `.ksyms` externs (module BTF fds stay open in it).
    pub ksyms: &'a super::ksyms::Ksyms,
    /// A duplicate of the BPF token's fd, when loads go through one.
    pub token: Option<Arc<OwnedFd>>,
    /// Attach ids of struct_ops programs.
    pub struct_ops: &'a super::struct_ops::StructOps,
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
    /// An `freplace` program's target program.
    attach_prog_fd: Option<OwnedFd>,
    /// The object's BTF (for func/line info), shared by the programs.
    prog_btf_fd: Option<Arc<OwnedFd>>,
    /// The BPF token every load goes through, when one is used.
    token: Option<Arc<OwnedFd>>,
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
    let mut kind = p.kind.clone().ok_or_else(|| Error::UnknownSection {
        program: p.name.clone(),
        section: p.section.clone(),
    })?;
    let mut linked = link_program(spec, i, cx.ext)?;
    patch_refs(&mut linked, spec)?;
    cx.ksyms.patch(&mut linked, spec)?;
    linked.patch_fds(|m| cx.maps[m].fd().as_raw_fd());
    if let Some(dir) = &cx.opts.dump_insns {
        let path = dir.join(format!("{}.insns", p.name));
        std::fs::write(&path, crate::abi::insn::Insn::encode_all(&linked.insns)).map_err(
            |source| Error::Io {
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    let (attach_btf_id, attach_btf_obj_fd) =
        match cx.struct_ops.program_target(&mut kind, &p.name)? {
            Some(id) => (id, None),
            None => cx.btf.attach_target(&kind, &p.name)?,
        };
    let ext = super::freplace::ext_target(cx.opts, &p.name, &kind)?;
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
        attach_btf_id: ext.as_ref().map_or(attach_btf_id, |(id, _)| *id),
        attach_btf_obj_fd,
        attach_prog_fd: ext.map(|(_, fd)| fd),
        prog_btf_fd: cx.btf_fd.clone(),
        token: cx.token.clone(),
        fd_array: cx.ksyms.fd_array().to_vec(),
    })
}

impl PreparedLoad {
    /// BPF_PROG_LOAD with the log retry policy (`level` when rejected).
    pub(super) fn load(&self, level: u32) -> LoadResult {
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
                self.prog_btf_fd.as_deref().map(|f| f.as_fd())
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
            attach_prog_fd: self.attach_prog_fd.as_ref().map(|f| f.as_fd()),
            token_fd: self.token.as_deref().map(|f| f.as_fd()),
            fd_array: &self.fd_array,
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
pub(super) fn finish(cx: &Ctx<'_>, prep: PreparedLoad, loaded: LoadResult) -> Result<Program> {
    let p = &cx.spec.programs[prep.index];
    match loaded {
        Ok(fd) => Ok(Program {
            name: p.name.clone(),
            section: p.section.clone(),
            kind: prep.kind,
            fd,
        }),
        Err((e, log)) => {
            let log = cx.btf.explain_poison(&log, &p.name, &prep.linked, cx.spec);
            let log = super::ksyms::Ksyms::explain(log, cx.spec);
            let log = super::freplace::explain_refusal(&prep.kind, e.errno, log);
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
    let loaded = prep.load(cx.opts.log_level);
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

/// The queue of prepared loads the threads of [`load_all`] take from.
struct Shared {
    queue: Mutex<VecDeque<(usize, PreparedLoad)>>,
    /// The smallest position that failed (`usize::MAX`: none yet).
    first_failed: AtomicUsize,
    level: u32,
}

/// A position, its prepared load, and what loading it gave (`None`: not
/// loaded, because an earlier position had failed).
type Done = (usize, PreparedLoad, Option<LoadResult>);

impl Shared {
    /// Take the next prepared load and load it; `None` when none is left.
    fn work_one(&self) -> Option<Done> {
        let (pos, prep) = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()?;
        if pos > self.first_failed.load(Ordering::Acquire) {
            return Some((pos, prep, None));
        }
        let r = prep.load(self.level);
        if r.is_err() {
            self.first_failed.fetch_min(pos, Ordering::AcqRel);
        }
        Some((pos, prep, Some(r)))
    }
}

/// Helpers start only when the loads left are estimated (from the average
/// time of those done so far) to take at least this long on one thread:
/// shorter work gains little from threads, and on a busy machine a new
/// thread can cost more (scheduling latency) than it saves.
const HELPERS_WORTH: Duration = Duration::from_millis(2);

/// Whether loads `left` after `done` loads in `elapsed` are worth helpers.
fn worth_helpers(elapsed: Duration, done: usize, left: usize) -> bool {
    done > 0
        && left > 0
        && elapsed.as_secs_f64() / done as f64 * left as f64 >= HELPERS_WORTH.as_secs_f64()
}

/// Start `n` helper threads taking loads from `shared` and sending what
/// they did to `tx` (fewer if threads cannot be made).
fn spawn_helpers(shared: &Arc<Shared>, tx: &mpsc::Sender<Done>, n: usize) {
    for _ in 0..n {
        let (shared, tx) = (Arc::clone(shared), tx.clone());
        let spawned = std::thread::Builder::new()
            .name("tinybpf-load".into())
            .spawn(move || {
                while let Some(d) = shared.work_one() {
                    if tx.send(d).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            log::debug!("no helper thread ({e}); loading on fewer threads");
            break;
        }
    }
}

/// Load programs `which` (indices into the object's programs, in object
/// order) with up to `jobs` threads. Returns them in the order of `which`,
/// or the error of the first of them that failed; on error every program
/// loaded here is closed.
///
/// With more than one thread, every program is prepared on the calling
/// thread first (in order, up to the first that cannot be), then the
/// prepared loads are taken from a queue, in order, by the calling thread
/// and, once the loads left look long enough ([`HELPERS_WORTH`]), `jobs - 1`
/// helper threads. The calling thread waits only for loads a helper has
/// taken: on a busy machine a helper that has not been scheduled yet costs
/// nothing (it finds the queue empty and exits later; it holds no fd). Once a position has failed, later positions are not loaded (their
/// result could not matter); every earlier one is, so the first failure in
/// object order is always found.
///
/// Without the `parallel-load` feature every load runs on the calling
/// thread (as `jobs` 1) and no thread code is linked.
///
/// `jobs` 0 (available CPUs) is resolved only when helpers are worth
/// starting: reading the CPU count (cgroup quota files included) costs a few
/// syscalls that a small object loading in under 2 ms never needs.
pub(super) fn load_all(cx: &Ctx<'_>, which: &[usize], jobs: usize) -> Result<Vec<Program>> {
    if jobs == 1 || which.len() <= 1 || !cfg!(feature = "parallel-load") {
        return which.iter().map(|&i| load_one(cx, i)).collect();
    }
    let mut queue = VecDeque::with_capacity(which.len());
    let mut prepare_error = None;
    for (pos, &i) in which.iter().enumerate() {
        match prepare(cx, i) {
            Ok(p) => queue.push_back((pos, p)),
            Err(e) => {
                prepare_error = Some(e);
                break;
            }
        }
    }
    let total = queue.len();
    log::debug!("loading {total} programs (jobs = {jobs}, 0: one per available CPU)");
    let shared = Arc::new(Shared {
        queue: Mutex::new(queue),
        first_failed: AtomicUsize::new(usize::MAX),
        level: cx.opts.log_level,
    });
    let (tx, rx) = mpsc::channel::<Done>();
    let mut tx = Some(tx);
    let started = Instant::now();
    let mut done = Vec::with_capacity(total);
    loop {
        let left = total.saturating_sub(done.len());
        if worth_helpers(started.elapsed(), done.len(), left) {
            if let Some(tx) = tx.take() {
                let threads = job_count(jobs).min(which.len());
                log::debug!("{left} loads left: up to {threads} threads");
                spawn_helpers(&shared, &tx, threads.saturating_sub(1).min(left));
            }
        }
        match shared.work_one() {
            Some(d) => done.push(d),
            None => break,
        }
    }
    drop(tx);
    // Wait for the loads helpers took. Should a helper die with one, the
    // channel closes once every helper is gone and that position is missing.
    while done.len() < total {
        match rx.recv() {
            Ok(d) => done.push(d),
            Err(_) => break,
        }
    }
    crate::util::sort::sort_by_key(&mut done, |d| d.0);
    let mut out = Vec::with_capacity(total);
    for (n, (pos, prep, r)) in done.into_iter().enumerate() {
        let r = match r {
            Some(r) if pos == n => r,
            // Not loaded: skipped after a failure (returned by `finish`
            // before we get here) or lost with a helper that panicked.
            _ => return Err(lost(cx, which[n])),
        };
        out.push(finish(cx, prep, r)?);
    }
    if out.len() < total {
        return Err(lost(cx, which[out.len()]));
    }
    match prepare_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The error for program `i` whose load was lost with a helper thread.
fn lost(cx: &Ctx<'_>, i: usize) -> Error {
    Error::Invalid(format!(
        "program {} was not loaded: a load thread stopped (a bug; load with jobs = 1 to avoid threads)",
        cx.spec.programs[i].name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_only_for_long_work() {
        let ms = Duration::from_millis;
        assert!(!worth_helpers(ms(5), 0, 10), "nothing measured yet");
        assert!(!worth_helpers(ms(5), 1, 0), "nothing left");
        assert!(!worth_helpers(Duration::from_micros(300), 3, 3));
        assert!(worth_helpers(ms(10), 1, 15));
        assert!(worth_helpers(ms(1), 1, 2));
    }
}
