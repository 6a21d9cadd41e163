//! `.kconfig` externs, the pure half: the kernel configuration, the kernel
//! version and a few `LINUX_*` facts encoded as read-only values of a
//! `.kconfig` map, and the `.kconfig` references of linked code.
//!
//! At open, [`crate::obj::kconfig`] lays out the map. At load, the load
//! layer gathers [`KernelFacts`] of the running kernel (release, config from
//! `/proc/config.gz` or `/boot/config-$(uname -r)`) and [`compute`] turns
//! them into each extern's value: `LINUX_KERNEL_VERSION` from the release,
//! `LINUX_HAS_*` from the version and architecture, and `CONFIG_*` from the
//! config, checked against each extern's declared type. A `CONFIG_*` the
//! config does not set is 0 when the extern is `__weak`, an error
//! otherwise. ("# CONFIG_X is not set" counts as set, to n.)

use crate::obj::kconfig::{KconfigType, KconfigVar};
use crate::obj::ObjectSpec;
use crate::reloc::link::{LinkedProgram, LoadRef};
pub use crate::util::inflate::InflateError;
pub use crate::util::release::version_code;
use std::collections::HashMap;

/// Decompress a gzip'd kernel config (`kconfig-gz` feature).
#[cfg(feature = "kconfig-gz")]
fn gunzip_config(bytes: &[u8]) -> std::result::Result<Vec<u8>, InflateError> {
    crate::util::inflate::gunzip(bytes, MAX_CONFIG_SIZE)
}

/// Without the `kconfig-gz` feature, gzip'd configs are an error.
#[cfg(not(feature = "kconfig-gz"))]
fn gunzip_config(_bytes: &[u8]) -> std::result::Result<Vec<u8>, InflateError> {
    Err(InflateError::NotCompiledIn)
}

/// A `.kconfig` value that cannot be computed or encoded; the message names
/// the extern and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KconfigError(pub String);

type Result<T, E = KconfigError> = std::result::Result<T, E>;

/// Largest decompressed kernel config accepted (real ones are ~300 KiB).
pub const MAX_CONFIG_SIZE: usize = 64 << 20;

/// A parsed kernel configuration: `CONFIG_*` name → raw value (`y`, `m`,
/// `n`, a number, or a quoted string with its quotes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelConfig {
    values: HashMap<String, String>,
}

impl KernelConfig {
    /// Parse `.config` text: `CONFIG_X=value` lines, and `# CONFIG_X is not
    /// set` lines (value `n`). Other lines are ignored.
    pub fn parse(text: &str) -> KernelConfig {
        let mut values = HashMap::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(rest) = line.strip_prefix("# ") {
                if let Some(name) = rest.strip_suffix(" is not set") {
                    if name.starts_with("CONFIG_") && !name.contains(char::is_whitespace) {
                        values.insert(name.to_string(), "n".to_string());
                    }
                }
                continue;
            }
            if !line.starts_with("CONFIG_") {
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                log::debug!("kernel config: ignoring line without '=': {line:?}");
                continue;
            };
            values.insert(name.trim().to_string(), value.trim().to_string());
        }
        KernelConfig { values }
    }

    /// Parse config bytes, gunzipping them first when they are gzip data.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<KernelConfig, InflateError> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Ok(Self::parse(&String::from_utf8_lossy(&gunzip_config(
                bytes,
            )?)))
        } else {
            Ok(Self::parse(&String::from_utf8_lossy(bytes)))
        }
    }

    /// The raw value of `name`, if the config mentions it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Number of config values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no config values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Facts about the kernel the `.kconfig` values come from.
#[derive(Clone, Debug, Default)]
pub struct KernelFacts {
    /// `LINUX_KERNEL_VERSION`.
    pub version: u32,
    /// `LINUX_HAS_BPF_COOKIE` (bpf_get_attach_cookie: 5.15+).
    pub has_bpf_cookie: bool,
    /// `LINUX_HAS_SYSCALL_WRAPPER` (`__<arch>_sys_*` entry points).
    pub has_syscall_wrapper: bool,
    /// The kernel config, if one was found.
    pub config: Option<KernelConfig>,
    /// Where the config was looked for (for error messages).
    pub config_source: String,
}

