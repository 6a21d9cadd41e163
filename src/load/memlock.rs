//! RLIMIT_MEMLOCK: only raised on kernels that charge BPF memory to it.
//!
//! Whether they do is probed ([`Features::memcg_account`], memcg accounting
//! came with 5.11), not read from the release. The probe loads a program, and
//! on a kernel that charges programs to RLIMIT_MEMLOCK that load could itself
//! fail for want of locked memory (the limit is per user, shared with every
//! other BPF user of that uid): so the limit is raised for the probe and put
//! back when the probe finds memcg accounting. A failed probe is never a
//! wrong "memcg" answer: it only leaves the limit raised. When the limit
//! cannot be raised (a capped hard limit) there is nothing to decide and
//! nothing is probed.

use std::sync::OnceLock;

use crate::features::Features;
use crate::sys;

/// What to do with RLIMIT_MEMLOCK, given the limit before the probe (`None`:
/// unknown).
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Already unlimited: nothing to probe, nothing to change.
    Unlimited,
    /// Raise to infinity for the probe, then decide.
    Probe,
}

fn plan(current: Option<(u64, u64)>) -> Plan {
    match current {
        Some((soft, _)) if soft == u64::MAX => Plan::Unlimited,
        _ => Plan::Probe,
    }
}

/// Once per process: on kernels that still charge BPF objects to
/// RLIMIT_MEMLOCK, raise it to infinity. Never fails; a failure to raise is
/// logged as a warning.
pub(crate) fn ensure_memlock() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let before = sys::getrlimit_memlock().ok();
        if plan(before) == Plan::Unlimited {
            log::debug!("RLIMIT_MEMLOCK is already unlimited");
            return;
        }
        // Raised while probing, so the probe's own load cannot fail on it.
        let raised = sys::setrlimit_memlock(u64::MAX, u64::MAX);
        if let Err(e) = raised {
            // Nothing left to decide: whatever the probe would say, the limit
            // stays as it is (a capped hard limit: systemd's default 8 MiB
            // for root). Not probing saves a program load per process; on a
            // kernel before 5.11 a map or program refused for want of locked
            // memory fails with EPERM, whose error names RLIMIT_MEMLOCK.
            log::debug!(
                "could not raise RLIMIT_MEMLOCK ({e}); left as is (before Linux 5.11, large maps or programs may then fail with EPERM)"
            );
            return;
        }
        if Features::memcg_account() {
            log::debug!("BPF memory is memcg-accounted; RLIMIT_MEMLOCK left alone");
            if let Some((soft, hard)) = before {
                if let Err(e) = sys::setrlimit_memlock(soft, hard) {
                    log::debug!("could not restore RLIMIT_MEMLOCK ({e}); it stays unlimited");
                }
            }
            return;
        }
        log::debug!("BPF memory counts against RLIMIT_MEMLOCK (no memcg accounting); raised it");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        assert_eq!(plan(Some((u64::MAX, u64::MAX))), Plan::Unlimited);
        assert_eq!(plan(Some((65536, 65536))), Plan::Probe);
        assert_eq!(plan(Some((8 << 20, u64::MAX))), Plan::Probe);
        assert_eq!(plan(None), Plan::Probe);
    }

    /// On memcg-accounted kernels (the probe says so) the limit is left as
    /// it was; on older ones it is raised to infinity.
    #[test]
    fn memlock_left_alone_on_memcg_kernels() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let before = sys::getrlimit_memlock().unwrap();
        ensure_memlock();
        let after = sys::getrlimit_memlock().unwrap();
        if Features::memcg_account() {
            assert_eq!(before, after);
        } else {
            assert_eq!(after.0, u64::MAX);
        }
    }
}
