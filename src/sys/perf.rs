//! perf_event_open(2) and the perf ioctls BPF needs.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::{last_errno, SysError, SysResult};

pub const PERF_TYPE_SOFTWARE: u32 = 1;
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
pub const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
pub const PERF_SAMPLE_RAW: u64 = 1 << 10;
pub const PERF_FLAG_FD_CLOEXEC: u64 = 1 << 3;

// _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32); encoded per architecture.
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = nix::request_code_none!(b'$', 0) as libc::c_ulong;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = nix::request_code_none!(b'$', 1) as libc::c_ulong;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong =
    nix::request_code_write!(b'$', 8, core::mem::size_of::<u32>()) as libc::c_ulong;

/// Bit `n` of the C bitfield word that starts with `disabled` (bitfields are
/// allocated from the least significant bit on little-endian targets and from
/// the most significant one on big-endian ones).
pub const fn perf_flag(n: u32) -> u64 {
    if cfg!(target_endian = "big") {
        1 << (63 - n)
    } else {
        1 << n
    }
}
pub const PERF_ATTR_FLAG_DISABLED: u64 = perf_flag(0);
pub const PERF_ATTR_FLAG_INHERIT: u64 = perf_flag(1);
pub const PERF_ATTR_FLAG_WATERMARK: u64 = perf_flag(14);

/// `struct perf_event_attr` (PERF_ATTR_SIZE_VER7, 128 bytes). The lifetime
/// ties it to the strings `config1` points at for kprobe/uprobe events.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PerfEventAttr<'a> {
    pub type_: u32,
    pub size: u32,
    pub config: u64,
    /// `sample_period` / `sample_freq`.
    pub sample_period: u64,
    pub sample_type: u64,
    pub read_format: u64,
    /// The bitfield word (`disabled`, `inherit`, ...): see [`perf_flag`].
    pub flags: u64,
    /// `wakeup_events` / `wakeup_watermark`.
    pub wakeup_events: u32,
    pub bp_type: u32,
    /// `bp_addr` / `kprobe_func` / `uprobe_path` / `config1`.
    pub config1: u64,
    /// `bp_len` / `kprobe_addr` / `probe_offset` / `config2`.
    pub config2: u64,
    pub branch_sample_type: u64,
    pub sample_regs_user: u64,
    pub sample_stack_user: u32,
    pub clockid: i32,
    pub sample_regs_intr: u64,
    pub aux_watermark: u32,
    pub sample_max_stack: u16,
    pub _reserved_2: u16,
    pub aux_sample_size: u32,
    pub _reserved_3: u32,
    pub sig_data: u64,
    pub _strings: PhantomData<&'a CStr>,
}

/// A dynamic PMU (`kprobe`/`uprobe`): its type and the `retprobe` config bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePmu {
    pub pmu_type: u32,
    pub retprobe_bit: u32,
}

fn read_trimmed(call: &'static str, path: &Path) -> SysResult<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| SysError::from_io(call, &e))
}

/// Parse `config:N` (the format of `.../format/retprobe`).
pub(crate) fn parse_config_bit(s: &str) -> Option<u32> {
    let n: u32 = s.trim().strip_prefix("config:")?.parse().ok()?;
    (n < 64).then_some(n)
}

/// Parse `config:LO-HI` or `config:N` (a PMU format file) → the low bit.
pub(crate) fn parse_config_shift(s: &str) -> Option<u32> {
    let spec = s.trim().strip_prefix("config:")?;
    let lo: u32 = spec.split('-').next()?.parse().ok()?;
    (lo < 64).then_some(lo)
}

/// Where the uprobe PMU takes `ref_ctr_offset` (a USDT semaphore's file
/// offset) in `perf_event_attr.config`: the low bit of
/// `/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset`
/// (`config:32-63`, so 32). Kernels before 4.20 have no such file.
pub fn uprobe_ref_ctr_shift() -> SysResult<u32> {
    let path = Path::new("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset");
    let fmt = read_trimmed("read uprobe PMU ref_ctr_offset format", path)?;
    parse_config_shift(&fmt).ok_or(SysError::new(
        "parse uprobe PMU ref_ctr_offset format",
        Errno::EINVAL,
    ))
}

