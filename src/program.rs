//! Loaded programs: attach (by section, or to an explicit target), test-run, pin.

use crate::abi::ProgType;
use crate::error::{AttachError, Error, Result};
use crate::link::{Link, LinkFd};
use crate::obj::section::{attach_type, prog_type};
pub use crate::obj::ProbeKind;
use crate::obj::ProgKind;
use crate::sys::{self, PerfEventAttr};
use crate::tracefs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// A loaded program.
#[derive(Debug)]
pub struct Program {
    pub(crate) name: String,
    pub(crate) section: String,
    pub(crate) kind: ProgKind,
    pub(crate) fd: OwnedFd,
}

/// Result of [`Program::test_run`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestRun {
    /// The program's return value (of the last run).
    pub retval: u32,
    /// Average duration of one run, in nanoseconds.
    pub duration_ns: u32,
    /// The packet data after the run (as long as the kernel wrote).
    pub data_out: Vec<u8>,
    /// The context after the run (as long as the kernel wrote).
    pub ctx_out: Vec<u8>,
}

/// Input of [`Program::test_run`]: start from [`TestRunOpts::default`] and
/// chain the setters, e.g. `TestRunOpts::default().data_in(&pkt).repeat(1)`.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TestRunOpts<'a> {
    /// Input packet data.
    pub data_in: &'a [u8],
    /// Room for output data (0: as large as the input).
    pub data_out_size: usize,
    /// Input context (e.g. a `struct __sk_buff`, or a raw tracepoint's args).
    pub ctx_in: &'a [u8],
    /// Room for the output context (0: none).
    pub ctx_out_size: usize,
    /// How many times to run (0 and 1 both run once).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// The CPU to run on, with `BPF_F_TEST_RUN_ON_CPU` in `flags`.
    pub cpu: u32,
}

impl<'a> TestRunOpts<'a> {
    /// Input packet data.
    #[must_use]
    pub fn data_in(mut self, data: &'a [u8]) -> Self {
        self.data_in = data;
        self
    }
    /// Room for output data (0: as large as the input).
    #[must_use]
    pub fn data_out_size(mut self, size: usize) -> Self {
        self.data_out_size = size;
        self
    }
    /// Input context.
    #[must_use]
    pub fn ctx_in(mut self, ctx: &'a [u8]) -> Self {
        self.ctx_in = ctx;
        self
    }
    /// Room for the output context.
    #[must_use]
    pub fn ctx_out_size(mut self, size: usize) -> Self {
        self.ctx_out_size = size;
        self
    }
    /// How many times to run.
    #[must_use]
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = n;
        self
    }
    /// `BPF_F_TEST_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }
    /// The CPU to run on (needs `BPF_F_TEST_RUN_ON_CPU` in the flags).
    #[must_use]
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = cpu;
        self
    }
}

/// Which processes a uprobe fires in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pid {
    /// Every process that runs the probed code.
    #[default]
    Any,
    /// Only this process (0: the calling process).
    Of(u32),
}

/// How a uprobe attaches: start from [`UprobeOpts::default`] (an entry
/// probe in every process) and chain the setters, e.g.
/// `UprobeOpts::default().kind(ProbeKind::Return).pid(Pid::Of(pid))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UprobeOpts {
    /// Entry or return probe.
    pub kind: ProbeKind,
    /// Which processes.
    pub pid: Pid,
}

impl UprobeOpts {
    /// Entry or return probe.
    #[must_use]
    pub fn kind(mut self, kind: ProbeKind) -> Self {
        self.kind = kind;
        self
    }
    /// Which processes.
    #[must_use]
    pub fn pid(mut self, pid: Pid) -> Self {
        self.pid = pid;
        self
    }
}

impl Program {
    /// The program's name (its function name in the object).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The ELF section it came from (`"tp/syscalls/sys_enter_execve"`, ...).
    pub fn section(&self) -> &str {
        &self.section
    }
    /// The program's type (`ProgType::Xdp`, ...; `.raw()` for the number).
    pub fn prog_type(&self) -> ProgType {
        ProgType::from_raw(self.kind.prog_type)
    }
    /// What the section name means: type, expected attach type, target.
    pub fn kind(&self) -> &ProgKind {
        &self.kind
    }
    /// The program's file descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
    /// The program's file descriptor as a number (still owned by `self`).
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
    /// The kernel's id of this program.
    pub fn id(&self) -> Result<u32> {
        Ok(sys::prog_info(self.fd()).map_err(|e| self.err(e))?.id)
    }

    /// A failed call for this program (the error names the call).
    fn err(&self, e: sys::SysError) -> Error {
        Error::sys(format!("program {}", self.name), e)
    }

