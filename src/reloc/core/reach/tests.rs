//! Hand-built instruction sequences: the patterns clang emits for
//! `bpf_core_*_exists()` guards, and inputs that must not confuse the
//! analysis (loops, recursion, wild jumps, garbage).

use super::state::V;
use super::*;
use crate::reloc::core::RelocKind;

const PROG: &str = "prog";
const TEXT: &str = ".text";

fn i(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn::new(code, dst, src, off, imm)
}
fn mov(dst: u8, imm: i32) -> Insn {
    i(0xb7, dst, 0, 0, imm)
}
fn mov_reg(dst: u8, src: u8) -> Insn {
    i(0xbf, dst, src, 0, 0)
}
fn add(dst: u8, imm: i32) -> Insn {
    i(0x07, dst, 0, 0, imm)
}
fn jeq(dst: u8, imm: i32, off: i16) -> Insn {
    i(0x15, dst, 0, off, imm)
}
fn jne(dst: u8, imm: i32, off: i16) -> Insn {
    i(0x55, dst, 0, off, imm)
}
fn ja(off: i16) -> Insn {
    i(0x05, 0, 0, off, 0)
}
fn ldx(dst: u8, src: u8, off: i16) -> Insn {
    i(0x79, dst, src, off, 0)
}
fn stx(dst: u8, src: u8, off: i16) -> Insn {
    i(0x7b, dst, src, off, 0)
}
fn helper(id: i32) -> Insn {
    i(0x85, 0, 0, 0, id)
}
fn call(rel: i32) -> Insn {
    i(0x85, 0, 1, 0, rel)
}
fn exit() -> Insn {
    i(0x95, 0, 0, 0, 0)
}
fn ld64(dst: u8, src: u8) -> [Insn; 2] {
    [i(0x18, dst, src, 0, 0), Insn::default()]
}

fn out(section: &str, insn_idx: usize, kind: RelocKind, target: Option<u64>) -> RelocOutcome {
    RelocOutcome {
        section: section.into(),
        insn_idx,
        kind,
        type_name: "struct t".into(),
        access: "0:1".into(),
        local_value: 1,
        target_value: target,
        target_btf_index: None,
        target_uses: Vec::new(),
    }
}
fn exists(section: &str, idx: usize, v: u64) -> RelocOutcome {
    out(section, idx, RelocKind::FieldExists, Some(v))
}
fn poisoned(section: &str, idx: usize) -> RelocOutcome {
    out(section, idx, RelocKind::FieldByteOffset, None)
}

fn code<'a>(name: &'a str, insns: &'a [Insn]) -> CodeRef<'a> {
    CodeRef {
        name,
        insns,
        funcs: BTreeMap::new(),
    }
}

/// Classify with one program at instruction 0 of the first section.
fn run(code: &[CodeRef], outcomes: &[RelocOutcome]) -> Vec<Reach> {
    let entries = [Entry {
        name: PROG,
        code: 0,
        start: 0,
    }];
    classify(code, &entries, outcomes)
}

fn reachable() -> Reach {
    Reach::Reachable {
        program: PROG.into(),
    }
}

/// `if (bpf_core_field_exists(x)) use(x)`, as clang emits it.
fn guarded() -> Vec<Insn> {
    vec![
        mov(1, 1),    // 0: field_exists relocation
        jeq(1, 0, 2), // 1: if r1 == 0 goto 4
        mov(2, 8),    // 2: byte_off relocation of the guarded field
        ldx(3, 6, 0), // 3
        mov(0, 0),    // 4
        exit(),       // 5
    ]
}

#[test]
fn guard_false_makes_the_access_unreachable() {
    let insns = guarded();
    let o = [exists(PROG, 0, 0), poisoned(PROG, 2)];
    assert_eq!(
        run(&[code(PROG, &insns)], &o),
        vec![Reach::Resolved, Reach::Unreachable]
    );
}

#[test]
fn guard_true_leaves_the_access_reachable() {
    let insns = guarded();
    let o = [exists(PROG, 0, 1), poisoned(PROG, 2)];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], reachable());
}

