//! A tiny glob matcher: `*` matches any run of characters (also none), `?`
//! exactly one; everything else matches itself. No classes, no escapes (the
//! patterns of libbpf's `uprobe.multi`/`kprobe.multi` sections).

/// Whether `name` matches `pattern` as a whole.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with one backtrack point (the last `*`): linear
    // in practice, never exponential.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether a pattern has any wildcard.
pub(crate) fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches() {
        for (p, n) in [
            ("getp*id", "getpid"),
            ("getp*id", "getppid"),
            ("getp?id", "getppid"),
            ("*", ""),
            ("*", "anything"),
            ("", ""),
            ("a*b*c", "aXbYc"),
            ("a*b*c", "abcbc"),
            ("*_sys_*", "__x64_sys_read"),
            ("exact", "exact"),
            ("**x", "x"),
        ] {
            assert!(glob_match(p, n), "{p} should match {n}");
        }
        for (p, n) in [
            ("getp*id", "getpgid_x"),
            ("getp?id", "getpid"),
            ("", "a"),
            ("a", ""),
            ("a*b", "ac"),
            ("exact", "exac"),
            ("?", ""),
        ] {
            assert!(!glob_match(p, n), "{p} should not match {n}");
        }
        // Pathological patterns stay fast.
        let long = "a".repeat(2000);
        assert!(!glob_match(&format!("{}b", "*a".repeat(50)), &long));
        assert!(is_glob("a*") && is_glob("?") && !is_glob("plain"));
    }
}
