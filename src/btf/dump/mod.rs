//! BTF → C header (`vmlinux.h`), equivalent to
//! `bpftool btf dump file FILE format c`.
//!
//! Two phases per top-level type, as in libbpf's `btf_dump`: `order` sorts
//! the types a definition depends on topologically (a type embedded in a
//! struct must be defined before it; one reached through a pointer only
//! needs a forward declaration), `emit` prints the definitions in C syntax
//! with forward declarations where cycles go through pointers, anonymous
//! types inline, bitfields and explicit padding that reproduce every
//! member offset and the struct size. Duplicate names get a `___N` suffix.
//!
//! Everything is bounded: chains and nesting deeper than [`MAX_DEPTH`]
//! give [`BtfError::TooDeep`], never a stack overflow or a panic.

mod emit;
mod order;

use std::collections::HashMap;

use super::{Btf, BtfError, Kind, Type, PTR_SIZE};

/// Deepest nesting of definitions / chains of declarators followed.
pub const MAX_DEPTH: u32 = 400;

const HEADER: &str = "#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

";

const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
";

/// Render every type of `btf` (for split BTF: the base's too) as a C
/// header, wrapped in the `__VMLINUX_H__` include guard and the
/// `preserve_access_index` pragma like bpftool's output.
pub fn to_c_header(btf: &Btf) -> Result<String, BtfError> {
    let mut d = Dumper::new(btf);
    d.out.push_str(HEADER);
    for id in 1..btf.len() {
        d.dump_type(id)?;
    }
    d.out.push_str(FOOTER);
    log::debug!(
        "btf dump: {} types, {} bytes of C, {} emit steps",
        btf.len().saturating_sub(1),
        d.out.len(),
        d.steps
    );
    Ok(d.out)
}

// Per-type state bits.
const ORDER_MASK: u8 = 0b11;
const ORDERING: u8 = 1;
const ORDERED: u8 = 2;
const EMIT_SHIFT: u8 = 2;
const EMITTING: u8 = 1;
const EMITTED: u8 = 2;
const FWD_EMITTED: u8 = 1 << 4;
const NAME_RESOLVED: u8 = 1 << 5;
const REFERENCED: u8 = 1 << 6;

/// State of one dump.
pub(super) struct Dumper<'a> {
    btf: &'a Btf,
    /// Per-type order/emit state and flags (bits above).
    st: Vec<u8>,
    /// Memoized alignment + 1 (0: not computed yet).
    align: Vec<u8>,
    /// Names that got a `___N` suffix, by type id.
    renamed: HashMap<u32, String>,
    /// Occurrences of struct/union/enum names so far.
    type_names: HashMap<&'a str, u32>,
    /// Occurrences of typedef names and enumerators so far.
    ident_names: HashMap<&'a str, u32>,
    /// Definitions to emit for the current top-level type, in order.
    queue: Vec<u32>,
    /// Shared stack of declarator chains (see `emit`).
    stack: Vec<u32>,
    /// Current nesting depth (bounded by [`MAX_DEPTH`]).
    depth: u32,
    /// Bound on the output (crafted BTF can nest anonymous types inline
    /// exponentially): 16 MiB + 1 KiB per type.
    max_out: usize,
    /// Calls of `emit_type` so far, and their bound (crafted BTF can nest
    /// anonymous types exponentially; vmlinux needs ~3 per type).
    steps: usize,
    max_steps: usize,
    out: String,
}

impl<'a> Dumper<'a> {
    fn new(btf: &'a Btf) -> Dumper<'a> {
        let n = btf.len() as usize;
        let mut d = Dumper {
            btf,
            st: vec![0; n],
            align: vec![0; n],
            renamed: HashMap::new(),
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            queue: Vec::new(),
            stack: Vec::new(),
            depth: 0,
            max_out: (16 << 20) + n * 1024,
            steps: 0,
            max_steps: (1 << 20) + n * 64,
            out: String::with_capacity(n * 40),
        };
        if n > 0 {
            // void: always defined.
            d.st[0] = ORDERED | (EMITTED << EMIT_SHIFT);
        }
        d.mark_referenced();
        d
    }

    fn ty(&self, id: u32) -> Result<Type<'a>, BtfError> {
        self.btf.type_by_id(id)
    }

    fn set_flag(&mut self, id: u32, f: u8) {
        if let Some(s) = self.st.get_mut(id as usize) {
            *s |= f;
        }
    }
    fn flag(&self, id: u32, f: u8) -> bool {
        self.st.get(id as usize).is_some_and(|s| s & f != 0)
    }
    fn order_state(&self, id: u32) -> u8 {
        self.st.get(id as usize).map_or(ORDERED, |s| s & ORDER_MASK)
    }
    fn set_order_state(&mut self, id: u32, v: u8) {
        if let Some(s) = self.st.get_mut(id as usize) {
            *s = (*s & !ORDER_MASK) | v;
        }
    }
    fn emit_state(&self, id: u32) -> u8 {
        self.st
            .get(id as usize)
            .map_or(EMITTED, |s| (s >> EMIT_SHIFT) & 0b11)
    }
    fn set_emit_state(&mut self, id: u32, v: u8) {
        if let Some(s) = self.st.get_mut(id as usize) {
            *s = (*s & !(0b11 << EMIT_SHIFT)) | (v << EMIT_SHIFT);
        }
    }