#[test]
fn unguarded_access_is_reachable() {
    let insns = [mov(2, 8), ldx(3, 6, 0), mov(0, 0), exit()];
    assert_eq!(
        run(&[code(PROG, &insns)], &[poisoned(PROG, 0)]),
        vec![reachable()]
    );
}

#[test]
fn guard_on_unknown_value_takes_both_ways() {
    // r1 comes from memory: not a constant.
    let insns = [ldx(1, 1, 0), jeq(1, 0, 1), mov(2, 8), mov(0, 0), exit()];
    assert_eq!(
        run(&[code(PROG, &insns)], &[poisoned(PROG, 2)]),
        vec![reachable()]
    );
}

#[test]
fn guard_spilled_to_the_stack_and_filled() {
    let insns = [
        mov(1, 1),      // 0: field_exists = 0
        stx(10, 1, -8), // 1: spill
        mov(1, 7),      // 2
        helper(14),     // 3: helper without stack pointers: slots survive
        ldx(2, 10, -8), // 4: fill
        jne(2, 0, 2),   // 5: if exists goto 8
        mov(0, 0),      // 6
        exit(),         // 7
        mov(3, 16),     // 8: poisoned
        exit(),         // 9
    ];
    let o = [exists(PROG, 0, 0), poisoned(PROG, 8)];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], Reach::Unreachable);
}

#[test]
fn helper_with_stack_pointer_forgets_spilled_guards() {
    let insns = [
        mov(1, 1),      // 0: field_exists = 0
        stx(10, 1, -8), // 1: spill
        mov_reg(1, 10), // 2
        add(1, -16),    // 3: r1 = fp - 16
        helper(113),    // 4: probe_read into the stack: may write anywhere there
        ldx(2, 10, -8), // 5: fill: unknown now
        jeq(2, 0, 1),   // 6
        mov(3, 16),     // 7: poisoned
        exit(),         // 8
    ];
    let o = [exists(PROG, 0, 0), poisoned(PROG, 7)];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], reachable());
}

#[test]
fn alu32_and_jmp32_on_the_guard() {
    let insns = [
        mov(1, 1),           // 0: type_exists = 0
        i(0xa4, 1, 0, 0, 1), // 1: w1 ^= 1  -> 1
        i(0x16, 1, 0, 1, 1), // 2: if w1 == 1 goto 4
        mov(2, 8),           // 3: poisoned
        exit(),              // 4
    ];
    let o = [
        out(PROG, 0, RelocKind::TypeExists, Some(0)),
        poisoned(PROG, 3),
    ];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], Reach::Unreachable);
}

#[test]
fn ld_imm64_relocated_constant_is_known() {
    let [a, b] = ld64(1, 0);
    let insns = [a, b, jeq(1, 0, 1), mov(2, 8), exit()];
    let o = [
        out(PROG, 0, RelocKind::EnumvalExists, Some(0)),
        poisoned(PROG, 3),
    ];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], Reach::Unreachable);
}

/// Program calls `.text` function `sub(r1)` with the existence check as
/// argument; `sub` guards on it.
fn with_sub() -> (Vec<Insn>, Vec<Insn>) {
    let prog = vec![mov(1, 1), call(-1), exit()];
    let sub = vec![
        mov(0, 5),    // 0: unrelated function
        exit(),       // 1
        jeq(1, 0, 1), // 2: sub: if arg == 0 goto 4
        mov(2, 8),    // 3: poisoned
        exit(),       // 4
    ];
    (prog, sub)
}

fn sub_code<'a>(prog: &'a [Insn], sub: &'a [Insn]) -> Vec<CodeRef<'a>> {
    let mut p = code(PROG, prog);
    p.funcs.insert(1, (1, 2));
    vec![p, code(TEXT, sub)]
}

#[test]
fn constant_argument_into_subprogram() {
    let (prog, sub) = with_sub();
    let c = sub_code(&prog, &sub);
    let o0 = [exists(PROG, 0, 0), poisoned(TEXT, 3)];
    assert_eq!(run(&c, &o0)[1], Reach::Unreachable);
    let o1 = [exists(PROG, 0, 1), poisoned(TEXT, 3)];
    assert_eq!(run(&c, &o1)[1], reachable());
}

