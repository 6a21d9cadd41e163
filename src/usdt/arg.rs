//! x86-64 USDT argument specs (`-4@%edi`, `8@-16(%rbp)`, `4@$5`) and their
//! encoding as libbpf's `struct __bpf_usdt_spec` (`<bpf/usdt.bpf.h>`), which
//! `bpf_usdt_arg()` in the BPF program reads from the `__bpf_usdt_specs`
//! map (pure).

/// Most arguments a spec holds (`BPF_USDT_MAX_ARG_CNT`).
pub const MAX_ARGS: usize = 12;

/// Size of `struct __bpf_usdt_arg_spec`.
pub const ARG_SPEC_SIZE: usize = 16;

/// Size of `struct __bpf_usdt_spec`: 12 argument specs, `usdt_cookie`
/// (u64) at 192, `arg_cnt` (short) at 200, padded to 208.
pub const SPEC_SIZE: usize = 208;

/// Where an argument's value is (`enum __bpf_usdt_arg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgLocation {
    /// A constant (`$imm`): `BPF_USDT_ARG_CONST`.
    Const(i64),
    /// A register: `BPF_USDT_ARG_REG`, with `offsetof(struct pt_regs, reg)`.
    Reg {
        /// `offsetof(struct pt_regs, reg)`.
        reg_off: u16,
    },
    /// Memory at register + offset: `BPF_USDT_ARG_REG_DEREF`.
    RegDeref {
        /// `offsetof(struct pt_regs, reg)` of the base register.
        reg_off: u16,
        /// The displacement added to the register's value.
        offset: i64,
    },
}

/// One argument: its size in bytes (1, 2, 4 or 8), signedness and location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsdtArg {
    /// 1, 2, 4 or 8.
    pub size: u8,
    /// Negative size in the spec (`-4@...`): sign-extended to 64 bits.
    pub signed: bool,
    /// Where the value is.
    pub location: ArgLocation,
}

/// `offsetof(struct pt_regs, …)` on x86-64 for a register name and its
/// 32/16/8-bit parts.
fn reg_offset(name: &str) -> Option<u16> {
    const REGS: &[(u16, &[&str])] = &[
        (0, &["r15", "r15d", "r15w", "r15b"]),
        (8, &["r14", "r14d", "r14w", "r14b"]),
        (16, &["r13", "r13d", "r13w", "r13b"]),
        (24, &["r12", "r12d", "r12w", "r12b"]),
        (32, &["rbp", "ebp", "bp", "bpl"]),
        (40, &["rbx", "ebx", "bx", "bl"]),
        (48, &["r11", "r11d", "r11w", "r11b"]),
        (56, &["r10", "r10d", "r10w", "r10b"]),
        (64, &["r9", "r9d", "r9w", "r9b"]),
        (72, &["r8", "r8d", "r8w", "r8b"]),
        (80, &["rax", "eax", "ax", "al"]),
        (88, &["rcx", "ecx", "cx", "cl"]),
        (96, &["rdx", "edx", "dx", "dl"]),
        (104, &["rsi", "esi", "si", "sil"]),
        (112, &["rdi", "edi", "di", "dil"]),
        (128, &["rip", "eip", "ip"]),
        (152, &["rsp", "esp", "sp", "spl"]),
    ];
    REGS.iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(off, _)| *off)
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => body.parse::<u64>().ok()?,
    };
    Some(if neg {
        (v as i64).wrapping_neg()
    } else {
        v as i64
    })
}

fn register(s: &str) -> Result<u16, String> {
    let name = s
        .strip_prefix('%')
        .ok_or_else(|| format!("{s:?}: a register starts with %"))?;
    reg_offset(name).ok_or_else(|| format!("unknown register %{name}"))
}

/// Parse one argument (`SIZE@LOCATION`).
pub fn parse_arg(s: &str) -> Result<UsdtArg, String> {
    let (size, loc) = s
        .split_once('@')
        .ok_or_else(|| format!("{s:?}: expected SIZE@LOCATION"))?;
    let n = parse_int(size).ok_or_else(|| format!("{s:?}: size {size:?} is not a number"))?;
    let (signed, size) = (n < 0, n.unsigned_abs());
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(format!(
            "{s:?}: size {n} (1, 2, 4 or 8 bytes, negative if signed)"
        ));
    }
    let location = if let Some(imm) = loc.strip_prefix('$') {
        ArgLocation::Const(parse_int(imm).ok_or_else(|| format!("{s:?}: bad constant {imm:?}"))?)
    } else if loc.starts_with('%') {
        ArgLocation::Reg {
            reg_off: register(loc).map_err(|e| format!("{s:?}: {e}"))?,
        }
    } else if let Some((disp, reg)) = loc.split_once('(') {
        let reg = reg
            .strip_suffix(')')
            .ok_or_else(|| format!("{s:?}: missing ')'"))?;
        if reg.contains(',') {
            return Err(format!(
                "{s:?}: indexed addressing (base, index, scale) is not supported"
            ));
        }
        let offset = if disp.is_empty() {
            0
        } else {
            parse_int(disp).ok_or_else(|| {
                format!("{s:?}: displacement {disp:?} is not a number (symbolic operands are not supported)")
            })?
        };
        ArgLocation::RegDeref {
            reg_off: register(reg).map_err(|e| format!("{s:?}: {e}"))?,
            offset,
        }
    } else {
        return Err(format!(
            "{s:?}: location {loc:?} is not $constant, %register or offset(%register)"
        ));
    };
    Ok(UsdtArg {
        size: size as u8,
        signed,
        location,
    })
}

