//! Programs: `BPF_PROG_LOAD`, `BPF_PROG_TEST_RUN`, `BPF_PROG_BIND_MAP`.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::{name_from_field, obj_name, SysError, SysResult};
use crate::abi::insn::{
    Insn, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, CALL, LD_IMM64,
};

/// Arguments of `BPF_PROG_LOAD`. `func_info`/`line_info` are the raw records
/// (`bpf_func_info` / `bpf_line_info`), their count is `len / rec_size`.
/// `fd_array` backs `BPF_PSEUDO_MAP_IDX*` loads and module kfunc calls.
#[derive(Debug, Clone, Copy)]
pub struct ProgLoadAttr<'a> {
    pub prog_type: u32,
    pub insns: &'a [Insn],
    pub license: &'a CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub name: &'a [u8],
    pub expected_attach_type: u32,
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
    pub attach_btf_obj_fd: Option<BorrowedFd<'a>>,
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    pub fd_array: &'a [RawFd],
    /// A BPF token (6.9+): sets `prog_token_fd` and `BPF_F_TOKEN_FD`.
    pub token_fd: Option<BorrowedFd<'a>>,
}

impl Default for ProgLoadAttr<'_> {
    fn default() -> Self {
        ProgLoadAttr {
            prog_type: 0,
            insns: &[],
            license: c"GPL",
            kern_version: 0,
            prog_flags: 0,
            name: b"",
            expected_attach_type: 0,
            prog_btf_fd: None,
            func_info: &[],
            func_info_rec_size: 0,
            line_info: &[],
            line_info_rec_size: 0,
            attach_btf_id: 0,
            attach_btf_obj_fd: None,
            attach_prog_fd: None,
            fd_array: &[],
            token_fd: None,
        }
    }
}

/// The verifier log buffer: `buf.len()` is the size offered to the kernel
/// (at least 128 bytes when non-empty); `true_size` is what the kernel
/// reported it needed (6.4+; 0 on older kernels).
#[derive(Debug, Default, Clone)]
pub struct VerifierLog {
    pub level: u32,
    pub buf: Vec<u8>,
    pub true_size: u32,
}

impl VerifierLog {
    /// The log text up to the first NUL.
    pub fn text(&self) -> String {
        name_from_field(&self.buf)
    }
}

/// A failed `BPF_PROG_LOAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgLoadError {
    pub errno: Errno,
    pub log_true_size: u32,
}

impl std::fmt::Display for ProgLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        SysError::new("BPF_PROG_LOAD", self.errno).fmt(f)
    }
}

impl std::error::Error for ProgLoadError {}

impl From<ProgLoadError> for SysError {
    fn from(e: ProgLoadError) -> SysError {
        SysError::new("BPF_PROG_LOAD", e.errno)
    }
}

/// Check that every fd_array index in `insns` is inside `fd_array` (the
/// kernel reads `fd_array[idx]` without knowing the array's length).
fn check_fd_array(insns: &[Insn], fd_array: &[RawFd]) -> Result<(), Errno> {
    for (i, insn) in insns.iter().enumerate() {
        let idx = if insn.code == LD_IMM64
            && matches!(insn.src(), BPF_PSEUDO_MAP_IDX | BPF_PSEUDO_MAP_IDX_VALUE)
        {
            Some(insn.imm as u32 as usize)
        } else if insn.code == CALL && insn.src() == BPF_PSEUDO_KFUNC_CALL && insn.off != 0 {
            Some(insn.off as u16 as usize)
        } else {
            None
        };
        if let Some(idx) = idx {
            if idx >= fd_array.len() {
                log::debug!(
                    "BPF_PROG_LOAD: insn {i} uses fd_array[{idx}], array has {}",
                    fd_array.len()
                );
                return Err(Errno::EINVAL);
            }
        }
    }
    Ok(())
}

fn record_count(len: usize, rec_size: u32) -> Result<u32, Errno> {
    if len == 0 {
        return Ok(0);
    }
    if rec_size == 0 || len % rec_size as usize != 0 {
        return Err(Errno::EINVAL);
    }
    u32::try_from(len / rec_size as usize).map_err(|_| Errno::E2BIG)
}

