//! RLIMIT_MEMLOCK: only raised on kernels that charge BPF memory to it.

use std::sync::OnceLock;

use crate::sys;

/// Whether a kernel of this release accounts BPF memory through memcg
/// (5.11 and later) instead of RLIMIT_MEMLOCK. Unknown releases: assume not.
pub(crate) fn memcg_accounted(release: &str) -> bool {
    crate::util::release::parse(release).is_some_and(|(a, b, _)| (a, b) >= (5, 11))
}

/// Once per process: on kernels that still charge BPF objects to
/// RLIMIT_MEMLOCK, raise it to infinity. Never fails; a failure to raise is
/// logged as a warning.
pub(crate) fn ensure_memlock() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let release = sys::uname_release();
        if memcg_accounted(&release) {
            log::debug!("kernel {release}: BPF memory is memcg-accounted; RLIMIT_MEMLOCK left alone");
            return;
        }
        log::debug!("kernel {release:?}: BPF memory counts against RLIMIT_MEMLOCK; raising it");
        if let Err(e) = sys::setrlimit_memlock(u64::MAX, u64::MAX) {
            log::warn!("could not raise RLIMIT_MEMLOCK ({e}); loading large maps or programs may fail with EPERM");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        assert!(memcg_accounted("5.11.0"));
        assert!(memcg_accounted("6.1.0-13-amd64"));
        assert!(!memcg_accounted("5.10.0-28-amd64"));
        assert!(!memcg_accounted("4.19.0"));
        assert!(!memcg_accounted(""));
    }

    /// On memcg-accounted kernels the limit is left alone; on older ones it
    /// is raised to infinity.
    #[test]
    fn memlock_left_alone_on_memcg_kernels() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let before = sys::getrlimit_memlock().unwrap();
        ensure_memlock();
        let after = sys::getrlimit_memlock().unwrap();
        if memcg_accounted(&sys::uname_release()) {
            assert_eq!(before, after);
        } else {
            assert_eq!(after.0, u64::MAX);
        }
    }
}
