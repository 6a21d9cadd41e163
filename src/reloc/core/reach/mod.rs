//! Reachability of unresolved CO-RE relocations (pure, bounded, total).
//!
//! An unresolved relocation poisons its instruction; the kernel verifier
//! rejects the program only if that instruction is reachable. Programs guard
//! such accesses with `bpf_core_field_exists()` / `bpf_core_type_exists()` /
//! `bpf_core_enum_value_exists()`, whose relocated values are constants, so
//! the verifier prunes the guarded branch as dead code. This module decides
//! that offline: from each program's entry it follows the control flow with a
//! small abstract interpretation in which registers and stack slots hold a
//! known constant, a pointer into the current stack frame, or "unknown".
//! Relocated immediates take their target values; a conditional jump on
//! known operands takes one branch only; bpf-to-bpf calls are followed into
//! the callee (with the call stack as context); functions whose address is
//! taken (callbacks) are explored as entries of their own.
//!
//! The interpretation over-approximates: anything not known is taken both
//! ways, so "not reached" means the verifier cannot reach it either (under
//! the assumption that stores through untracked pointers do not hit the
//! stack slots tracked here). Work is bounded (states per instruction, steps
//! per program, call depth); on exhaustion, or on a construct not modelled
//! (indirect calls, jumps outside the code), the answer for relocations the
//! analysis did not reach is [`Reach::Unknown`], never a guess.

mod state;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::abi::insn::{
    Insn, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_ST,
    BPF_STX, BPF_X, LD_IMM64,
};
use crate::obj::{ObjectSpec, Reloc};

use super::RelocOutcome;
use state::{alu_const, jmp_const, sext, truncate, Frame, State, V};

/// States kept per (call stack, instruction) before joining them.
const STATES_PER_INSN: usize = 4;
/// Interpreted instructions per program entry before giving up.
const STEPS_PER_ENTRY: usize = 300_000;
/// Call depth limit (the kernel allows 8 frames).
const MAX_CALL_DEPTH: usize = 8;

/// One code section as the analysis sees it.
#[derive(Clone, Debug)]
pub struct CodeRef<'a> {
    /// ELF section name (as in [`RelocOutcome::section`]).
    pub name: &'a str,
    /// Its instructions (before or after CO-RE relocation: the relocated
    /// values are taken from the outcomes).
    pub insns: &'a [Insn],
    /// Targets of bpf-to-bpf calls and function-address `ld_imm64`s that
    /// the ELF relocations resolved: instruction index -> (index into the
    /// code list, instruction index). A pseudo call not listed here is
    /// relative to its own section.
    pub funcs: BTreeMap<usize, (usize, usize)>,
}

/// A program entry point.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// Program name, for reports.
    pub name: &'a str,
    /// Index into the code list.
    pub code: usize,
    /// First instruction.
    pub start: usize,
}

/// The verdict on one relocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Resolved: the instruction holds the target's value.
    Resolved,
    /// Unresolved (poisoned), but no program reaches it: it is guarded by
    /// an existence check or is dead code, and the verifier removes it.
    Unreachable,
    /// Unresolved and reachable from this program: loading it fails.
    Reachable {
        /// The first program found to reach it.
        program: String,
    },
    /// Unresolved; the analysis could not decide.
    Unknown {
        /// Why (program and reason).
        reason: String,
    },
}

/// Classify every relocation outcome of a parsed object: its programs are
/// the entries, its code sections and function relocations the code.
pub fn classify_object(spec: &ObjectSpec, outcomes: &[RelocOutcome]) -> Vec<Reach> {
    let code: Vec<CodeRef> = spec
        .code
        .iter()
        .map(|c| CodeRef {
            name: &c.name,
            insns: &c.insns,
            funcs: c
                .relocs
                .iter()
                .filter_map(|(i, r)| match r {
                    Reloc::Func { sec, insn } => Some((*i, (*sec, *insn))),
                    _ => None,
                })
                .collect(),
        })
        .collect();
    let entries: Vec<Entry> = spec
        .programs
        .iter()
        .map(|p| Entry {
            name: &p.name,
            code: p.code,
            start: p.start,
        })
        .collect();
    classify(&code, &entries, outcomes)
}

