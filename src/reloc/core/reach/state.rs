//! Abstract values and machine state of the reachability analysis: what a
//! register or stack slot holds (a known constant, a pointer into the
//! current stack frame, or unknown), joins of states, and the arithmetic on
//! known constants. Every operation is total: wrapping arithmetic, masked
//! shifts, no division (its result is simply unknown).

/// Maximum stack slots tracked per frame (bounds the state size).
const MAX_SLOTS: usize = 64;

/// Abstract value of a register or a stack slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum V {
    /// Anything.
    Unknown,
    /// A known 64-bit value.
    Const(u64),
    /// The current frame's stack pointer (`r10`) plus this offset.
    Fp(i64),
    /// Possibly a pointer somewhere into the current frame's stack: a
    /// store through it may overwrite any slot.
    StackAny,
}

impl V {
    /// Whether this may point into the current frame's stack.
    pub fn maybe_stack(self) -> bool {
        matches!(self, V::Fp(_) | V::StackAny)
    }

    fn join(self, other: V) -> V {
        if self == other {
            self
        } else if self.maybe_stack() || other.maybe_stack() {
            V::StackAny
        } else {
            V::Unknown
        }
    }
}

/// A stack slot holding a known value: offset from `r10`, size in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Slot {
    off: i64,
    size: u8,
    val: V,
}

/// Registers and tracked stack slots of one function frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Frame {
    pub regs: [V; 11],
    /// Sorted by offset, non-overlapping.
    stack: Vec<Slot>,
}

impl Frame {
    /// A function entered with unknown arguments.
    pub fn entry() -> Frame {
        let mut regs = [V::Unknown; 11];
        regs[10] = V::Fp(0);
        Frame {
            regs,
            stack: Vec::new(),
        }
    }

    /// Value of the `size`-byte stack slot at `off`, if a store of exactly
    /// that slot is known.
    pub fn load(&self, off: i64, size: u8) -> V {
        self.stack
            .iter()
            .find(|s| s.off == off && s.size == size)
            .map(|s| s.val)
            .unwrap_or(V::Unknown)
    }

    /// Store `val` into `size` bytes at `off` (forgets overlapping slots).
    pub fn store(&mut self, off: i64, size: u8, val: V) {
        let end = off.saturating_add(size as i64);
        self.stack
            .retain(|s| s.off.saturating_add(s.size as i64) <= off || s.off >= end);
        let val = match val {
            V::Const(c) => V::Const(truncate(c, size)),
            V::Fp(_) | V::StackAny if size == 8 => val,
            _ => V::Unknown,
        };
        if val != V::Unknown && self.stack.len() < MAX_SLOTS {
            let at = self.stack.partition_point(|s| s.off < off);
            self.stack.insert(at, Slot { off, size, val });
        }
    }

    /// Forget every stack slot (memory written through an untracked pointer).
    pub fn clobber_stack(&mut self) {
        self.stack.clear();
    }

    fn join(&self, other: &Frame) -> Frame {
        let mut regs = [V::Unknown; 11];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = self.regs[i].join(other.regs[i]);
        }
        let stack = self
            .stack
            .iter()
            .filter(|s| other.stack.contains(s))
            .cloned()
            .collect();
        Frame { regs, stack }
    }
}

/// A suspended caller: where to return to, and its frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Caller {
    /// (code section index, instruction index) after the call.
    pub ret: (usize, usize),
    pub frame: Frame,
}

/// Abstract machine state: the current frame and the call stack.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct State {
    pub cur: Frame,
    pub callers: Vec<Caller>,
}

impl State {
    pub fn entry() -> State {
        State {
            cur: Frame::entry(),
            callers: Vec::new(),
        }
    }

    /// Least upper bound of two states with the same call stack shape.
    pub fn join(&self, other: &State) -> State {
        State {
            cur: self.cur.join(&other.cur),
            callers: self
                .callers
                .iter()
                .zip(&other.callers)
                .map(|(a, b)| Caller {
                    ret: a.ret,
                    frame: a.frame.join(&b.frame),
                })
                .collect(),
        }
    }
}

/// Keep the low `size` bytes of `v`.
pub(super) fn truncate(v: u64, size: u8) -> u64 {
    match size {
        1 => v & 0xff,
        2 => v & 0xffff,
        4 => v & 0xffff_ffff,
        _ => v,
    }
}

/// Sign-extend the low `bits` bits of `v`.
pub(super) fn sext(v: u64, bits: u32) -> u64 {
    match bits {
        8 => v as u8 as i8 as i64 as u64,
        16 => v as u16 as i16 as i64 as u64,
        32 => v as u32 as i32 as i64 as u64,
        _ => v,
    }
}

/// Evaluate an ALU operation (`op` = code & 0xf0, excluding MOV/NEG/END)
/// on two constants; `None` when the result is not computed (division,
/// unknown operations). Results of 32-bit operations are zero-extended.
pub(super) fn alu_const(op: u8, a: u64, b: u64, is64: bool) -> Option<u64> {
    let (a, b) = if is64 {
        (a, b)
    } else {
        (a & 0xffff_ffff, b & 0xffff_ffff)
    };
    let mask = if is64 { 63 } else { 31 };
    let r = match op {
        0x00 => a.wrapping_add(b),
        0x10 => a.wrapping_sub(b),
        0x20 => a.wrapping_mul(b),
        0x40 => a | b,
        0x50 => a & b,
        0x60 => a << (b & mask),
        0x70 => a >> (b & mask),
        0xa0 => a ^ b,
        0xc0 if is64 => ((a as i64) >> (b & mask)) as u64,
        0xc0 => ((a as u32 as i32) >> (b & mask)) as u32 as u64,
        _ => return None,
    };
    Some(if is64 { r } else { r & 0xffff_ffff })
}

/// Evaluate a conditional jump (`op` = code & 0xf0) on two constants;
/// `None` for an operation that is not a conditional jump.
pub(super) fn jmp_const(op: u8, a: u64, b: u64, is64: bool) -> Option<bool> {
    let (a, b, sa, sb) = if is64 {
        (a, b, a as i64, b as i64)
    } else {
        let (a, b) = (a & 0xffff_ffff, b & 0xffff_ffff);
        (a, b, a as u32 as i32 as i64, b as u32 as i32 as i64)
    };
    Some(match op {
        0x10 => a == b,
        0x20 => a > b,
        0x30 => a >= b,
        0x40 => a & b != 0,
        0x50 => a != b,
        0x60 => sa > sb,
        0x70 => sa >= sb,
        0xa0 => a < b,
        0xb0 => a <= b,
        0xc0 => sa < sb,
        0xd0 => sa <= sb,
        _ => return None,
    })
}