#[test]
fn subprogram_called_only_under_a_false_guard() {
    let prog = [
        mov(1, 1),    // 0: field_exists = 0
        jeq(1, 0, 1), // 1
        call(-1),     // 2 -> .text 0
        exit(),       // 3
    ];
    let sub = [mov(2, 8), exit(), mov(0, 0), exit()];
    let mut p = code(PROG, &prog);
    p.funcs.insert(2, (1, 0));
    let c = [p, code(TEXT, &sub)];
    let o = [exists(PROG, 0, 0), poisoned(TEXT, 0)];
    assert_eq!(run(&c, &o)[1], Reach::Unreachable);
    let o = [exists(PROG, 0, 1), poisoned(TEXT, 0)];
    assert_eq!(run(&c, &o)[1], reachable());
}

#[test]
fn uncalled_function_is_dead() {
    let prog = [mov(0, 0), exit()];
    let sub = [mov(2, 8), exit()];
    let c = [code(PROG, &prog), code(TEXT, &sub)];
    assert_eq!(run(&c, &[poisoned(TEXT, 0)]), vec![Reach::Unreachable]);
}

#[test]
fn same_section_relative_call_and_return_value() {
    // main: call sub (relative); r0 = 0 from sub; if r0 == 0 skip poisoned.
    let insns = [
        call(3),      // 0 -> 4
        jeq(0, 0, 1), // 1
        mov(2, 8),    // 2: poisoned
        exit(),       // 3
        mov(0, 0),    // 4: sub returns 0
        exit(),       // 5
    ];
    assert_eq!(
        run(&[code(PROG, &insns)], &[poisoned(PROG, 2)]),
        vec![Reach::Unreachable]
    );
}

#[test]
fn callee_saved_registers_survive_a_call() {
    let insns = [
        mov(6, 1),    // 0: field_exists = 0, kept in r6
        call(4),      // 1 -> 6
        jeq(6, 0, 1), // 2
        mov(2, 8),    // 3: poisoned
        mov(0, 0),    // 4
        exit(),       // 5
        mov(6, 9),    // 6: callee's own r6
        mov(0, 1),    // 7
        exit(),       // 8
    ];
    let o = [exists(PROG, 0, 0), poisoned(PROG, 3)];
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], Reach::Unreachable);
}

#[test]
fn callback_whose_address_is_taken_is_explored() {
    let [a, b] = ld64(2, 4);
    let prog = [mov(1, 4), a, b, helper(181), exit()];
    let sub = [mov(2, 8), mov(0, 0), exit()];
    let mut p = code(PROG, &prog);
    p.funcs.insert(1, (1, 0));
    let c = [p, code(TEXT, &sub)];
    assert_eq!(run(&c, &[poisoned(TEXT, 0)]), vec![reachable()]);
}

#[test]
fn loops_terminate() {
    // for (;;) r1 += 1, then a guard on an unknown value.
    let insns = [
        mov(1, 0),        // 0
        add(1, 1),        // 1
        jne(1, 1000, -2), // 2: back to 1
        mov(2, 8),        // 3: poisoned, reached after the loop
        exit(),           // 4
    ];
    assert_eq!(
        run(&[code(PROG, &insns)], &[poisoned(PROG, 3)]),
        vec![reachable()]
    );
    // An infinite loop never reaches what follows it.
    let insns = [mov(1, 0), add(1, 1), ja(-2), mov(2, 8), exit()];
    assert_eq!(
        run(&[code(PROG, &insns)], &[poisoned(PROG, 3)]),
        vec![Reach::Unreachable]
    );
}

#[test]
fn recursion_gives_unknown() {
    let insns = [call(-1), mov(0, 0), exit(), mov(2, 8), exit()];
    let r = run(&[code(PROG, &insns)], &[poisoned(PROG, 3)]);
    assert!(
        matches!(&r[0], Reach::Unknown { reason } if reason.contains("deep")),
        "{r:?}"
    );
}

