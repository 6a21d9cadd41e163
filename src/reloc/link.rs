//! Static linking of one program (pure): its function, every subprogram it
//! calls (appended once each), relocations turned into the kernel's pseudo
//! instructions, and func_info/line_info moved along with the code.

use crate::abi::insn::{Insn, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};
use crate::obj::{ObjectSpec, Reloc};
use std::collections::HashMap;
use thiserror::Error;

#[derive(Debug, Error)]
/// Why an object's programs could not be linked (subprograms placed,
/// map and data references resolved).
pub enum LinkError {
    #[error("program {program}: {section}[{insn}]: {reason}")]
    /// An instruction's relocation cannot be resolved.
    Insn {
        /// The program being linked.
        program: String,
        /// The code section of the instruction.
        section: String,
        /// Instruction index within the section.
        insn: usize,
        /// What is wrong.
        reason: String,
    },
    /// A `.ksyms` extern that cannot be resolved against the kernel (or is
    /// used in a way the kernel cannot take).
    #[error("extern {name} (.ksyms): {reason}")]
    Ksym {
        /// The extern's name.
        name: String,
        /// Why it cannot be resolved or used.
        reason: String,
    },
    /// The spec is inconsistent (e.g. edited by hand): a program or function
    /// that points outside its code section.
    #[error("program #{index}: {reason}")]
    Spec {
        /// Index of the program in the spec.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

// `bpf_func_info` / `bpf_line_info` records. In [`ExtInfo`] and
// [`LinkedProgram`] their `insn_off` counts instructions (in `.BTF.ext` it
// counts bytes).
use crate::btf::{FuncInfo, LineInfo};

/// func_info and line_info of an object, per ELF section, with `insn_off` in
/// instructions from the start of the section.
#[derive(Clone, Debug, Default)]
pub struct ExtInfo {
    /// func_info records per ELF section.
    pub func: HashMap<String, Vec<FuncInfo>>,
    /// line_info records per ELF section.
    pub line: HashMap<String, Vec<LineInfo>>,
}

impl ExtInfo {
    /// From `.BTF.ext`: the same records, `insn_off` turned from bytes into
    /// instructions.
    pub fn from_btf_ext(ext: &crate::btf::BtfExt) -> ExtInfo {
        let mut out = ExtInfo::default();
        for (sec, recs) in &ext.func_info {
            let v = recs
                .iter()
                .map(|r| FuncInfo {
                    insn_off: r.insn_off / 8,
                    ..*r
                })
                .collect();
            out.func.insert(sec.clone(), v);
        }
        for (sec, recs) in &ext.line_info {
            let v = recs
                .iter()
                .map(|r| LineInfo {
                    insn_off: r.insn_off / 8,
                    ..*r
                })
                .collect();
            out.line.insert(sec.clone(), v);
        }
        out
    }
}

/// A reference from an instruction to something only known at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadRef {
    /// `imm` of this `ld_imm64` must become map `map`'s fd.
    Map {
        /// The `ld_imm64` instruction, in the linked program.
        insn: usize,
        /// Index of the map in the spec.
        map: usize,
    },
    /// This `ld_imm64` reads `.kconfig` extern `name`.
    Kconfig {
        /// The `ld_imm64` instruction, in the linked program.
        insn: usize,
        /// The extern's name.
        name: String,
    },
    /// This `ld_imm64` (the address of a kernel variable or kfunc) or this
    /// `call` (`call: true`, a kfunc call) refers to `.ksyms` extern `name`.
    Ksym {
        /// The instruction, in the linked program.
        insn: usize,
        /// The extern's name.
        name: String,
        /// Whether it is a kfunc `call` (else an `ld_imm64`).
        call: bool,
    },
}

/// A program ready for BPF_PROG_LOAD except for map fds.
#[derive(Clone, Debug, Default)]
pub struct LinkedProgram {
    /// The linked instructions: the program, then its subprograms.
    pub insns: Vec<Insn>,
    /// What must be filled in at load time.
    pub refs: Vec<LoadRef>,
    /// func_info, `insn_off` in instructions of `insns`.
    pub func_info: Vec<FuncInfo>,
    /// line_info, `insn_off` in instructions of `insns`.
    pub line_info: Vec<LineInfo>,
    /// Where the code came from: (code section index, first insn in that
    /// section, insn count, position in `insns`), one per function placed.
    pub placed: Vec<(usize, usize, usize, usize)>,
}

impl LinkedProgram {
    /// The code section index and instruction index (in that section) of
    /// instruction `pos` of the linked program.
    pub fn origin(&self, pos: usize) -> Option<(usize, usize)> {
        self.placed
            .iter()
            .find(|(_, _, len, at)| pos >= *at && pos < at + len)
            .map(|(sec, start, _, at)| (*sec, start + (pos - at)))
    }
}

impl LinkedProgram {
    /// Put map fds into the instructions (`fd_of(map index)`).
    pub fn patch_fds(&mut self, mut fd_of: impl FnMut(usize) -> i32) {
        for r in &self.refs {
            if let LoadRef::Map { insn, map } = r {
                self.insns[*insn].imm = fd_of(*map);
            }
        }
    }
}

/// Link program `prog` of `spec`.
pub fn link_program(
    spec: &ObjectSpec,
    prog: usize,
    ext: &ExtInfo,
) -> Result<LinkedProgram, LinkError> {
    let p = spec.programs.get(prog).ok_or_else(|| LinkError::Spec {
        index: prog,
        reason: format!("no such program (the object has {})", spec.programs.len()),
    })?;
    let mut out = LinkedProgram::default();
    // (code section, function start) → position in `out.insns`.
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    let mut queue: Vec<(usize, usize, usize)> = vec![(p.code, p.start, p.len)];
    placed.insert((p.code, p.start), 0);
    let mut qi = 0;
    while qi < queue.len() {
        let (sec, fstart, flen) = queue[qi];
        qi += 1;
        let Some(cs) = spec.code.get(sec) else {
            return Err(LinkError::Spec {
                index: prog,
                reason: format!("code section #{sec} does not exist"),
            });
        };
        let base = out.insns.len();
        let err = |insn: usize, reason: String| LinkError::Insn {
            program: p.name.clone(),
            section: cs.name.clone(),
            insn,
            reason,
        };
        let fend = fstart
            .checked_add(flen)
            .filter(|&e| e <= cs.insns.len())
            .ok_or_else(|| {
                err(
                    fstart,
                    format!(
                        "function of {flen} instructions extends past the section's end ({})",
                        cs.insns.len()
                    ),
                )
            })?;
        out.insns.extend_from_slice(&cs.insns[fstart..fend]);
        out.placed.push((sec, fstart, flen, base));
        for fi in ext.func.get(&cs.name).into_iter().flatten() {
            let o = fi.insn_off as usize;
            if o >= fstart && o < fend {
                out.func_info.push(FuncInfo {
                    insn_off: (o - fstart + base) as u32,
                    ..*fi
                });
            }
        }
        for li in ext.line.get(&cs.name).into_iter().flatten() {
            let o = li.insn_off as usize;
            if o >= fstart && o < fend {
                out.line_info.push(LineInfo {
                    insn_off: (o - fstart + base) as u32,
                    ..*li
                });
            }
        }
        let mut i = fstart;
        while i < fend {
            let pos = base + i - fstart;
            let insn = cs.insns[i];
            if insn.is_ld_imm64() && i + 1 >= fend {
                // Its second half is in the next function (or past the
                // section): the function's symbol size cuts it in half.
                return Err(err(
                    i,
                    "ld_imm64 is cut in half by the end of its function".into(),
                ));
            }
            let reloc = match cs.relocs.get(&i) {
                Some(r) => Some(r.clone()),
                None if insn.is_pseudo_call() => {
                    // A call within the section that needed no relocation.
                    let t = i as i64 + insn.imm as i64 + 1;
                    if t < 0 || t as usize >= cs.insns.len() {
                        return Err(err(i, format!("call target {t} is outside the section")));
                    }
                    Some(Reloc::Func {
                        sec,
                        insn: t as usize,
                    })
                }
                None => None,
            };
            match reloc {
                None => {}
                Some(Reloc::Func { sec: ts, insn: ti }) => {
                    let Some(tcs) = spec.code.get(ts) else {
                        return Err(err(
                            i,
                            format!("call into code section #{ts}, which does not exist"),
                        ));
                    };
                    let Some(&(_, tstart, tlen)) =
                        tcs.funcs.iter().find(|f| ti >= f.1 && ti - f.1 < f.2)
                    else {
                        return Err(err(
                            i,
                            format!("call into {} at {ti}: no function there", tcs.name),
                        ));
                    };
                    let fpos = match placed.get(&(ts, tstart)) {
                        Some(&fp) => fp,
                        None => {
                            // Position once everything queued so far is appended.
                            let fp = queue[qi..]
                                .iter()
                                .try_fold(base + flen, |acc, q| acc.checked_add(q.2))
                                .ok_or_else(|| err(i, "program too large".into()))?;
                            placed.insert((ts, tstart), fp);
                            queue.push((ts, tstart, tlen));
                            fp
                        }
                    };
                    let target = fpos + (ti - tstart);
                    let rel = i32::try_from(target as i64 - (pos as i64 + 1))
                        .map_err(|_| err(i, "call distance does not fit 32 bits".into()))?;
                    let o = &mut out.insns[pos];
                    if insn.is_ld_imm64() {
                        o.set_src(BPF_PSEUDO_FUNC);
                        o.imm = rel;
                        out.insns[pos + 1].imm = 0;
                    } else if insn.code == crate::abi::insn::CALL {
                        o.imm = rel;
                    } else {
                        return Err(err(
                            i,
                            "function relocation on neither call nor ld_imm64".into(),
                        ));
                    }
                    log::trace!("{}: insn {pos} → subprogram at {target}", p.name);
                }
                Some(Reloc::Map { map }) => {
                    if !insn.is_ld_imm64() {
                        return Err(err(
                            i,
                            "map relocation on an instruction that is not ld_imm64".into(),
                        ));
                    }
                    out.insns[pos].set_src(BPF_PSEUDO_MAP_FD);
                    out.insns[pos].imm = 0;
                    out.refs.push(LoadRef::Map { insn: pos, map });
                }
                Some(Reloc::MapValue { map, offset }) => {
                    if !insn.is_ld_imm64() {
                        return Err(err(
                            i,
                            "map value relocation on an instruction that is not ld_imm64".into(),
                        ));
                    }
                    out.insns[pos].set_src(BPF_PSEUDO_MAP_VALUE);
                    out.insns[pos].imm = 0;
                    out.insns[pos + 1].imm = offset as i32;
                    out.refs.push(LoadRef::Map { insn: pos, map });
                }
                Some(Reloc::Kconfig { name }) => {
                    out.refs.push(LoadRef::Kconfig { insn: pos, name });
                }
                Some(Reloc::Ksym { name }) => {
                    let call = insn.code == crate::abi::insn::CALL;
                    if !call && !insn.is_ld_imm64() {
                        return Err(err(
                            i,
                            format!("extern {name} used by neither call nor ld_imm64"),
                        ));
                    }
                    out.refs.push(LoadRef::Ksym {
                        insn: pos,
                        name,
                        call,
                    });
                }
            }
            i += if insn.is_ld_imm64() { 2 } else { 1 };
        }
    }
    Ok(out)
}