/// The `BPF_PROG_LOAD` attr of `a`, without the log. Fields newer than a
/// kernel (`fd_array` 5.13, `core_relos` 5.17, `log_true_size` 6.4) stay zero
/// unless used: a kernel whose `union bpf_attr` is smaller accepts the longer
/// attr as long as the bytes past its own size are zero (else `E2BIG`), so
/// one size serves every kernel.
fn prog_load_attr(a: &ProgLoadAttr<'_>) -> Result<raw::ProgLoad, Errno> {
    check_fd_array(a.insns, a.fd_array)?;
    if a.attach_btf_obj_fd.is_some() && a.attach_prog_fd.is_some() {
        return Err(Errno::EINVAL);
    }
    let insn_cnt = u32::try_from(a.insns.len()).map_err(|_| Errno::E2BIG)?;
    Ok(raw::ProgLoad {
        prog_type: a.prog_type,
        insn_cnt,
        insns: ptr(a.insns),
        license: a.license.as_ptr() as u64,
        kern_version: a.kern_version,
        prog_flags: a.prog_flags | a.token_fd.map_or(0, |_| super::BPF_F_TOKEN_FD),
        prog_name: obj_name(a.name),
        expected_attach_type: a.expected_attach_type,
        prog_btf_fd: opt_fd(a.prog_btf_fd),
        func_info_rec_size: if a.func_info.is_empty() {
            0
        } else {
            a.func_info_rec_size
        },
        func_info: ptr(a.func_info),
        func_info_cnt: record_count(a.func_info.len(), a.func_info_rec_size)?,
        line_info_rec_size: if a.line_info.is_empty() {
            0
        } else {
            a.line_info_rec_size
        },
        line_info: ptr(a.line_info),
        line_info_cnt: record_count(a.line_info.len(), a.line_info_rec_size)?,
        attach_btf_id: a.attach_btf_id,
        attach_fd: opt_fd(a.attach_btf_obj_fd.or(a.attach_prog_fd)),
        fd_array: ptr(a.fd_array),
        prog_token_fd: a.token_fd.map_or(0, |f| fd_u32(f) as i32),
        ..Default::default()
    })
}

/// `BPF_PROG_LOAD` once. With `log`, the kernel fills `log.buf` at
/// `log.level` and `log.true_size` is updated.
pub fn prog_load(
    a: &ProgLoadAttr<'_>,
    mut log: Option<&mut VerifierLog>,
) -> Result<OwnedFd, ProgLoadError> {
    let fail = |errno| ProgLoadError {
        errno,
        log_true_size: 0,
    };
    let mut attr = prog_load_attr(a).map_err(fail)?;
    if let Some(l) = log.as_deref_mut() {
        if !l.buf.is_empty() {
            attr.log_level = l.level;
            attr.log_size = len_u32("BPF_PROG_LOAD", l.buf.len()).map_err(|e| fail(e.errno))?;
            attr.log_buf = mut_ptr(&mut l.buf);
        }
    }
    let res = sys_bpf_retry(BPF_PROG_LOAD, &mut attr);
    if let Some(l) = log {
        l.true_size = attr.log_true_size;
    }
    match res {
        Ok(fd) => Ok(owned_fd(fd)),
        Err(errno) => Err(ProgLoadError {
            errno,
            log_true_size: attr.log_true_size,
        }),
    }
}

/// Arguments of `BPF_PROG_TEST_RUN`. `data_out`/`ctx_out` receive the
/// output; their lengths are the sizes offered to the kernel.
#[derive(Debug)]
pub struct TestRunAttr<'a> {
    pub prog_fd: BorrowedFd<'a>,
    pub data_in: &'a [u8],
    pub data_out: Option<&'a mut [u8]>,
    pub ctx_in: &'a [u8],
    pub ctx_out: Option<&'a mut [u8]>,
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
}