#[test]
fn wild_jump_gives_unknown_not_unreachable() {
    let insns = [ja(100), mov(2, 8), exit()];
    let r = run(&[code(PROG, &insns)], &[poisoned(PROG, 1)]);
    assert!(
        matches!(&r[0], Reach::Unknown { reason } if reason.contains("outside")),
        "{r:?}"
    );
}

#[test]
fn falling_off_the_end_gives_unknown() {
    let insns = [mov(2, 8), mov(0, 0)];
    let r = run(&[code(PROG, &insns)], &[poisoned(PROG, 0)]);
    // Reached before the analysis fails: reachable.
    assert_eq!(r, vec![reachable()]);
    let insns = [mov(0, 0), mov(2, 8)];
    let r = run(&[code(PROG, &insns)], &[poisoned(PROG, 1)]);
    assert_eq!(r, vec![reachable()]);
    let insns = [ja(1), mov(2, 8), mov(0, 0)];
    let r = run(&[code(PROG, &insns)], &[poisoned(PROG, 1)]);
    assert!(matches!(r[0], Reach::Unknown { .. }), "{r:?}");
}

#[test]
fn resolved_outcomes_need_no_analysis() {
    let o = [exists(PROG, 0, 1), exists("nowhere", 0, 0)];
    assert_eq!(
        run(&[code(PROG, &[exit()])], &o),
        vec![Reach::Resolved, Reach::Resolved]
    );
    let r = run(&[code(PROG, &[exit()])], &[poisoned("nowhere", 0)]);
    assert!(matches!(r[0], Reach::Unknown { .. }));
}

/// Opcodes for the structured half of `garbage_never_panics`.
const CODES: &[u8] = &[
    0xb7, 0xbf, 0xb4, 0x07, 0x0f, 0x17, 0xa4, 0x57, 0x67, 0x77, 0xc7, 0x87, 0x37, 0x15, 0x55, 0x25,
    0x1d, 0x16, 0x56, 0x65, 0x05, 0x06, 0x79, 0x61, 0x91, 0x7b, 0x63, 0x7a, 0x72, 0xdb, 0x85, 0x95,
    0x18, 0xe5, 0x8d,
];

/// xorshift64: deterministic pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Raw bytes, or a well-formed instruction with small operands (so that
    /// jumps, calls, loops and the stack get exercised).
    fn insn(&mut self, structured: bool) -> Insn {
        let r = self.next();
        if !structured {
            return Insn::from_bytes(&r.to_le_bytes());
        }
        let c = CODES[(r % CODES.len() as u64) as usize];
        let off = ((r >> 8) % 17) as i16 - 8;
        let imm = ((r >> 16) % 9) as i32 - 4;
        let off = if matches!(c & 0x07, 0x01..=0x03) {
            off * 8
        } else {
            off
        };
        i(c, ((r >> 24) % 11) as u8, ((r >> 28) % 11) as u8, off, imm)
    }
}

#[test]
fn garbage_never_panics() {
    let mut g = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let structured = g.next() % 2 == 0;
        let n = (g.next() % 40) as usize + 1;
        let insns: Vec<Insn> = (0..n).map(|_| g.insn(structured)).collect();
        let m = (g.next() % 8) as usize;
        let text: Vec<Insn> = (0..m).map(|_| g.insn(structured)).collect();
        let mut p = code(PROG, &insns);
        for _ in 0..3 {
            let at = (g.next() % 48) as usize;
            let to = ((g.next() % 3) as usize, (g.next() % 10) as usize);
            p.funcs.insert(at, to);
        }
        let o: Vec<RelocOutcome> = (0..4)
            .map(|_| {
                let sec = if g.next() % 2 == 0 { PROG } else { TEXT };
                let v = (g.next() % 3 != 0).then(|| g.next() % 4);
                out(sec, (g.next() % 48) as usize, RelocKind::FieldExists, v)
            })
            .collect();
        let c = [p, code(TEXT, &text)];
        let entries = [
            Entry {
                name: PROG,
                code: 0,
                start: (g.next() % 48) as usize,
            },
            Entry {
                name: "bad",
                code: (g.next() % 4) as usize,
                start: 0,
            },
        ];
        let r = classify(&c, &entries, &o);
        assert_eq!(r.len(), o.len());
    }
}

