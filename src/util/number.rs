//! Integer text as the kernel's tools write it: decimal, `0x`/`0X` hex and,
//! where asked, C-style octal with a leading `0`.

/// An unsigned number: `0x`/`0X` hex, `0`-prefixed octal when `octal`,
/// else decimal.
pub(crate) fn parse_unsigned(s: &str, octal: bool) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if octal && s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse::<u64>().ok()
    }
}

/// [`parse_unsigned`] with an optional leading `-` or `+`.
pub(crate) fn parse_signed(s: &str, octal: bool) -> Option<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = parse_unsigned(digits, octal)? as i128;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_unsigned("0x10", false), Some(16));
        assert_eq!(parse_unsigned("0X10", true), Some(16));
        assert_eq!(parse_unsigned("010", false), Some(10));
        assert_eq!(parse_unsigned("010", true), Some(8));
        assert_eq!(parse_unsigned("0", true), Some(0));
        assert_eq!(parse_unsigned("08", true), None);
        assert_eq!(parse_unsigned("", false), None);
        assert_eq!(parse_signed("-17", true), Some(-17));
        assert_eq!(parse_signed("+0x7f", true), Some(127));
        assert_eq!(parse_signed("-", true), None);
        assert_eq!(parse_signed("12abc", true), None);
    }
}
