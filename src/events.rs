//! Small helpers for tools built on tinybpf: Ctrl-C without signal handlers
//! (a signalfd), and `bpf_printk` output from tracefs' `trace_pipe`.

use crate::error::{Error, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::time::Duration;

/// SIGINT/SIGTERM delivered through a signalfd: call [`Interrupt::new`] before
/// starting threads (it blocks the signals for this thread and its children).
pub struct Interrupt {
    fd: SignalFd,
}

impl Interrupt {
    /// Catch SIGINT and SIGTERM from now on (they no longer end the process).
    pub fn new() -> Result<Interrupt> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block()
            .map_err(|e| Error::sys("block SIGINT", crate::sys::SysError::new("sigprocmask", e)))?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| Error::sys("signalfd", crate::sys::SysError::new("signalfd", e)))?;
        Ok(Interrupt { fd })
    }

    /// Whether SIGINT or SIGTERM arrived (non-blocking).
    pub fn pending(&self) -> bool {
        matches!(self.fd.read_signal(), Ok(Some(_)))
    }

    /// Sleep up to `d`; true if interrupted.
    pub fn wait(&self, d: Duration) -> bool {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ms = PollTimeout::try_from(d.as_millis().min(i32::MAX as u128) as i32)
            .unwrap_or(PollTimeout::MAX);
        let _ = poll(&mut fds, ms);
        self.pending()
    }

    /// An fd that becomes readable when a signal arrives, for your own poll loop.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The kernel's `trace_pipe` (where `bpf_printk` writes), read without blocking.
pub struct TracePipe {
    file: File,
    partial: Vec<u8>,
}

impl TracePipe {
    /// Open `trace_pipe` (tracefs is found, or mounted).
    pub fn open() -> Result<TracePipe> {
        let path = crate::tracefs::trace_pipe_path()?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblock()
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TracePipe {
            file,
            partial: Vec::new(),
        })
    }

    /// Throw away what `trace_pipe` already holds (output of earlier runs or
    /// other programs), without waiting; returns the bytes discarded. Call it
    /// right after [`TracePipe::open`], before attaching, so that only this
    /// session's lines are read.
    pub fn discard_pending(&mut self) -> Result<usize> {
        let mut buf = [0u8; 8192];
        let mut total = self.partial.len();
        self.partial.clear();
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        path: "trace_pipe".into(),
                        source,
                    })
                }
            }
        }
    }

    /// Wait up to `timeout` for output (or for `interrupt`), and return the
    /// complete lines read.
    pub fn read_lines(
        &mut self,
        timeout: Duration,
        interrupt: Option<&Interrupt>,
    ) -> Result<Vec<String>> {
        let ms = PollTimeout::try_from(timeout.as_millis().min(i32::MAX as u128) as i32)
            .unwrap_or(PollTimeout::MAX);
        {
            let mut fds = vec![PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            if let Some(i) = interrupt {
                fds.push(PollFd::new(i.as_fd(), PollFlags::POLLIN));
            }
            let _ = poll(&mut fds, ms);
        }
        let mut buf = [0u8; 8192];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        path: "trace_pipe".into(),
                        source,
                    })
                }
            }
        }
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        Ok(lines)
    }
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

/// A minimal `log` backend for small tools: records at `level` or above go to
/// stderr as `tinybpf: <level>: <message>`. (Bigger programs bring their own
/// logger; this one keeps tiny binaries tiny.)
pub fn log_to_stderr(level: log::LevelFilter) {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::max_level()
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                eprintln!(
                    "tinybpf: {}: {}",
                    r.level().as_str().to_ascii_lowercase(),
                    r.args()
                );
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