/// Spill the guard, then store through `fp - 64 + r2` (unknown index).
fn variable_index_store(store: bool) -> Vec<Insn> {
    let mut v = vec![
        mov(1, 1),           // 0: field_exists = 0
        stx(10, 1, -8),      // 1: spill
        ldx(2, 6, 0),        // 2: unknown index
        mov_reg(3, 10),      // 3
        add(3, -64),         // 4
        i(0x0f, 3, 2, 0, 0), // 5: r3 += r2: somewhere in the stack
        i(0x7a, 3, 0, 0, 1), // 6: *(u64 *)(r3 + 0) = 1
        ldx(4, 10, -8),      // 7: fill
        jeq(4, 0, 1),        // 8
        mov(5, 8),           // 9: poisoned
        exit(),              // 10
    ];
    if !store {
        v[6] = mov(0, 0);
    }
    v
}

#[test]
fn store_at_unknown_stack_offset_forgets_slots() {
    let o = [exists(PROG, 0, 0), poisoned(PROG, 9)];
    let insns = variable_index_store(false);
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], Reach::Unreachable);
    let insns = variable_index_store(true);
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], reachable());
}

#[test]
fn joined_stack_pointers_stay_stack_pointers() {
    let insns = [
        mov(1, 1),           // 0: field_exists = 0
        stx(10, 1, -8),      // 1: spill
        mov_reg(3, 10),      // 2
        add(3, -16),         // 3: r3 = fp - 16
        ldx(2, 6, 0),        // 4
        jeq(2, 0, 1),        // 5: unknown: both ways
        add(3, 8),           // 6: r3 = fp - 8 on this path
        i(0x7a, 3, 0, 0, 1), // 7: store through fp-16 or fp-8
        ldx(4, 10, -8),      // 8
        jeq(4, 0, 1),        // 9
        mov(5, 8),           // 10: poisoned
        exit(),              // 11
    ];
    let o = [exists(PROG, 0, 0), poisoned(PROG, 10)];
    // Path-sensitive: one path overwrites the spilled guard with 1.
    assert_eq!(run(&[code(PROG, &insns)], &o)[1], reachable());
}

#[test]
fn join_keeps_stack_pointers_as_possibly_stack() {
    let mut a = State::entry();
    let mut b = State::entry();
    a.cur.regs[3] = V::Fp(-8);
    b.cur.regs[3] = V::Fp(-16);
    a.cur.regs[4] = V::Const(1);
    b.cur.regs[4] = V::Const(2);
    a.cur.regs[5] = V::Const(7);
    b.cur.regs[5] = V::Const(7);
    a.cur.store(-8, 8, V::Const(0));
    b.cur.store(-8, 8, V::Const(0));
    a.cur.store(-16, 4, V::Const(3));
    let j = a.join(&b);
    assert_eq!(j.cur.regs[3], V::StackAny);
    assert_eq!(j.cur.regs[4], V::Unknown);
    assert_eq!(j.cur.regs[5], V::Const(7));
    assert_eq!(j.cur.load(-8, 8), V::Const(0));
    assert_eq!(j.cur.load(-16, 4), V::Unknown);
    // Overlapping stores replace; partial overlap forgets.
    a.cur.store(-12, 4, V::Const(9));
    assert_eq!(a.cur.load(-16, 4), V::Const(3));
    assert_eq!(a.cur.load(-12, 4), V::Const(9));
    a.cur.store(-14, 4, V::Const(1));
    assert_eq!(a.cur.load(-16, 4), V::Unknown);
    assert_eq!(a.cur.load(-12, 4), V::Unknown);
    assert_eq!(a.cur.load(-14, 4), V::Const(1));
}
