//! RLIMIT_MEMLOCK: only raised on kernels that charge BPF memory to it.

use std::sync::OnceLock;

use crate::sys;

/// Parse `major.minor` from a kernel release string like `6.18.44-fc`.
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether a kernel of this release accounts BPF memory through memcg
/// (5.11 and later) instead of RLIMIT_MEMLOCK. Unknown releases: assume not.
pub fn memcg_accounted(release: &str) -> bool {
    parse_release(release).is_some_and(|v| v >= (5, 11))
}

/// Once per process: on kernels that still charge BPF objects to
/// RLIMIT_MEMLOCK, raise it to infinity. Never fails; a failure to raise is
/// logged as a warning.
pub fn ensure_memlock() {
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
        assert_eq!(parse_release("6.18.44-fc-v782"), Some((6, 18)));
        assert_eq!(parse_release("5.10"), Some((5, 10)));
        assert_eq!(parse_release("garbage"), None);
        assert!(memcg_accounted("5.11.0"));
        assert!(memcg_accounted("6.1.0-13-amd64"));
        assert!(!memcg_accounted("5.10.0-28-amd64"));
        assert!(!memcg_accounted("4.19.0"));
        assert!(!memcg_accounted(""));
    }
}