    /// A failed BPF_PROG_TEST_RUN, with the usual causes spelled out.
    fn test_run_err(&self, input_len: usize, e: sys::SysError) -> Error {
        let skb_like = matches!(
            self.kind.prog_type,
            prog_type::XDP
                | prog_type::SCHED_CLS
                | prog_type::SCHED_ACT
                | prog_type::SOCKET_FILTER
                | prog_type::CGROUP_SKB
        );
        let why = if e.not_supported() {
            ": this program type cannot be test-run by the kernel".to_string()
        } else if e.errno == nix::errno::Errno::EINVAL && skb_like && input_len < 14 {
            format!(
                ": XDP and skb programs need at least 14 bytes of input (an Ethernet header), got {input_len}"
            )
        } else {
            String::new()
        };
        Error::sys(format!("program {}{why}", self.name), e)
    }

    pub(crate) fn attach_err(
        &self,
        target: impl Into<String>,
        reason: impl Into<AttachError>,
    ) -> Error {
        Error::Attach {
            program: self.name.clone(),
            target: target.into(),
            reason: reason.into(),
        }
    }

    /// Attach to a perf event through a BPF link where the kernel has perf
    /// links ([`crate::features::Features::perf_link`], 5.15), else with the
    /// `PERF_EVENT_IOC_SET_BPF` ioctl.
    fn attach_perf(&self, perf: OwnedFd, desc: String) -> Result<Link> {
        if crate::features::Features::perf_link() {
            return match sys::link_create(
                self.fd(),
                sys::LinkTarget::Fd(perf.as_fd()),
                attach_type::PERF_EVENT,
                0,
                sys::LinkCreateExtra::PerfEvent { bpf_cookie: 0 },
            ) {
                Ok(link) => Ok(Link::bpf(link, Some(perf), desc)),
                Err(e) => Err(self.attach_err(desc, e)),
            };
        }
        log::debug!("{desc}: no perf links on this kernel; attaching by ioctl");
        sys::perf_event_ioc_set_bpf(perf.as_fd(), self.fd())
            .map_err(|e| self.attach_err(&desc, e))?;
        sys::perf_event_ioc_enable(perf.as_fd()).map_err(|e| self.attach_err(&desc, e))?;
        Ok(Link {
            fd: LinkFd::PerfIoctl { perf },
            desc,
        })
    }

    /// Attach to tracepoint `category/name` (tracefs is found, or mounted).
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link> {
        let target = format!("tracepoint {category}/{name}");
        let id = tracefs::tracepoint_id(category, name).map_err(|e| self.attach_err(&target, e))?;
        let attr = PerfEventAttr::tracepoint(id);
        let perf =
            sys::perf_event_open(&attr, -1, 0, None, 0).map_err(|e| self.attach_err(&target, e))?;
        log::debug!("attaching {} to {target} (id {id})", self.name);
        self.attach_perf(perf, format!("{} → {target}", self.name))
    }