impl ProbePmu {
    /// Read `/sys/bus/event_source/devices/<name>/{type,format/retprobe}`
    /// (`name` is `kprobe` or `uprobe`).
    pub fn read(name: &str) -> SysResult<ProbePmu> {
        let call = "read PMU type from /sys/bus/event_source/devices";
        let dir = Path::new("/sys/bus/event_source/devices").join(name);
        let pmu_type = read_trimmed(call, &dir.join("type"))?
            .parse()
            .map_err(|_| SysError::new(call, Errno::EINVAL))?;
        let fmt = read_trimmed("read PMU retprobe format", &dir.join("format/retprobe"))?;
        let retprobe_bit = parse_config_bit(&fmt)
            .ok_or(SysError::new("parse PMU retprobe format", Errno::EINVAL))?;
        Ok(ProbePmu {
            pmu_type,
            retprobe_bit,
        })
    }
}

impl<'a> PerfEventAttr<'a> {
    fn base(type_: u32, config: u64) -> PerfEventAttr<'a> {
        PerfEventAttr {
            type_,
            size: core::mem::size_of::<PerfEventAttr>() as u32,
            config,
            sample_period: 1,
            wakeup_events: 1,
            ..Default::default()
        }
    }

    /// A tracepoint event (`id` from tracefs `events/<cat>/<name>/id`).
    pub fn tracepoint(id: u64) -> PerfEventAttr<'a> {
        Self::base(PERF_TYPE_TRACEPOINT, id)
    }

    /// The software event behind `BPF_MAP_TYPE_PERF_EVENT_ARRAY` output.
    pub fn bpf_output() -> PerfEventAttr<'a> {
        let mut a = Self::base(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT);
        a.sample_type = PERF_SAMPLE_RAW;
        a
    }

    /// A uprobe on `path` at file `offset` through the `uprobe` PMU.
    pub fn uprobe(pmu: ProbePmu, path: &'a CStr, offset: u64, retprobe: bool) -> PerfEventAttr<'a> {
        Self::probe(pmu, path, offset, retprobe)
    }

    /// A kprobe on `func`+`offset` through the `kprobe` PMU.
    pub fn kprobe(pmu: ProbePmu, func: &'a CStr, offset: u64, retprobe: bool) -> PerfEventAttr<'a> {
        Self::probe(pmu, func, offset, retprobe)
    }

    fn probe(pmu: ProbePmu, s: &'a CStr, offset: u64, retprobe: bool) -> PerfEventAttr<'a> {
        let config = if retprobe {
            1u64 << (pmu.retprobe_bit & 63)
        } else {
            0
        };
        let mut a = Self::base(pmu.pmu_type, config);
        a.config1 = s.as_ptr() as u64;
        a.config2 = offset;
        a
    }
}

/// perf_event_open(2); `PERF_FLAG_FD_CLOEXEC` is always added to `flags`.
pub fn perf_event_open(
    attr: &PerfEventAttr<'_>,
    pid: i32,
    cpu: i32,
    group_fd: Option<BorrowedFd<'_>>,
    flags: u64,
) -> SysResult<OwnedFd> {
    let group = group_fd.map(|f| f.as_raw_fd()).unwrap_or(-1);
    // Never let the kernel read past the struct.
    let mut attr = *attr;
    attr.size = attr.size.min(core::mem::size_of::<PerfEventAttr>() as u32);
    // SAFETY: `attr` is a complete perf_event_attr of at least `size` bytes;
    // the strings config1 may point at live as long as the caller's attr ('a).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr<'_>,
            pid as libc::c_int,
            cpu as libc::c_int,
            group as libc::c_int,
            (flags | PERF_FLAG_FD_CLOEXEC) as libc::c_ulong,
        )
    };
    if ret < 0 {
        return Err(SysError::new("perf_event_open", last_errno()));
    }
    // SAFETY: a new fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

fn perf_ioctl(
    call: &'static str,
    fd: BorrowedFd<'_>,
    req: libc::c_ulong,
    arg: libc::c_int,
) -> SysResult<()> {
    // SAFETY: the perf ioctls used here take an int argument by value.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if ret < 0 {
        Err(SysError::new(call, last_errno()))
    } else {
        Ok(())
    }
}

