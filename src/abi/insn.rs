//! The BPF instruction: 8 bytes, little-endian on every target we load for.

/// One BPF instruction (`struct bpf_insn`). `ld_imm64` occupies two of them.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Opcode: class, size/mode or operation, source.
    pub code: u8,
    /// dst_reg in the low nibble, src_reg in the high nibble.
    pub regs: u8,
    /// Signed offset (memory access, jump).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

/// Bytes per instruction.
pub const INSN_SIZE: usize = 8;

// Instruction classes.
/// Class: loads of immediates and packet data (`ld_imm64`).
pub const BPF_LD: u8 = 0x00;
/// Class: load from memory into a register.
pub const BPF_LDX: u8 = 0x01;
/// Class: store an immediate to memory.
pub const BPF_ST: u8 = 0x02;
/// Class: store a register to memory (and atomics).
pub const BPF_STX: u8 = 0x03;
/// Class: 32-bit arithmetic.
pub const BPF_ALU: u8 = 0x04;
/// Class: 64-bit jumps, calls and exit.
pub const BPF_JMP: u8 = 0x05;
/// Class: 32-bit jumps.
pub const BPF_JMP32: u8 = 0x06;
/// Class: 64-bit arithmetic.
pub const BPF_ALU64: u8 = 0x07;
// Sizes and modes.
/// Size: 4 bytes.
pub const BPF_W: u8 = 0x00;
/// Size: 2 bytes.
pub const BPF_H: u8 = 0x08;
/// Size: 1 byte.
pub const BPF_B: u8 = 0x10;
/// Size: 8 bytes.
pub const BPF_DW: u8 = 0x18;
/// Mode: immediate (`ld_imm64`).
pub const BPF_IMM: u8 = 0x00;
/// Mode: memory at register + offset.
pub const BPF_MEM: u8 = 0x60;
/// Mode: sign-extending memory load.
pub const BPF_MEMSX: u8 = 0x80;
/// Source: the immediate.
pub const BPF_K: u8 = 0x00;
/// Source: the source register.
pub const BPF_X: u8 = 0x08;
/// ALU operation: move.
pub const BPF_MOV: u8 = 0xb0;
/// ALU operation: add.
pub const BPF_ADD: u8 = 0x00;
/// Jump operation: call (helper, kfunc or BPF function).
pub const BPF_CALL: u8 = 0x80;
/// Jump operation: exit.
pub const BPF_EXIT: u8 = 0x90;
/// Jump operation: unconditional jump.
pub const BPF_JA: u8 = 0x00;

/// `src_reg` values of `ld_imm64`.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` source: map fd plus an offset into its value.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `ld_imm64` source: a kernel BTF id (ksym).
pub const BPF_PSEUDO_BTF_ID: u8 = 3;
/// `ld_imm64` source: the address of a BPF function.
pub const BPF_PSEUDO_FUNC: u8 = 4;
/// `ld_imm64` source: an index into `fd_array`.
pub const BPF_PSEUDO_MAP_IDX: u8 = 5;
/// `ld_imm64` source: `fd_array` index plus a value offset.
pub const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;
/// `src_reg` values of `call`.
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `call` source: a kernel function (immediate: its BTF id).
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// The opcode of the first half of `ld_imm64`.
pub const LD_IMM64: u8 = BPF_LD | BPF_DW | BPF_IMM;
/// The opcode of `call`.
pub const CALL: u8 = BPF_JMP | BPF_CALL;

impl Insn {
    /// An instruction from its fields.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs: (src << 4) | (dst & 0x0f),
            off,
            imm,
        }
    }
    /// The destination register.
    pub fn dst(&self) -> u8 {
        self.regs & 0x0f
    }
    /// The source register.
    pub fn src(&self) -> u8 {
        self.regs >> 4
    }
    /// Set the destination register.
    pub fn set_dst(&mut self, r: u8) {
        self.regs = (self.regs & 0xf0) | (r & 0x0f);
    }
    /// Set the source register.
    pub fn set_src(&mut self, r: u8) {
        self.regs = (self.regs & 0x0f) | (r << 4);
    }
    /// The instruction class (`BPF_LD`, ..., `BPF_ALU64`).
    pub fn class(&self) -> u8 {
        self.code & 0x07
    }
    /// The first half of a 16-byte `ld_imm64`.
    pub fn is_ld_imm64(&self) -> bool {
        self.code == LD_IMM64
    }
    /// A call to another BPF function (bpf-to-bpf).
    pub fn is_pseudo_call(&self) -> bool {
        self.code == CALL && self.src() == BPF_PSEUDO_CALL
    }
    /// A helper call.
    pub fn is_helper_call(&self) -> bool {
        self.code == CALL && self.src() == 0
    }
    /// Decode from 8 little-endian bytes.
    pub fn from_bytes(b: &[u8; 8]) -> Insn {
        Insn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
    /// Encode as 8 little-endian bytes.
    pub fn to_bytes(&self) -> [u8; 8] {
        let o = self.off.to_le_bytes();
        let i = self.imm.to_le_bytes();
        [self.code, self.regs, o[0], o[1], i[0], i[1], i[2], i[3]]
    }
    /// Decode a whole section; trailing bytes (not a multiple of 8) are ignored.
    pub fn decode_all(data: &[u8]) -> Vec<Insn> {
        data.chunks_exact(INSN_SIZE)
            .map(|c| Insn::from_bytes(c.try_into().expect("chunk of 8")))
            .collect()
    }
    /// Encode instructions as the kernel takes them.
    pub fn encode_all(insns: &[Insn]) -> Vec<u8> {
        insns.iter().flat_map(|i| i.to_bytes()).collect()
    }
}

impl core::fmt::Debug for Insn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "insn(code={:#04x} dst=r{} src=r{} off={} imm={})",
            self.code,
            self.dst(),
            self.src(),
            self.off,
            self.imm
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip() {
        let i = Insn::new(LD_IMM64, 1, BPF_PSEUDO_MAP_VALUE, -3, 0x12345678);
        assert_eq!(i.dst(), 1);
        assert_eq!(i.src(), 2);
        assert_eq!(Insn::from_bytes(&i.to_bytes()), i);
        assert_eq!(core::mem::size_of::<Insn>(), 8);
    }
}