impl<'a> TestRunAttr<'a> {
    pub fn new(prog_fd: BorrowedFd<'a>) -> TestRunAttr<'a> {
        TestRunAttr {
            prog_fd,
            data_in: &[],
            data_out: None,
            ctx_in: &[],
            ctx_out: None,
            repeat: 0,
            flags: 0,
            cpu: 0,
            batch_size: 0,
        }
    }
}

/// What `BPF_PROG_TEST_RUN` reported. `data_size_out`/`ctx_size_out` are the
/// sizes the kernel produced (may exceed the buffers; then it returned ENOSPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunOut {
    pub retval: u32,
    pub duration_ns: u32,
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

pub fn prog_test_run(a: &mut TestRunAttr<'_>) -> SysResult<TestRunOut> {
    let call = "BPF_PROG_TEST_RUN";
    let mut attr = raw::TestRun {
        prog_fd: fd_u32(a.prog_fd),
        data_size_in: len_u32(call, a.data_in.len())?,
        data_in: ptr(a.data_in),
        repeat: a.repeat,
        ctx_size_in: len_u32(call, a.ctx_in.len())?,
        ctx_in: ptr(a.ctx_in),
        flags: a.flags,
        cpu: a.cpu,
        batch_size: a.batch_size,
        ..Default::default()
    };
    if let Some(out) = a.data_out.as_deref_mut() {
        attr.data_size_out = len_u32(call, out.len())?;
        attr.data_out = mut_ptr(out);
    }
    if let Some(out) = a.ctx_out.as_deref_mut() {
        attr.ctx_size_out = len_u32(call, out.len())?;
        attr.ctx_out = mut_ptr(out);
    }
    sys_bpf(BPF_PROG_TEST_RUN, &mut attr).map_err(|e| SysError::new(call, e))?;
    Ok(TestRunOut {
        retval: attr.retval,
        duration_ns: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}

/// Keep `map` alive as long as `prog` (maps the program uses only indirectly).
pub fn prog_bind_map(prog: BorrowedFd<'_>, map: BorrowedFd<'_>) -> SysResult<()> {
    let mut attr = raw::ProgBindMap {
        prog_fd: fd_u32(prog),
        map_fd: fd_u32(map),
        flags: 0,
    };
    sys_bpf(BPF_PROG_BIND_MAP, &mut attr).map_err(|e| SysError::new("BPF_PROG_BIND_MAP", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::insn::BPF_PSEUDO_MAP_FD;

    /// A program load that uses every field older kernels know, and no
    /// newer one, leaves the attr zero past `attach_prog_fd` (offset 116):
    /// 5.10's `union bpf_attr` ends at 120, and the kernel takes a longer
    /// attr only with a zero tail (else E2BIG).
    #[test]
    fn prog_load_attr_zero_tail_for_old_kernels() {
        let insns = [Insn::new(0xb7, 0, 0, 0, 0), Insn::new(0x95, 0, 0, 0, 0)];
        let rec = [1u8; 16];
        let a = ProgLoadAttr {
            prog_type: 26,
            insns: &insns,
            kern_version: 0x050a00,
            prog_flags: 1,
            name: b"p",
            expected_attach_type: 24,
            func_info: &rec,
            func_info_rec_size: 8,
            line_info: &rec,
            line_info_rec_size: 16,
            attach_btf_id: 7,
            ..Default::default()
        };
        let attr = prog_load_attr(&a).unwrap();
        // SAFETY: ProgLoad is repr(C) with explicit padding fields, all
        // initialised; viewing its bytes reads initialised memory.
        let bytes = unsafe {
            core::slice::from_raw_parts(
                &attr as *const raw::ProgLoad as *const u8,
                core::mem::size_of::<raw::ProgLoad>(),
            )
        };
        assert!(bytes[..116].iter().any(|&b| b != 0));
        assert!(bytes[116..].iter().all(|&b| b == 0), "{:?}", &bytes[116..]);
        // fd_array, when used, is the only newer field set.
        let fds = [3];
        let attr = prog_load_attr(&ProgLoadAttr {
            fd_array: &fds,
            ..a
        })
        .unwrap();
        assert_ne!(attr.fd_array, 0);
        assert_eq!(
            (attr.core_relo_cnt, attr.core_relos, attr.log_true_size),
            (0, 0, 0)
        );
    }

    #[test]
    fn fd_array_indices_checked() {
        let ld = |src, imm| Insn::new(LD_IMM64, 1, src, 0, imm);
        let ok = [
            ld(BPF_PSEUDO_MAP_IDX, 1),
            Insn::default(),
            ld(BPF_PSEUDO_MAP_FD, 99),
            Insn::default(),
        ];
        assert!(check_fd_array(&ok, &[3, 4]).is_ok());
        assert_eq!(check_fd_array(&ok, &[3]), Err(Errno::EINVAL));
        let kf = [Insn::new(CALL, 0, BPF_PSEUDO_KFUNC_CALL, 2, 77)];
        assert_eq!(check_fd_array(&kf, &[0, 0]), Err(Errno::EINVAL));
        assert!(check_fd_array(&kf, &[0, 0, 5]).is_ok());
        let neg = [ld(BPF_PSEUDO_MAP_IDX_VALUE, -1), Insn::default()];
        assert_eq!(check_fd_array(&neg, &[1, 2, 3]), Err(Errno::EINVAL));
    }

    #[test]
    fn record_counts() {
        assert_eq!(record_count(0, 0), Ok(0));
        assert_eq!(record_count(24, 8), Ok(3));
        assert_eq!(record_count(25, 8), Err(Errno::EINVAL));
        assert_eq!(record_count(8, 0), Err(Errno::EINVAL));
    }
}