/// Attach a BPF program to a perf event (the pre-link way).
pub fn perf_event_ioc_set_bpf(fd: BorrowedFd<'_>, prog_fd: BorrowedFd<'_>) -> SysResult<()> {
    perf_ioctl(
        "PERF_EVENT_IOC_SET_BPF",
        fd,
        PERF_EVENT_IOC_SET_BPF,
        prog_fd.as_raw_fd(),
    )
}

pub fn perf_event_ioc_enable(fd: BorrowedFd<'_>) -> SysResult<()> {
    perf_ioctl("PERF_EVENT_IOC_ENABLE", fd, PERF_EVENT_IOC_ENABLE, 0)
}

pub fn perf_event_ioc_disable(fd: BorrowedFd<'_>) -> SysResult<()> {
    perf_ioctl("PERF_EVENT_IOC_DISABLE", fd, PERF_EVENT_IOC_DISABLE, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layout() {
        // From include/uapi/linux/perf_event.h.
        assert_eq!(offset_of!(PerfEventAttr, config), 8);
        assert_eq!(offset_of!(PerfEventAttr, sample_period), 16);
        assert_eq!(offset_of!(PerfEventAttr, flags), 40);
        assert_eq!(offset_of!(PerfEventAttr, wakeup_events), 48);
        assert_eq!(offset_of!(PerfEventAttr, bp_type), 52);
        assert_eq!(offset_of!(PerfEventAttr, config1), 56);
        assert_eq!(offset_of!(PerfEventAttr, config2), 64);
        assert_eq!(offset_of!(PerfEventAttr, clockid), 92);
        assert_eq!(offset_of!(PerfEventAttr, sample_max_stack), 108);
        assert_eq!(offset_of!(PerfEventAttr, aux_sample_size), 112);
        assert_eq!(offset_of!(PerfEventAttr, sig_data), 120);
        assert_eq!(size_of::<PerfEventAttr>(), 128);
        assert_eq!(PerfEventAttr::tracepoint(5).size, 128);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            (
                PERF_EVENT_IOC_ENABLE,
                PERF_EVENT_IOC_DISABLE,
                PERF_EVENT_IOC_SET_BPF
            ),
            (0x2400, 0x2401, 0x4004_2408)
        );
    }

    #[test]
    fn probes() {
        assert_eq!(parse_config_bit("config:0\n"), Some(0));
        assert_eq!(parse_config_bit("config:12"), Some(12));
        assert_eq!(parse_config_bit("config1:0"), None);
        assert_eq!(parse_config_bit("config:64"), None);
        let pmu = ProbePmu {
            pmu_type: 8,
            retprobe_bit: 0,
        };
        let path = c"/bin/true";
        let a = PerfEventAttr::uprobe(pmu, path, 0x1234, true);
        assert_eq!(
            (a.type_, a.config, a.config1, a.config2),
            (8, 1, path.as_ptr() as u64, 0x1234)
        );
        assert_eq!(PerfEventAttr::bpf_output().sample_type, PERF_SAMPLE_RAW);
    }

    #[test]
    fn ref_ctr_format() {
        assert_eq!(parse_config_shift("config:32-63\n"), Some(32));
        assert_eq!(parse_config_shift("config:5"), Some(5));
        assert_eq!(parse_config_shift("config1:32-63"), None);
        assert_eq!(parse_config_shift("config:64-70"), None);
    }
}