impl KernelFacts {
    /// Facts implied by a version on this architecture (no config).
    pub fn for_version(version: u32) -> KernelFacts {
        let wrapper_since = if cfg!(target_arch = "x86_64") {
            Some(0x04_11_00) // 4.17
        } else if cfg!(target_arch = "aarch64") {
            Some(0x04_13_00) // 4.19
        } else if cfg!(target_arch = "s390x") {
            Some(0x05_01_00)
        } else if cfg!(target_arch = "riscv64") {
            Some(0x06_06_00)
        } else {
            None
        };
        KernelFacts {
            version,
            has_bpf_cookie: version >= 0x05_0f_00,
            has_syscall_wrapper: wrapper_since.is_some_and(|v| version >= v),
            config: None,
            config_source: String::new(),
        }
    }
}

/// Unquote a Kconfig string value (`"..."`, with `\\` and `\"` escapes).
fn parse_string(s: &str) -> Option<Vec<u8>> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.bytes();
    while let Some(b) = it.next() {
        if b == b'\\' {
            out.push(it.next()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Encode raw config value `raw` for extern `name` of type `ty` into `out`
/// (exactly `ty.size()` bytes). The error names the extern.
pub fn encode_value(name: &str, ty: KconfigType, raw: &str, out: &mut [u8]) -> Result<()> {
    let bad = |why: String| KconfigError(format!("extern {name}: {why}"));
    if out.len() != ty.size() as usize {
        return Err(bad(format!(
            "value slot is {} bytes, type needs {}",
            out.len(),
            ty.size()
        )));
    }
    let put = |out: &mut [u8], v: u64| {
        let b = v.to_le_bytes();
        let n = out.len().min(8);
        out[..n].copy_from_slice(&b[..n]);
    };
    match raw {
        "y" | "n" | "m" => {
            let letter = raw.as_bytes()[0];
            let tri = match letter {
                b'y' => 1,
                b'm' => 2,
                _ => 0,
            };
            match ty {
                KconfigType::Bool if letter == b'm' => Err(bad(
                    "value 'm' (module) does not fit a bool; declare it enum libbpf_tristate"
                        .into(),
                )),
                KconfigType::Bool | KconfigType::Tristate { .. } => {
                    put(out, tri);
                    Ok(())
                }
                KconfigType::Char => {
                    out[0] = letter;
                    Ok(())
                }
                _ => Err(bad(format!("value '{raw}' does not fit {ty:?}"))),
            }
        }
        _ if raw.starts_with('"') => {
            let KconfigType::CharArray { len } = ty else {
                return Err(bad(format!("string value {raw} does not fit {ty:?}")));
            };
            if len == 0 {
                return Err(bad("a char array of length 0 cannot hold a string".into()));
            }
            let s = parse_string(raw).ok_or_else(|| bad(format!("malformed string {raw}")))?;
            let n = s.len().min(len as usize - 1);
            if n < s.len() {
                log::warn!("extern {name}: value {raw} truncated to {n} bytes");
            }
            out.fill(0);
            out[..n].copy_from_slice(&s[..n]);
            Ok(())
        }
        _ => {
            let v = crate::util::number::parse_signed(raw, true)
                .ok_or_else(|| bad(format!("value {raw:?} is not y/n/m, a number or a string")))?;
            let (size, signed) = match ty {
                KconfigType::Int { size, signed } if matches!(size, 1 | 2 | 4 | 8) => {
                    (size, signed)
                }
                KconfigType::Char => (1, v < 0),
                _ => return Err(bad(format!("number {raw} does not fit {ty:?}"))),
            };
            let bits = size * 8;
            let fits = if signed {
                let lim = 1i128 << (bits - 1);
                v >= -lim && v < lim
            } else {
                v >= 0 && v < (1i128 << bits)
            };
            if !fits {
                return Err(bad(format!(
                    "value {raw} is out of range of a {}{bits}-bit integer",
                    if signed { "signed " } else { "unsigned " }
                )));
            }
            put(out, v as u64);
            Ok(())
        }
    }
}

/// The `.kconfig` map's bytes for `vars` (laid out at open) given the
/// kernel's facts. `weak(name)` tells whether an extern is `__weak`.
pub fn compute(
    vars: &[KconfigVar],
    size: usize,
    facts: &KernelFacts,
    weak: impl Fn(&str) -> bool,
) -> Result<Vec<u8>> {
    let mut data = vec![0u8; size];
    for v in vars {
        let start = v.offset as usize;
        let slot = start
            .checked_add(v.ty.size() as usize)
            .and_then(|end| data.get_mut(start..end))
            .ok_or_else(|| {
                KconfigError(format!(
                    "extern {}: offset {start} outside .kconfig",
                    v.name
                ))
            })?;
        let raw: Option<String> = match v.name.as_str() {
            "LINUX_KERNEL_VERSION" => Some(facts.version.to_string()),
            "LINUX_HAS_BPF_COOKIE" => Some(if facts.has_bpf_cookie { "y" } else { "n" }.into()),
            "LINUX_HAS_SYSCALL_WRAPPER" => {
                Some(if facts.has_syscall_wrapper { "y" } else { "n" }.into())
            }
            n if n.starts_with("CONFIG_") => facts
                .config
                .as_ref()
                .and_then(|c| c.get(n))
                .map(str::to_string),
            n => {
                return Err(KconfigError(format!(
                    "extern {n}: unknown .kconfig extern (only CONFIG_*, LINUX_KERNEL_VERSION,                      LINUX_HAS_BPF_COOKIE and LINUX_HAS_SYSCALL_WRAPPER)"
                )))
            }
        };
        match raw {
            Some(raw) => {
                encode_value(&v.name, v.ty, &raw, slot)?;
                log::debug!("extern {} = {raw}", v.name);
            }
            None if weak(&v.name) => {
                log::debug!("extern {}: not set, __weak: 0", v.name);
            }
            None => {
                let why = if facts.config.is_some() {
                    format!("not set in the kernel config ({})", facts.config_source)
                } else {
                    facts.config_source.clone()
                };
                return Err(KconfigError(format!(
                    "extern {}: {why}, and not __weak",
                    v.name
                )));
            }
        }
    }
    Ok(data)
}

/// Turn `.kconfig` references into BPF_PSEUDO_MAP_VALUE loads of the
/// `.kconfig` map.
pub(crate) fn patch_refs(l: &mut LinkedProgram, spec: &ObjectSpec) -> Result<()> {
    let Some(kmap) = spec
        .maps
        .iter()
        .position(|m| m.data == Some(crate::obj::DataKind::Kconfig))
    else {
        if let Some(LoadRef::Kconfig { name, .. }) =
            l.refs.iter().find(|r| matches!(r, LoadRef::Kconfig { .. }))
        {
            return Err(KconfigError(format!(
                "extern {name}: the object has no .kconfig section in its BTF"
            )));
        }
        return Ok(());
    };
    let mut refs = std::mem::take(&mut l.refs);
    for r in &mut refs {
        if let LoadRef::Kconfig { insn, name } = r {
            let off = spec
                .kconfig_offsets
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, o)| *o)
                .ok_or_else(|| KconfigError(format!("extern {name}: not in .kconfig")))?;
            let i = *insn;
            if i + 1 >= l.insns.len() {
                return Err(KconfigError(format!("extern {name}: truncated ld_imm64")));
            }
            l.insns[i].set_src(crate::abi::insn::BPF_PSEUDO_MAP_VALUE);
            l.insns[i + 1].imm = off as i32;
            *r = LoadRef::Map { insn: i, map: kmap };
        }
    }
    l.refs = refs;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use KconfigType::*;

    const SAMPLE: &str = "#\n# Automatically generated file; DO NOT EDIT.\n\
        CONFIG_BPF=y\n\
        CONFIG_MOD=m\n\
        # CONFIG_KPROBES is not set\n\
        CONFIG_HZ=250\n\
        CONFIG_NEG=-17\n\
        CONFIG_HEX=0xdead000000000000\n\
        CONFIG_OCT=0755\n\
        CONFIG_STR=\"-fc \\\"v\\\\7\\\"\"\n\
        CONFIG_EMPTY=\"\"\n\
        CONFIG_BROKEN\n\
        not a config line=1\n";

    fn enc(ty: KconfigType, raw: &str) -> Result<Vec<u8>> {
        let mut out = vec![0xaa; ty.size() as usize];
        encode_value("CONFIG_T", ty, raw, &mut out).map(|_| out)
    }

    #[test]
    fn parse_config() {
        let c = KernelConfig::parse(SAMPLE);
        assert_eq!(c.get("CONFIG_BPF"), Some("y"));
        assert_eq!(c.get("CONFIG_MOD"), Some("m"));
        assert_eq!(c.get("CONFIG_KPROBES"), Some("n"));
        assert_eq!(c.get("CONFIG_HZ"), Some("250"));
        assert_eq!(c.get("CONFIG_STR"), Some("\"-fc \\\"v\\\\7\\\"\""));
        assert_eq!(c.get("CONFIG_BROKEN"), None);
        assert_eq!(c.get("not a config line"), None);
        assert_eq!(c.len(), 9);
        // gzip'd and plain bytes give the same config.
        let gz = crate::util::inflate::tests_support::gzip_stored(SAMPLE.as_bytes());
        #[cfg(feature = "kconfig-gz")]
        assert_eq!(KernelConfig::from_bytes(&gz).unwrap(), c);
        #[cfg(not(feature = "kconfig-gz"))]
        assert_eq!(
            KernelConfig::from_bytes(&gz).unwrap_err(),
            InflateError::NotCompiledIn
        );
        assert!(KernelConfig::from_bytes(&gz[..gz.len() - 3]).is_err());
    }

    #[test]
    fn versions() {
        assert_eq!(version_code("6.18.44-fc-v782"), Some(0x06_12_2c));
        assert_eq!(version_code("5.15.300"), Some(0x05_0f_ff));
        assert_eq!(version_code("4.19"), Some(0x04_13_00));
        assert_eq!(version_code("6.1.0-rc3"), Some(0x06_01_00));
        assert_eq!(version_code("garbage"), None);
        assert_eq!(version_code(""), None);
        let f = KernelFacts::for_version(0x06_12_2c);
        assert!(f.has_bpf_cookie);
        assert_eq!(
            f.has_syscall_wrapper,
            cfg!(target_arch = "x86_64")
                || cfg!(target_arch = "aarch64")
                || cfg!(target_arch = "s390x")
                || cfg!(target_arch = "riscv64")
        );
        assert!(!KernelFacts::for_version(0x05_0e_00).has_bpf_cookie);
    }

    #[test]
    fn encode_values() {
        let tri = Tristate { size: 4 };
        assert_eq!(enc(Bool, "y").unwrap(), [1]);
        assert_eq!(enc(Bool, "n").unwrap(), [0]);
        assert!(enc(Bool, "m").is_err());
        assert!(enc(Bool, "250").is_err());
        assert_eq!(enc(tri, "y").unwrap(), [1, 0, 0, 0]);
        assert_eq!(enc(tri, "m").unwrap(), [2, 0, 0, 0]);
        assert_eq!(enc(tri, "n").unwrap(), [0, 0, 0, 0]);
        assert_eq!(enc(Char, "y").unwrap(), [b'y']);
        assert_eq!(enc(Char, "200").unwrap(), [200]);
        assert_eq!(enc(Char, "-1").unwrap(), [0xff]);
        assert!(enc(Char, "300").is_err());
        let i32_ = Int {
            size: 4,
            signed: true,
        };
        let u16_ = Int {
            size: 2,
            signed: false,
        };
        let u64_ = Int {
            size: 8,
            signed: false,
        };
        let i64_ = Int {
            size: 8,
            signed: true,
        };
        assert_eq!(enc(i32_, "250").unwrap(), 250i32.to_le_bytes());
        assert_eq!(enc(i32_, "-17").unwrap(), (-17i32).to_le_bytes());
        assert_eq!(enc(i32_, "0x7fffffff").unwrap(), i32::MAX.to_le_bytes());
        assert!(enc(i32_, "0x80000000").is_err());
        assert_eq!(enc(u16_, "0755").unwrap(), 0o755u16.to_le_bytes());
        assert!(enc(u16_, "65536").is_err());
        assert!(enc(u16_, "-1").is_err());
        assert_eq!(
            enc(u64_, "0xdead000000000000").unwrap(),
            0xdead_0000_0000_0000u64.to_le_bytes()
        );
        assert!(enc(i64_, "0xdead000000000000").is_err());
        assert!(enc(u64_, "0x1dead000000000000").is_err());
        assert!(enc(i32_, "y").is_err());
        assert!(enc(i32_, "\"str\"").is_err());
        assert!(enc(i32_, "12abc").is_err());
        assert!(enc(i32_, "").is_err());
        let s8 = CharArray { len: 8 };
        assert_eq!(enc(s8, "\"abc\"").unwrap(), b"abc\0\0\0\0\0");
        assert_eq!(enc(s8, "\"abcdefghij\"").unwrap(), b"abcdefg\0");
        assert_eq!(enc(s8, "\"a\\\"b\\\\\"").unwrap(), b"a\"b\\\0\0\0\0");
        assert_eq!(enc(s8, "\"\"").unwrap(), [0u8; 8]);
        assert!(enc(s8, "\"unterminated").is_err());
        assert!(enc(s8, "y").is_err());
        assert!(enc(s8, "5").is_err());
        // Crafted types are refused, not a panic (issue #11).
        assert!(enc(CharArray { len: 0 }, "\"abc\"").is_err());
        assert!(enc(CharArray { len: 0 }, "\"\"").is_err());
        for size in [0, 3, 16, 1000] {
            for signed in [false, true] {
                assert!(enc(Int { size, signed }, "1").is_err(), "{size}");
            }
        }
        assert!(enc(Tristate { size: 0 }, "y").is_ok());
        assert_eq!(enc(Tristate { size: 16 }, "m").unwrap()[0], 2);
        // Errors name the extern.
        let e = enc(Bool, "m").unwrap_err().to_string();
        assert!(e.contains("CONFIG_T"), "{e}");
    }

    fn var(name: &str, ty: KconfigType, offset: u32) -> KconfigVar {
        KconfigVar {
            name: name.into(),
            var_id: 0,
            ty,
            offset,
        }
    }

    #[test]
    fn compute_map() {
        let vars = vec![
            var(
                "LINUX_KERNEL_VERSION",
                Int {
                    size: 4,
                    signed: false,
                },
                0,
            ),
            var("CONFIG_BPF", Bool, 4),
            var("CONFIG_ABSENT", Bool, 5),
            var("LINUX_HAS_BPF_COOKIE", Bool, 6),
            var(
                "CONFIG_HZ",
                Int {
                    size: 8,
                    signed: true,
                },
                8,
            ),
        ];
        let mut facts = KernelFacts::for_version(0x06_12_2c);
        facts.config = Some(KernelConfig::parse(SAMPLE));
        facts.config_source = "/test".into();
        let d = compute(&vars, 16, &facts, |n| n == "CONFIG_ABSENT").unwrap();
        assert_eq!(&d[0..4], &0x06_12_2cu32.to_le_bytes());
        assert_eq!(d[4..8], [1, 0, 1, 0]);
        assert_eq!(&d[8..16], &250i64.to_le_bytes());
        // Strong and missing: an error naming it and where we looked.
        let e = compute(&vars, 16, &facts, |_| false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CONFIG_ABSENT") && e.contains("/test") && e.contains("__weak"),
            "{e}"
        );
        // No config at all: weak ones are 0, strong ones an error.
        facts.config = None;
        facts.config_source = "no kernel config found".into();
        let d = compute(&vars, 16, &facts, |n| n.starts_with("CONFIG_")).unwrap();
        assert_eq!(d[4..6], [0, 0]);
        let e = compute(&vars, 16, &facts, |_| false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CONFIG_BPF") && e.contains("no kernel config"),
            "{e}"
        );
        // Unknown names and slots outside the map are errors, not panics.
        let bad = vec![var("LINUX_NOPE", Bool, 0)];
        assert!(compute(&bad, 1, &facts, |_| true).is_err());
        let bad = vec![var("SOMETHING", Bool, 0)];
        assert!(compute(&bad, 1, &facts, |_| true).is_err());
        let bad = vec![var(
            "CONFIG_HZ",
            Int {
                size: 8,
                signed: true,
            },
            12,
        )];
        assert!(compute(&bad, 16, &facts, |_| true).is_err());
        let bad = vec![var("CONFIG_HZ", Bool, u32::MAX)];
        assert!(compute(&bad, 16, &facts, |_| true).is_err());
    }
}