    /// Enter one level of nesting; error past [`MAX_DEPTH`].
    fn enter(&mut self, id: u32) -> Result<(), BtfError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(BtfError::TooDeep { id });
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Mark the types some other type refers to: an anonymous enum nobody
    /// refers to is a top-level definition (global constants).
    fn mark_referenced(&mut self) {
        for id in 1..self.btf.len() {
            let Ok(t) = self.btf.type_by_id(id) else {
                continue;
            };
            match t.kind {
                Kind::Ptr
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Func
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => self.set_flag(t.size_or_type, REFERENCED),
                Kind::Array => {
                    if let Some(a) = t.array() {
                        self.set_flag(a.index_type, REFERENCED);
                        self.set_flag(a.elem_type, REFERENCED);
                    }
                }
                Kind::Struct | Kind::Union => {
                    for i in 0..t.vlen() {
                        self.set_flag(emit::member_type(&t, i), REFERENCED);
                    }
                }
                Kind::FuncProto => {
                    for i in 0..t.vlen() {
                        self.set_flag(emit::param_type(&t, i), REFERENCED);
                    }
                }
                Kind::Datasec => {
                    for v in t.vars() {
                        self.set_flag(v.type_id, REFERENCED);
                    }
                }
                _ => {}
            }
        }
    }

    /// Order and emit one top-level type and what it depends on.
    fn dump_type(&mut self, id: u32) -> Result<(), BtfError> {
        self.queue.clear();
        self.order_type(id, false)?;
        let queue = std::mem::take(&mut self.queue);
        for &q in &queue {
            self.emit_type(q, 0)?;
        }
        self.queue = queue;
        Ok(())
    }

    /// Count one more occurrence of `name` in `map`; the count so far.
    fn name_dups(map: &mut HashMap<&'a str, u32>, name: &'a str) -> u32 {
        let c = map.entry(name).or_insert(0);
        *c += 1;
        *c
    }

    /// The unique C name of struct/union/enum/fwd `id` (or typedef, with
    /// `ident`): the BTF name, with `___N` for its N-th occurrence.
    fn resolve_name(&mut self, t: &Type<'a>, ident: bool) -> &str {
        let id = t.id;
        if t.name_off == 0 {
            return "";
        }
        if !self.flag(id, NAME_RESOLVED) {
            self.set_flag(id, NAME_RESOLVED);
            let exempt = t.kind == Kind::Fwd || (t.kind == Kind::Enum && t.vlen == 0);
            if !exempt {
                let map = if ident {
                    &mut self.ident_names
                } else {
                    &mut self.type_names
                };
                let n = Self::name_dups(map, t.name);
                if n > 1 {
                    self.renamed.insert(id, format!("{}___{n}", t.name));
                }
            }
        }
        match self.renamed.get(&id) {
            Some(s) => s.as_str(),
            None => t.name,
        }
    }

    /// Alignment of a type as the compiler would give it (1 when the
    /// layout shows it packed; 0 when unknown), memoized.
    fn align_of(&mut self, id: u32) -> u32 {
        if let Some(&a) = self.align.get(id as usize) {
            if a != 0 {
                return a as u32 - 1;
            }
        }
        if self.depth >= MAX_DEPTH {
            return 0;
        }
        self.depth += 1;
        let a = self.align_of_uncached(id);
        self.depth -= 1;
        if let Some(slot) = self.align.get_mut(id as usize) {
            *slot = (a.min(254) + 1) as u8;
        }
        a
    }

    fn align_of_uncached(&mut self, id: u32) -> u32 {
        let Ok(t) = self.ty(id) else {
            return 0;
        };
        match t.kind {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => PTR_SIZE.min(t.size_or_type),
            Kind::Ptr => PTR_SIZE,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of(t.size_or_type)
            }
            Kind::Array => match t.array() {
                Some(a) => self.align_of(a.elem_type),
                None => 0,
            },
            Kind::Struct | Kind::Union => {
                let mut max_align = 1;
                for i in 0..t.vlen() {
                    let (mtype, bit_off, bit_sz) = emit::member_layout(&t, i);
                    let a = self.align_of(mtype);
                    if a == 0 {
                        return 0;
                    }
                    max_align = max_align.max(a);
                    if bit_sz == 0 && bit_off % (8 * a) != 0 {
                        return 1;
                    }
                }
                if t.size_or_type % max_align != 0 {
                    return 1;
                }
                max_align
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