    /// Attach to a raw tracepoint.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        let target = format!("raw tracepoint {name}");
        let c = std::ffi::CString::new(name)
            .map_err(|_| self.attach_err(&target, AttachError::NotPossible("NUL in name")))?;
        let fd = sys::raw_tracepoint_open(Some(&c), self.fd())
            .map_err(|e| self.attach_err(&target, e))?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name)))
    }

    /// Attach a tp_btf/fentry/fexit/fmod_ret/lsm program (its target was
    /// fixed at load time through attach_btf_id).
    pub fn attach_btf(&self, name: &str) -> Result<Link> {
        let target = format!("{} {name}", self.section.split('/').next().unwrap_or(""));
        if self.kind.expected_attach_type == attach_type::TRACE_ITER {
            return Err(self.attach_err(
                &target,
                AttachError::NotPossible(
                    "an iterator program is attached with attach_iter (or attach)",
                ),
            ));
        }
        let fd =
            if self.kind.prog_type == prog_type::LSM || self.kind.prog_type == prog_type::TRACING {
                sys::link_create(
                    self.fd(),
                    sys::LinkTarget::None,
                    self.kind.expected_attach_type,
                    0,
                    sys::LinkCreateExtra::None,
                )
                .or_else(|_| sys::raw_tracepoint_open(None, self.fd()))
            } else {
                sys::raw_tracepoint_open(None, self.fd())
            }
            .map_err(|e| self.attach_err(&target, e))?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name)))
    }

    /// Attach a kprobe (or kretprobe) at `func` + `offset` through the
    /// kprobe PMU.
    pub fn attach_kprobe(&self, func: &str, offset: u64, kind: ProbeKind) -> Result<Link> {
        let target = format!("{} {func}+{offset}", kind.kprobe_name());
        let pmu = sys::ProbePmu::read("kprobe").map_err(|e| {
            self.attach_err(
                &target,
                AttachError::NoPmu {
                    what: "kprobe support",
                    config: "CONFIG_KPROBES",
                    source: e,
                },
            )
        })?;
        let c = std::ffi::CString::new(func)
            .map_err(|_| self.attach_err(&target, AttachError::NotPossible("NUL in name")))?;
        let attr = PerfEventAttr::kprobe(pmu, &c, offset, kind.is_return());
        let perf =
            sys::perf_event_open(&attr, -1, 0, None, 0).map_err(|e| self.attach_err(&target, e))?;
        self.attach_perf(perf, format!("{} → {target}", self.name))
    }

    /// Attach a uprobe (or uretprobe, per `opts.kind`) at file offset
    /// `offset` of `path`, in the processes `opts.pid` says.
    pub fn attach_uprobe(&self, path: &Path, offset: u64, opts: UprobeOpts) -> Result<Link> {
        let target = format!("{} {}+{offset:#x}", opts.kind.uprobe_name(), path.display());
        let pmu = sys::ProbePmu::read("uprobe").map_err(|e| {
            self.attach_err(
                &target,
                AttachError::NoPmu {
                    what: "uprobe PMU",
                    config: "CONFIG_UPROBE_EVENTS",
                    source: e,
                },
            )
        })?;
        let abs = std::fs::canonicalize(path).map_err(|e| self.attach_err(&target, e))?;
        let c = std::ffi::CString::new(abs.as_os_str().as_encoded_bytes())
            .map_err(|_| self.attach_err(&target, AttachError::NotPossible("NUL in path")))?;
        let attr = PerfEventAttr::uprobe(pmu, &c, offset, opts.kind.is_return());
        // pid -1 needs a CPU; a uprobe event is not CPU-bound in practice
        // (the probe fires in any task), so CPU 0 is what libbpf uses too.
        let (pid, cpu) = match opts.pid {
            Pid::Any => (-1, 0),
            Pid::Of(p) => (
                i32::try_from(p).map_err(|_| {
                    self.attach_err(&target, AttachError::NotPossible("pid out of range"))
                })?,
                -1,
            ),
        };
        let perf = sys::perf_event_open(&attr, pid, cpu, None, 0)
            .map_err(|e| self.attach_err(&target, e))?;
        self.attach_perf(perf, format!("{} → {target}", self.name))
    }

    /// Attach a uprobe (or uretprobe, per `opts.kind`) at `symbol` +
    /// `offset` of `binary`, in the processes `opts.pid` says. `binary` is a path, or a bare
    /// library name such as `libc.so.6` (found through that process's
    /// mappings, `/etc/ld.so.cache` and the library directories: see
    /// [`crate::uprobe::resolve_binary`]); `symbol` may carry a version
    /// (`malloc@@GLIBC_2.2.5`), or be empty to make `offset` a file offset.
    pub fn attach_uprobe_symbol(
        &self,
        binary: &str,
        symbol: &str,
        offset: u64,
        opts: UprobeOpts,
    ) -> Result<Link> {
        let target = format!("{binary}:{symbol}");
        let pid = match opts.pid {
            Pid::Of(p) if p > 0 => i32::try_from(p).ok(),
            _ => None,
        };
        let path =
            crate::uprobe::resolve_binary(binary, pid).map_err(|e| self.attach_err(&target, e))?;
        let off = if symbol.is_empty() {
            offset
        } else {
            crate::uprobe::symbol_offset(&path, symbol)
                .map_err(|e| self.attach_err(&target, e))?
                .checked_add(offset)
                .ok_or_else(|| {
                    self.attach_err(&target, AttachError::NotPossible("symbol offset overflows"))
                })?
        };
        self.attach_uprobe(&path, off, opts)
    }

    /// Attach a perf_event program to a perf event the caller opened.
    pub fn attach_perf_event(&self, perf: OwnedFd) -> Result<Link> {
        self.attach_perf(perf, format!("{} → perf event", self.name))
    }

    /// Run the program once (or `repeat` times) on the given input
    /// (BPF_PROG_TEST_RUN).
    pub fn test_run(&self, opts: &TestRunOpts<'_>) -> Result<TestRun> {
        let mut data_out = vec![
            0u8;
            if opts.data_out_size == 0 {
                opts.data_in.len()
            } else {
                opts.data_out_size
            }
        ];
        let mut ctx_out = vec![0u8; opts.ctx_out_size];
        let mut attr = sys::TestRunAttr::new(self.fd());
        attr.data_in = opts.data_in;
        attr.data_out = if data_out.is_empty() {
            None
        } else {
            Some(&mut data_out)
        };
        attr.ctx_in = opts.ctx_in;
        attr.ctx_out = if ctx_out.is_empty() {
            None
        } else {
            Some(&mut ctx_out)
        };
        attr.repeat = opts.repeat;
        attr.flags = opts.flags;
        attr.cpu = opts.cpu;
        let out =
            sys::prog_test_run(&mut attr).map_err(|e| self.test_run_err(opts.data_in.len(), e))?;
        data_out.truncate(out.data_size_out as usize);
        ctx_out.truncate(out.ctx_size_out as usize);
        Ok(TestRun {
            retval: out.retval,
            duration_ns: out.duration_ns,
            data_out,
            ctx_out,
        })
    }

    /// Pin the program on bpffs.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        sys::obj_pin(self.fd(), path).map_err(|e| {
            Error::sys(
                format!("pin program {} at {}", self.name, path.display()),
                e,
            )
        })
    }
}