/// Parse a note's argument string (space separated; empty: no arguments).
pub fn parse_args(s: &str) -> Result<Vec<UsdtArg>, String> {
    let args = s
        .split_whitespace()
        .map(parse_arg)
        .collect::<Result<Vec<_>, _>>()?;
    if args.len() > MAX_ARGS {
        return Err(format!(
            "{} arguments: libbpf's usdt.bpf.h reads at most {MAX_ARGS}",
            args.len()
        ));
    }
    Ok(args)
}

/// The bytes of `struct __bpf_usdt_spec` for these arguments and cookie
/// (at most [`MAX_ARGS`] arguments, which [`parse_args`] guarantees).
pub fn encode_spec(args: &[UsdtArg], cookie: u64) -> [u8; SPEC_SIZE] {
    let mut out = [0u8; SPEC_SIZE];
    for (i, a) in args.iter().take(MAX_ARGS).enumerate() {
        let at = i * ARG_SPEC_SIZE;
        let (val_off, ty, reg_off) = match a.location {
            ArgLocation::Const(v) => (v as u64, 0u32, 0u16),
            ArgLocation::Reg { reg_off } => (0, 1, reg_off),
            ArgLocation::RegDeref { reg_off, offset } => (offset as u64, 2, reg_off),
        };
        out[at..at + 8].copy_from_slice(&val_off.to_le_bytes());
        out[at + 8..at + 12].copy_from_slice(&ty.to_le_bytes());
        out[at + 12..at + 14].copy_from_slice(&reg_off.to_le_bytes());
        out[at + 14] = a.signed as u8;
        out[at + 15] = 64 - 8 * a.size;
    }
    out[192..200].copy_from_slice(&cookie.to_le_bytes());
    let n = args.len().min(MAX_ARGS) as u16;
    out[200..202].copy_from_slice(&n.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_arg("-4@%edi").unwrap(),
            UsdtArg {
                size: 4,
                signed: true,
                location: ArgLocation::Reg { reg_off: 112 }
            }
        );
        assert_eq!(
            parse_arg("8@-16(%rbp)").unwrap().location,
            ArgLocation::RegDeref {
                reg_off: 32,
                offset: -16
            }
        );
        assert_eq!(parse_arg("4@$5").unwrap().location, ArgLocation::Const(5));
        assert_eq!(
            parse_arg("-4@$-9").unwrap().location,
            ArgLocation::Const(-9)
        );
        assert_eq!(
            parse_arg("1@(%rdx)").unwrap().location,
            ArgLocation::RegDeref {
                reg_off: 96,
                offset: 0
            }
        );
        assert_eq!(
            parse_arg("8@0x10(%r12)").unwrap().location,
            ArgLocation::RegDeref {
                reg_off: 24,
                offset: 16
            }
        );
        assert_eq!(parse_args("").unwrap(), vec![]);
        assert_eq!(parse_args("-4@%eax -8@%rdx").unwrap().len(), 2);
        for bad in [
            "4@%xyz",
            "3@%eax",
            "4@eax",
            "4@(%rax,%rbx,8)",
            "8@sym(%rip)",
            "4%eax",
            "x@%eax",
        ] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
        let many = vec!["8@%rax"; 13].join(" ");
        assert!(parse_args(&many).unwrap_err().contains("at most 12"));
    }

    #[test]
    fn encoding() {
        let args = parse_args("-4@%edi 8@-16(%rbp) 2@$7").unwrap();
        let b = encode_spec(&args, 0xabcd);
        // arg 0: register rdi (112), signed, bitshift 32.
        assert_eq!(&b[0..8], &[0; 8]);
        assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 1);
        assert_eq!(u16::from_le_bytes(b[12..14].try_into().unwrap()), 112);
        assert_eq!((b[14], b[15]), (1, 32));
        // arg 1: deref rbp (32) - 16, unsigned, bitshift 0.
        assert_eq!(i64::from_le_bytes(b[16..24].try_into().unwrap()), -16);
        assert_eq!(u32::from_le_bytes(b[24..28].try_into().unwrap()), 2);
        assert_eq!(u16::from_le_bytes(b[28..30].try_into().unwrap()), 32);
        assert_eq!((b[30], b[31]), (0, 0));
        // arg 2: constant 7, 2 bytes.
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 7);
        assert_eq!(u32::from_le_bytes(b[40..44].try_into().unwrap()), 0);
        assert_eq!(b[47], 48);
        assert_eq!(u64::from_le_bytes(b[192..200].try_into().unwrap()), 0xabcd);
        assert_eq!(u16::from_le_bytes(b[200..202].try_into().unwrap()), 3);
    }
}