/// Classify every relocation outcome (one [`Reach`] per outcome, same
/// order) by exploring the code from each entry.
pub fn classify(code: &[CodeRef], entries: &[Entry], outcomes: &[RelocOutcome]) -> Vec<Reach> {
    // Relocation sites: (code index, insn) -> relocated value (None: poisoned).
    let mut sites: HashMap<(usize, usize), Option<u64>> = HashMap::new();
    for o in outcomes {
        if let Some(ci) = code.iter().position(|c| c.name == o.section) {
            let e = sites.entry((ci, o.insn_idx)).or_insert(o.target_value);
            if o.target_value.is_none() {
                *e = None;
            }
        }
    }
    let need = outcomes.iter().any(|o| o.target_value.is_none());
    let mut runs: Vec<Run> = Vec::new();
    if need {
        for e in entries {
            let mut x = Explorer {
                code,
                sites: &sites,
                reached: HashSet::new(),
                callbacks: Vec::new(),
            };
            let err = x.explore((e.code, e.start)).err();
            log::debug!(
                "core reach: program {}: {} relocation sites reached{}",
                e.name,
                x.reached.len(),
                err.as_deref()
                    .map(|r| format!(", incomplete: {r}"))
                    .unwrap_or_default()
            );
            runs.push(Run {
                program: e.name,
                reached: x.reached,
                incomplete: err,
            });
        }
    }
    let verdicts: Vec<Reach> = outcomes.iter().map(|o| verdict(code, &runs, o)).collect();
    for (o, v) in outcomes.iter().zip(&verdicts) {
        if o.target_value.is_none() {
            log::trace!(
                "core reach: {} insn #{}: {} {} {}: {v:?}",
                o.section,
                o.insn_idx,
                o.kind,
                o.type_name,
                o.access
            );
        }
    }
    verdicts
}

/// The verdict on one outcome, given what each program's exploration found.
fn verdict(code: &[CodeRef], runs: &[Run], o: &RelocOutcome) -> Reach {
    if o.target_value.is_some() {
        return Reach::Resolved;
    }
    let Some(ci) = code.iter().position(|c| c.name == o.section) else {
        return Reach::Unknown {
            reason: format!("no code section '{}'", o.section),
        };
    };
    let pc = (ci, o.insn_idx);
    if let Some(r) = runs.iter().find(|r| r.reached.contains(&pc)) {
        return Reach::Reachable {
            program: r.program.to_string(),
        };
    }
    for r in runs {
        if let Some(why) = &r.incomplete {
            return Reach::Unknown {
                reason: format!("analysis of {} incomplete: {why}", r.program),
            };
        }
    }
    Reach::Unreachable
}

/// What the exploration from one program entry found.
struct Run<'a> {
    program: &'a str,
    /// Relocation sites reached.
    reached: HashSet<(usize, usize)>,
    /// Why the exploration stopped early, if it did.
    incomplete: Option<String>,
}

/// Per-(call stack, instruction) record of the states explored there.
#[derive(Default)]
struct Seen {
    states: Vec<State>,
    joined: Option<State>,
    widened: bool,
}

struct Explorer<'c, 'a> {
    code: &'c [CodeRef<'a>],
    sites: &'c HashMap<(usize, usize), Option<u64>>,
    reached: HashSet<(usize, usize)>,
    callbacks: Vec<(usize, usize)>,
}

type Pc = (usize, usize);

