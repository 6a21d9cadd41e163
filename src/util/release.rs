//! Kernel release strings (`uname -r`, e.g. `6.18.44-fc-v782`): the one
//! parser behind `LINUX_VERSION_CODE` and `.kconfig`'s
//! `LINUX_KERNEL_VERSION` (feature decisions are probed: [`crate::features`]).

/// `(major, minor, patch)` of a release string: the leading numbers split
/// on any non-digit; a missing or unreadable minor or patch is 0. `None`
/// when the string does not start with a number.
pub(crate) fn parse(release: &str) -> Option<(u32, u32, u32)> {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|s| s.parse::<u32>().ok());
    let a = parts.next()??;
    let b = parts.next().flatten().unwrap_or(0);
    let c = parts.next().flatten().unwrap_or(0);
    Some((a, b, c))
}

/// `KERNEL_VERSION(a, b, c)` of a release string (c clamped to 255, as the
/// kernel's macro does); `None` if it does not start with a version or
/// major/minor do not fit a byte.
pub fn version_code(release: &str) -> Option<u32> {
    let (a, b, c) = parse(release)?;
    if a > 255 || b > 255 {
        return None;
    }
    Some((a << 16) | (b << 8) | c.min(255))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        assert_eq!(parse("6.18.44-fc-v782"), Some((6, 18, 44)));
        assert_eq!(parse("5.10"), Some((5, 10, 0)));
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(""), None);
        assert_eq!(version_code("6.18.44-fc-v782"), Some(0x06_12_2c));
        assert_eq!(version_code("5.15.300"), Some(0x05_0f_ff));
        assert_eq!(version_code("4.19"), Some(0x04_13_00));
        assert_eq!(version_code("6.1.0-rc3"), Some(0x06_01_00));
        assert_eq!(version_code("256.1"), None);
        assert_eq!(version_code("garbage"), None);
    }
}
