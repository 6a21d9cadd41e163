//! The loader's verifier-log policy over the single-shot `BPF_PROG_LOAD` and
//! `BPF_BTF_LOAD` of [`crate::sys`]: load first without a log (fast, no
//! buffer); on failure load again with a log so the error can say why,
//! growing the buffer while the kernel reports it too small.

use std::os::fd::{BorrowedFd, OwnedFd};

use nix::errno::Errno;

use crate::sys::{self, ProgLoadAttr, SysError, VerifierLog};

const LOG_START: usize = 64 * 1024;
/// 16 MiB - 1: kernels before 5.2 reject log sizes above `u32::MAX >> 8`.
const LOG_MAX: usize = (u32::MAX >> 8) as usize;

/// Run `load` with the loader's log policy: first without a log; on failure
/// again with a 64 KiB log at `level` (at least 1), growing it (to the size
/// the kernel reports, or ×4) while the kernel says it is too small
/// (`ENOSPC`), up to 16 MiB. Errors carry the log text.
fn with_log_retry<F>(
    call: &'static str,
    level: u32,
    mut load: F,
) -> Result<OwnedFd, (SysError, String)>
where
    F: FnMut(Option<&mut VerifierLog>) -> Result<OwnedFd, (Errno, u32)>,
{
    let first = match load(None) {
        Ok(fd) => return Ok(fd),
        Err((e, _)) => e,
    };
    log::debug!("{call} failed ({first}); retrying with a log");
    let mut log = VerifierLog {
        level: level.max(1),
        buf: vec![0; LOG_START],
        true_size: 0,
    };
    loop {
        match load(Some(&mut log)) {
            Ok(fd) => return Ok(fd),
            // Kernels before 6.4 (no `log_true_size`) report 0: grow ×4.
            Err((Errno::ENOSPC, true_size)) if log.buf.len() < LOG_MAX => {
                let want = (true_size as usize)
                    .max(log.buf.len().saturating_mul(4))
                    .min(LOG_MAX);
                log::debug!(
                    "{call}: log of {} bytes too small, retrying with {want}",
                    log.buf.len()
                );
                log.buf = vec![0; want];
            }
            Err((e, _)) => return Err((SysError::new(call, e), log.text())),
        }
    }
}

/// `BPF_PROG_LOAD` with the log retry policy: no log first, then a growing
/// log at `level`.
pub(crate) fn prog_load_with_log_retry(
    a: &ProgLoadAttr<'_>,
    level: u32,
) -> Result<OwnedFd, (SysError, String)> {
    with_log_retry("BPF_PROG_LOAD", level, |log| {
        sys::prog_load(a, log).map_err(|e| (e.errno, e.log_true_size))
    })
}

/// `BPF_BTF_LOAD` of a raw BTF blob with the same log retry policy as
/// [`prog_load_with_log_retry`].
pub(crate) fn btf_load_with_log_retry(
    data: &[u8],
    level: u32,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, (SysError, String)> {
    with_log_retry("BPF_BTF_LOAD", level, |log| {
        sys::btf_load_token(data, log, token).map_err(|e| (e.errno, e.log_true_size))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_retry_grows_then_reports() {
        let mut sizes = Vec::new();
        let r = with_log_retry("T", 1, |log| match log {
            None => Err((Errno::EACCES, 0)),
            Some(l) => {
                sizes.push(l.buf.len());
                if l.buf.len() < 1_000_000 {
                    Err((Errno::ENOSPC, 300_000))
                } else {
                    l.buf[..5].copy_from_slice(b"oops\0");
                    Err((Errno::EACCES, 0))
                }
            }
        });
        let (e, text) = r.unwrap_err();
        assert_eq!(e, SysError::new("T", Errno::EACCES));
        assert_eq!(text, "oops");
        assert_eq!(sizes, vec![64 * 1024, 300_000, 1_200_000]);
    }

    /// Kernels before 6.4 do not report the size they needed
    /// (`log_true_size` stays 0): the buffer grows ×4 until the log fits,
    /// and the load that then succeeds is the answer.
    #[test]
    fn log_retry_without_true_size() {
        let mut sizes = Vec::new();
        let r = with_log_retry("T", 1, |log| match log {
            None => Err((Errno::EACCES, 0)),
            Some(l) if l.buf.len() < 2_000_000 => {
                sizes.push(l.buf.len());
                Err((Errno::ENOSPC, 0))
            }
            Some(l) => {
                sizes.push(l.buf.len());
                l.buf[..3].copy_from_slice(b"no\0");
                Err((Errno::EACCES, 0))
            }
        });
        let (e, text) = r.unwrap_err();
        assert_eq!(e.errno, Errno::EACCES);
        assert_eq!(text, "no");
        assert_eq!(sizes, vec![65536, 262144, 1048576, 4194304]);
    }

    #[test]
    fn log_retry_caps() {
        let mut last = 0;
        let r = with_log_retry("T", 2, |log| match log {
            None => Err((Errno::EINVAL, 0)),
            Some(l) => {
                assert_eq!(l.level, 2);
                last = l.buf.len();
                Err((Errno::ENOSPC, 0))
            }
        });
        assert_eq!(r.unwrap_err().0.errno, Errno::ENOSPC);
        assert_eq!(last, LOG_MAX);
    }
}