impl Explorer<'_, '_> {
    /// Explore from `entry`; `Err` = gave up (the reached set is partial).
    fn explore(&mut self, entry: Pc) -> Result<(), String> {
        let mut work: Vec<(Pc, State)> = vec![(entry, State::entry())];
        let mut seen: HashMap<(Vec<Pc>, Pc), Seen> = HashMap::new();
        let mut entered: HashSet<Pc> = HashSet::from([entry]);
        let mut steps = 0usize;
        loop {
            let Some((pc, st)) = work.pop() else {
                // Callbacks whose address was taken on some explored path.
                let Some(cb) = self.callbacks.pop() else {
                    return Ok(());
                };
                if entered.insert(cb) {
                    work.push((cb, State::entry()));
                }
                continue;
            };
            steps += 1;
            if steps > STEPS_PER_ENTRY {
                return Err(format!("gave up after {STEPS_PER_ENTRY} steps"));
            }
            let key = (st.callers.iter().map(|c| c.ret).collect::<Vec<_>>(), pc);
            let s = seen.entry(key).or_default();
            if s.states.contains(&st) {
                continue;
            }
            let joined = match &s.joined {
                Some(j) => j.join(&st),
                None => st.clone(),
            };
            let st = if s.states.len() < STATES_PER_INSN {
                s.states.push(st.clone());
                s.joined = Some(joined);
                st
            } else {
                if s.widened && s.joined.as_ref() == Some(&joined) {
                    continue;
                }
                s.widened = true;
                s.joined = Some(joined.clone());
                joined
            };
            self.step(pc, st, &mut work)?;
        }
    }

    fn jump(&self, pc: Pc, delta: i64) -> Result<Pc, String> {
        let t = (pc.1 as i64).saturating_add(1).saturating_add(delta);
        let len = self.code.get(pc.0).map(|c| c.insns.len()).unwrap_or(0);
        if t < 0 || t as usize >= len {
            return Err(format!(
                "insn #{} jumps to {t}, outside section ({len} insns)",
                pc.1
            ));
        }
        Ok((pc.0, t as usize))
    }

    /// Interpret one instruction; push the successor states.
    fn step(&mut self, pc: Pc, mut st: State, out: &mut Vec<(Pc, State)>) -> Result<(), String> {
        let Some(code) = self.code.get(pc.0) else {
            return Err(format!("no code section #{}", pc.0));
        };
        let Some(&insn) = code.insns.get(pc.1) else {
            return Err(format!(
                "{}: runs past the end at insn #{}",
                code.name, pc.1
            ));
        };
        let site = self.sites.get(&pc).copied();
        if site.is_some() {
            self.reached.insert(pc);
        }
        let (dst, src) = (insn.dst() as usize, insn.src() as usize);
        if dst > 10 || src > 10 {
            return Err(format!("{}: insn #{}: bad register", code.name, pc.1));
        }
        let class = insn.class();
        let writes_dst = matches!(class, BPF_ALU | BPF_ALU64 | BPF_LDX)
            || (class == BPF_LD && insn.code == LD_IMM64);
        if writes_dst && dst == 10 {
            return Err(format!("{}: insn #{}: writes r10", code.name, pc.1));
        }
        let next = (pc.0, pc.1 + 1);
        let cur = &mut st.cur;
        if let Some(None) = site {
            // Poisoned: whatever it computed is unknown; follow on.
            match class {
                BPF_ALU | BPF_ALU64 | BPF_LDX => cur.regs[dst] = V::Unknown,
                BPF_LD => {
                    cur.regs[dst] = V::Unknown;
                    out.push(((pc.0, pc.1 + 2), st));
                    return Ok(());
                }
                BPF_ST | BPF_STX if cur.regs[dst].maybe_stack() => cur.clobber_stack(),
                _ => {}
            }
            out.push((next, st));
            return Ok(());
        }
        let reloc = site.flatten();
        match class {
            BPF_ALU | BPF_ALU64 => {
                let imm = reloc.map(|v| v as i32).unwrap_or(insn.imm);
                let v = alu(insn, imm, cur, class == BPF_ALU64);
                cur.regs[dst] = v;
            }
            BPF_LDX => {
                let off = reloc.map(|v| v as i16).unwrap_or(insn.off) as i64;
                let size = mem_size(insn.code);
                let mode = insn.code & 0xe0;
                cur.regs[dst] = match cur.regs[src] {
                    V::Fp(o) if mode == BPF_MEM || mode == BPF_MEMSX => {
                        match cur.load(o.saturating_add(off), size) {
                            V::Const(c) if mode == BPF_MEMSX => V::Const(sext(c, size as u32 * 8)),
                            v => v,
                        }
                    }
                    _ => V::Unknown,
                };
            }
            BPF_ST | BPF_STX => {
                let off = reloc.map(|v| v as i16).unwrap_or(insn.off) as i64;
                let size = mem_size(insn.code);
                let mode = insn.code & 0xe0;
                let val = if class == BPF_ST {
                    V::Const(insn.imm as i64 as u64)
                } else {
                    cur.regs[src]
                };
                match cur.regs[dst] {
                    V::Fp(o) if mode == BPF_MEM => cur.store(o.saturating_add(off), size, val),
                    V::Fp(o) => cur.store(o.saturating_add(off), size, V::Unknown),
                    V::StackAny => cur.clobber_stack(),
                    _ => {}
                }
                if class == BPF_STX && mode == 0xc0 && insn.imm & 1 != 0 {
                    // Atomic with fetch (or cmpxchg): registers change.
                    cur.regs[src] = V::Unknown;
                    cur.regs[0] = V::Unknown;
                }
            }
            BPF_LD => {
                if insn.code != LD_IMM64 {
                    // Legacy packet access: r0 and the caller-saved registers.
                    for r in &mut cur.regs[0..6] {
                        *r = V::Unknown;
                    }
                    out.push((next, st));
                    return Ok(());
                }
                if let Some(&target) = code.funcs.get(&pc.1) {
                    self.callbacks.push(target);
                }
                cur.regs[dst] = reloc.map(V::Const).unwrap_or(V::Unknown);
                out.push(((pc.0, pc.1 + 2), st));
                return Ok(());
            }
            BPF_JMP | BPF_JMP32 => return self.jmp(pc, insn, st, out),
            // The eight classes are all matched above.
            _ => {}
        }
        out.push((next, st));
        Ok(())
    }

    fn jmp(
        &mut self,
        pc: Pc,
        insn: Insn,
        mut st: State,
        out: &mut Vec<(Pc, State)>,
    ) -> Result<(), String> {
        let is64 = insn.class() == BPF_JMP;
        let Some(here) = self.code.get(pc.0) else {
            return Err(format!("no code section #{}", pc.0));
        };
        let name = here.name;
        let next = (pc.0, pc.1 + 1);
        match insn.code & 0xf0 {
            0x00 => {
                let delta = if is64 {
                    insn.off as i64
                } else {
                    insn.imm as i64
                };
                out.push((self.jump(pc, delta)?, st));
            }
            0x80 if is64 => {
                if insn.code & BPF_X != 0 {
                    return Err(format!("{name}: insn #{}: indirect call", pc.1));
                }
                let args_on_stack = st.cur.regs[1..6].iter().any(|v| v.maybe_stack());
                if insn.is_pseudo_call() {
                    if st.callers.len() >= MAX_CALL_DEPTH {
                        return Err(format!("{name}: insn #{}: calls nest too deep", pc.1));
                    }
                    let target = match here.funcs.get(&pc.1) {
                        Some(&t) => t,
                        None => self.jump(pc, insn.imm as i64)?,
                    };
                    if self
                        .code
                        .get(target.0)
                        .is_none_or(|c| target.1 >= c.insns.len())
                    {
                        return Err(format!(
                            "{name}: insn #{}: call target outside the code",
                            pc.1
                        ));
                    }
                    let mut callee = Frame::entry();
                    for r in 1..6 {
                        if let V::Const(c) = st.cur.regs[r] {
                            callee.regs[r] = V::Const(c);
                        }
                    }
                    let mut caller = std::mem::replace(&mut st.cur, callee);
                    if args_on_stack {
                        caller.clobber_stack();
                    }
                    st.callers.push(state::Caller {
                        ret: next,
                        frame: caller,
                    });
                    out.push((target, st));
                } else {
                    // Helper or kfunc: may write through pointer arguments.
                    if args_on_stack {
                        st.cur.clobber_stack();
                    }
                    for r in &mut st.cur.regs[0..6] {
                        *r = V::Unknown;
                    }
                    out.push((next, st));
                }
            }
            0x90 if is64 => {
                if let Some(c) = st.callers.pop() {
                    let r0 = match st.cur.regs[0] {
                        V::Const(v) => V::Const(v),
                        _ => V::Unknown,
                    };
                    st.cur = c.frame;
                    st.cur.regs[0] = r0;
                    for r in &mut st.cur.regs[1..6] {
                        *r = V::Unknown;
                    }
                    out.push((c.ret, st));
                }
            }
            0xe0 => {
                // may_goto: either way.
                out.push((self.jump(pc, insn.off as i64)?, st.clone()));
                out.push((next, st));
            }
            op => {
                let a = st.cur.regs[insn.dst() as usize];
                let b = if insn.code & BPF_X != 0 {
                    st.cur.regs[insn.src() as usize]
                } else {
                    V::Const(insn.imm as i64 as u64)
                };
                let taken = self.jump(pc, insn.off as i64)?;
                let known = match (a, b) {
                    (V::Const(a), V::Const(b)) => jmp_const(op, a, b, is64),
                    _ => None,
                };
                if jmp_const(op, 0, 0, is64).is_none() {
                    return Err(format!(
                        "{name}: insn #{}: unknown jump {:#04x}",
                        pc.1, insn.code
                    ));
                }
                match known {
                    Some(true) => out.push((taken, st)),
                    Some(false) => out.push((next, st)),
                    None => {
                        out.push((taken, st.clone()));
                        out.push((next, st));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Access size of a load/store opcode, in bytes.
fn mem_size(code: u8) -> u8 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

/// Result of an ALU instruction (`imm` possibly relocated).
fn alu(insn: Insn, imm: i32, cur: &Frame, is64: bool) -> V {
    let op = insn.code & 0xf0;
    let a = cur.regs[insn.dst() as usize];
    let b = if insn.code & BPF_X != 0 {
        cur.regs[insn.src() as usize]
    } else {
        V::Const(imm as i64 as u64)
    };
    let fix = |v: u64| if is64 { v } else { truncate(v, 4) };
    if !is64 && (a.maybe_stack() || b.maybe_stack()) {
        // 32-bit arithmetic on a pointer: the verifier rejects it.
        return V::Unknown;
    }
    match op {
        0xb0 => match (insn.off, b) {
            (0, V::Const(c)) => V::Const(fix(c)),
            (0, V::Fp(_) | V::StackAny) => b,
            (8 | 16 | 32, V::Const(c)) => V::Const(fix(sext(c, insn.off as u32))),
            _ => V::Unknown,
        },
        0x80 => match a {
            V::Const(c) => V::Const(fix(c.wrapping_neg())),
            _ => V::Unknown,
        },
        0x00 | 0x10 if is64 => match (a, b) {
            (V::Fp(o), V::Const(c)) => {
                let c = c as i64;
                V::Fp(if op == 0x00 {
                    o.wrapping_add(c)
                } else {
                    o.wrapping_sub(c)
                })
            }
            (V::Const(c), V::Fp(o)) if op == 0x00 => V::Fp(o.wrapping_add(c as i64)),
            (V::Const(x), V::Const(y)) => alu_const(op, x, y, true).map_or(V::Unknown, V::Const),
            _ if a.maybe_stack() || b.maybe_stack() => V::StackAny,
            _ => V::Unknown,
        },
        _ if a.maybe_stack() || b.maybe_stack() => V::StackAny,
        _ => match (a, b) {
            (V::Const(x), V::Const(y)) => alu_const(op, x, y, is64).map_or(V::Unknown, V::Const),
            _ => V::Unknown,
        },
    }
}
