//! Emitting C: definitions (struct/union with padding and bitfields, enum,
//! typedef, forward declarations) and declarators (`int (*f[4])(void)`).

use std::fmt::Write;

use super::{Dumper, EMITTED, EMITTING, FWD_EMITTED, MAX_DEPTH};
use crate::btf::types::rd32;
use crate::btf::{BtfError, Kind, Type, PTR_SIZE};

/// Type of member `i` of a STRUCT/UNION (no bounds beyond the extra data).
pub(super) fn member_type(t: &Type<'_>, i: usize) -> u32 {
    rd32(t.extra, i * 12 + 4)
}

/// (type, bit offset, bitfield size) of member `i`.
pub(super) fn member_layout(t: &Type<'_>, i: usize) -> (u32, u32, u32) {
    let ty = rd32(t.extra, i * 12 + 4);
    let off = rd32(t.extra, i * 12 + 8);
    if t.kind_flag {
        (ty, off & 0x00ff_ffff, off >> 24)
    } else {
        (ty, off, 0)
    }
}

/// Type of parameter `i` of a FUNC_PROTO.
pub(super) fn param_type(t: &Type<'_>, i: usize) -> u32 {
    rd32(t.extra, i * 8 + 4)
}

/// Indentation for nesting level `lvl` (at most 13 tabs, like bpftool).
fn pfx(lvl: usize) -> &'static str {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t";
    &TABS[..lvl.min(TABS.len())]
}

fn roundup(x: i64, y: i64) -> i64 {
    if y <= 0 {
        x
    } else {
        (x + y - 1) / y * y
    }
}

/// GCC's internal Arm SIMD types, aliased to base types when seen.
const MISSING_BASE_TYPES: [(&str, &str); 4] = [
    ("__Poly8_t", "unsigned char"),
    ("__Poly16_t", "unsigned short"),
    ("__Poly64_t", "unsigned long long"),
    ("__Poly128_t", "unsigned __int128"),
];

/// Largest hole padded with unnamed bitfields (1 MiB; kernel structs have
/// holes of at most a few KiB): bounds the output on crafted sizes.
const MAX_PAD_BITS: i64 = 8 << 20;

fn is_mod(k: Kind) -> bool {
    matches!(
        k,
        Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
    )
}

impl<'a> Dumper<'a> {
    /// Emit the definition of `id` (and forward declarations it needs);
    /// `cont_id` is the struct being defined around it (0 at top level).
    pub(super) fn emit_type(&mut self, id: u32, cont_id: u32) -> Result<(), BtfError> {
        if self.emit_state(id) == EMITTED {
            return Ok(());
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(BtfError::BadType {
                id,
                offset: 0,
                what: "too many nested anonymous types to emit".into(),
            });
        }
        let t = self.ty(id)?;
        self.enter(id)?;
        let r = self.emit_type_inner(&t, cont_id);
        self.leave();
        r
    }

    fn emit_type_inner(&mut self, t: &Type<'a>, cont_id: u32) -> Result<(), BtfError> {
        let id = t.id;
        let top_level = cont_id == 0;
        if self.emit_state(id) == EMITTING {
            if self.flag(id, FWD_EMITTED) {
                return Ok(());
            }
            match t.kind {
                Kind::Struct | Kind::Union => {
                    // Referenced from inside itself: no declaration needed.
                    if id == cont_id || t.name_off == 0 {
                        return Ok(());
                    }
                    self.emit_struct_fwd(t);
                    self.out.push_str(";\n\n");
                    self.set_flag(id, FWD_EMITTED);
                }
                Kind::Typedef => {
                    if !is_blacklisted(t) {
                        self.emit_typedef_def(t, 0)?;
                        self.out.push_str(";\n\n");
                    }
                    self.set_flag(id, FWD_EMITTED);
                }
                _ => {}
            }
            return Ok(());
        }
        match t.kind {
            Kind::Int => {
                if let Some((_, base)) = MISSING_BASE_TYPES.iter().find(|(n, _)| *n == t.name) {
                    let _ = write!(self.out, "typedef {base} {};\n\n", t.name);
                }
                self.set_emit_state(id, EMITTED);
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level {
                    self.emit_enum_def(t, 0)?;
                    self.out.push_str(";\n\n");
                }
                self.set_emit_state(id, EMITTED);
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.size_or_type, cont_id)?;
            }
            Kind::Array => {
                if let Some(a) = t.array() {
                    self.emit_type(a.elem_type, cont_id)?;
                }
            }
            Kind::Fwd => {
                self.emit_fwd_def(t);
                self.out.push_str(";\n\n");
                self.set_emit_state(id, EMITTED);
            }
            Kind::Typedef => {
                self.set_emit_state(id, EMITTING);
                self.emit_type(t.size_or_type, id)?;
                if !self.flag(id, FWD_EMITTED) && !is_blacklisted(t) {
                    self.emit_typedef_def(t, 0)?;
                    self.out.push_str(";\n\n");
                }
                self.set_emit_state(id, EMITTED);
            }
            Kind::Struct | Kind::Union => {
                self.set_emit_state(id, EMITTING);
                if top_level || t.name_off == 0 {
                    let new_cont = if t.name_off == 0 { cont_id } else { id };
                    for i in 0..t.vlen() {
                        self.emit_type(member_type(t, i), new_cont)?;
                    }
                } else if !self.flag(id, FWD_EMITTED) && id != cont_id {
                    self.emit_struct_fwd(t);
                    self.out.push_str(";\n\n");
                    self.set_flag(id, FWD_EMITTED);
                }
                if top_level {
                    self.emit_struct_def(t, 0)?;
                    self.out.push_str(";\n\n");
                    self.set_emit_state(id, EMITTED);
                } else {
                    self.set_emit_state(id, 0);
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.size_or_type, cont_id)?;
                for i in 0..t.vlen() {
                    self.emit_type(param_type(t, i), cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a struct's layout cannot come from natural alignment.
    fn is_struct_packed(&mut self, t: &Type<'a>) -> bool {
        let mut max_align = 1;
        for i in 0..t.vlen() {
            let (mtype, bit_off, bit_sz) = member_layout(t, i);
            let a = self.align_of(mtype);
            if a != 0 && bit_sz == 0 && bit_off % (8 * a) != 0 {
                return true;
            }
            max_align = max_align.max(a);
        }
        t.size_or_type % max_align != 0
    }

    /// Explicit padding from bit `cur` to bit `next` (where a member of
    /// alignment `next_align` bytes starts), as unnamed bitfields.
    fn emit_bit_padding(
        &mut self,
        id: u32,
        cur: i64,
        next: i64,
        next_align: i64,
        in_bf: bool,
        lvl: usize,
    ) -> Result<(), BtfError> {
        let ptr_bits = PTR_SIZE as i64 * 8;
        let pads: [(&str, i64); 4] = [("long", ptr_bits), ("int", 32), ("short", 16), ("char", 8)];
        if cur >= next {
            return Ok(());
        }
        if next - cur > MAX_PAD_BITS {
            return Err(BtfError::BadType {
                id,
                offset: 0,
                what: format!(
                    "a hole of {} bytes in a struct: too large to pad with bitfields",
                    (next - cur) / 8
                ),
            });
        }
        let mut cur = cur;
        let (mut pad_type, mut pad_bits, mut new_off) = ("char", 8, 0);
        for (name, bits) in pads {
            pad_type = name;
            pad_bits = bits;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            if in_bf
                || (new_off == next && roundup(cur, next_align * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                let n = if in_bf { new_off - cur } else { 0 };
                let _ = write!(self.out, "\n{}{pad_type}: {n};", pfx(lvl));
            }
            cur = new_off;
        }
        while cur < next {
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                let _ = write!(self.out, "\n{}{pad_type}: {pad_bits};", pfx(lvl));
                cur += bits;
                continue;
            }
            // The remainder: the smallest type that holds it.
            let Some(&(name, _)) = pads.iter().rev().find(|(_, b)| *b >= bits) else {
                break;
            };
            let _ = write!(self.out, "\n{}{name}: {bits};", pfx(lvl));
            cur += bits;
        }
        Ok(())
    }

    fn emit_struct_fwd(&mut self, t: &Type<'a>) {
        let kw = if t.kind == Kind::Struct {
            "struct"
        } else {
            "union"
        };
        self.out.push_str(kw);
        if t.name_off != 0 {
            self.out.push(' ');
        }
        let name = self.resolve_name(t, false).to_owned();
        self.out.push_str(&name);
    }

    pub(super) fn emit_struct_def(&mut self, t: &Type<'a>, lvl: usize) -> Result<(), BtfError> {
        self.enter(t.id)?;
        let r = self.emit_struct_def_inner(t, lvl);
        self.leave();
        r
    }

    fn emit_struct_def_inner(&mut self, t: &Type<'a>, lvl: usize) -> Result<(), BtfError> {
        if self.out.len() > self.max_out {
            return Err(BtfError::BadType {
                id: t.id,
                offset: 0,
                what: format!(
                    "the C header would exceed {} MiB (anonymous types nested inline many times?)",
                    self.max_out >> 20
                ),
            });
        }
        let is_struct = t.kind == Kind::Struct;
        let align = self.align_of(t.id) as i64;
        let packed = is_struct && self.is_struct_packed(t);
        self.emit_struct_fwd(t);
        self.out.push_str(" {");
        let mut off: i64 = 0;
        let mut prev_bf = false;
        for i in 0..t.vlen() {
            let m = t.member(i)?;
            let (mtype, bit_off, bit_sz) = member_layout(t, i);
            let m_align = if packed {
                1
            } else {
                self.align_of(mtype) as i64
            };
            let in_bf = prev_bf && bit_sz != 0;
            self.emit_bit_padding(t.id, off, bit_off as i64, m_align, in_bf, lvl + 1)?;
            self.out.push('\n');
            self.out.push_str(pfx(lvl + 1));
            self.emit_type_decl(mtype, m.name, lvl + 1)?;
            if bit_sz != 0 {
                let _ = write!(self.out, ": {bit_sz}");
                off = bit_off as i64 + bit_sz as i64;
                prev_bf = true;
            } else {
                let sz = self.btf.resolve_size(mtype).unwrap_or(0) as i64;
                off = bit_off as i64 + sz * 8;
                prev_bf = false;
            }
            self.out.push(';');
        }
        if is_struct {
            self.emit_bit_padding(t.id, off, t.size_or_type as i64 * 8, align, false, lvl + 1)?;
        }
        if t.vlen != 0 || t.size_or_type != 0 {
            self.out.push('\n');
            self.out.push_str(pfx(lvl));
        }
        self.out.push('}');
        if packed {
            self.out.push_str(" __attribute__((packed))");
        }
        Ok(())
    }

    fn emit_enum_fwd(&mut self, t: &Type<'a>) {
        self.out.push_str("enum ");
        let name = self.resolve_name(t, false).to_owned();
        self.out.push_str(&name);
    }

    fn emit_enum_def(&mut self, t: &Type<'a>, lvl: usize) -> Result<(), BtfError> {
        self.out.push_str("enum");
        if t.name_off != 0 {
            self.out.push(' ');
        }
        let name = self.resolve_name(t, false).to_owned();
        self.out.push_str(&name);
        if t.vlen == 0 {
            // A forward-declared enum.
            return Ok(());
        }
        self.out.push_str(" {");
        let signed = t.kind_flag;
        let mut any_hi = false;
        for i in 0..t.vlen() {
            let e = t.enumerator(i)?;
            let n = Self::name_dups(&mut self.ident_names, e.name);
            let _ = write!(self.out, "\n{}{}", pfx(lvl + 1), e.name);
            if n > 1 {
                let _ = write!(self.out, "___{n}");
            }
            any_hi |= e.value >> 32 != 0;
            let _ = match (t.kind, signed) {
                (Kind::Enum, true) => write!(self.out, " = {},", e.value as i64 as i32),
                (Kind::Enum, false) => write!(self.out, " = {},", e.value as u32),
                (_, true) => write!(self.out, " = {}LL,", e.value as i64),
                (_, false) => write!(self.out, " = {}ULL,", e.value),
            };
        }
        let _ = write!(self.out, "\n{}}}", pfx(lvl));
        // Enums of unusual sizes.
        if t.size_or_type == 1 {
            self.out.push_str(" __attribute__((mode(byte)))");
        } else if t.size_or_type == 8 && (t.kind == Kind::Enum || !any_hi) {
            self.out.push_str(" __attribute__((mode(word)))");
        }
        Ok(())
    }

    fn emit_fwd_def(&mut self, t: &Type<'a>) {
        self.out
            .push_str(if t.kind_flag { "union " } else { "struct " });
        let name = self.resolve_name(t, false).to_owned();
        self.out.push_str(&name);
    }

    fn emit_typedef_def(&mut self, t: &Type<'a>, lvl: usize) -> Result<(), BtfError> {
        let name = self.resolve_name(t, true).to_owned();
        if t.size_or_type == 0 && name == "__gnuc_va_list" {
            self.out
                .push_str("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.push_str("typedef ");
        self.emit_type_decl(t.size_or_type, &name, lvl)
    }

    /// Emit the declaration of `fname` with type `id` (a member, a
    /// parameter, a typedef).
    pub(super) fn emit_type_decl(
        &mut self,
        id: u32,
        fname: &str,
        lvl: usize,
    ) -> Result<(), BtfError> {
        self.enter(id)?;
        let start = self.stack.len();
        let mut cur = id;
        let r = loop {
            if self.stack.len() - start > MAX_DEPTH as usize {
                break Err(BtfError::TooDeep { id });
            }
            self.stack.push(cur);
            if cur == 0 {
                break Ok(());
            }
            let t = match self.ty(cur) {
                Ok(t) => t,
                Err(e) => break Err(e),
            };
            match t.kind {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => cur = t.size_or_type,
                Kind::Array => match t.array() {
                    Some(a) => cur = a.elem_type,
                    None => break Ok(()),
                },
                _ => break Ok(()),
            }
        };
        let cnt = self.stack.len() - start;
        let r = r.and_then(|()| self.emit_type_chain(start, cnt, fname, lvl));
        self.stack.truncate(start);
        self.leave();
        r
    }

    /// Emit leading const/volatile/restrict of the frame's top.
    fn emit_mods(&mut self, start: usize, cnt: &mut usize) -> Result<(), BtfError> {
        while *cnt > 0 {
            let t = self.ty(self.stack[start + *cnt - 1])?;
            let s = match t.kind {
                Kind::Volatile => "volatile ",
                Kind::Const => "const ",
                Kind::Restrict => "restrict ",
                _ => return Ok(()),
            };
            self.out.push_str(s);
            *cnt -= 1;
        }
        Ok(())
    }

    fn drop_mods(&mut self, start: usize, cnt: &mut usize) -> Result<(), BtfError> {
        while *cnt > 0 {
            if !is_mod(self.ty(self.stack[start + *cnt - 1])?.kind) {
                break;
            }
            *cnt -= 1;
        }
        Ok(())
    }

    fn emit_name(&mut self, fname: &str, last_was_ptr: bool) {
        if !fname.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        self.out.push_str(fname);
    }

    /// Emit the chain `stack[start..start + cnt]` (outermost first, the
    /// base type last) as a C declarator of `fname`.
    fn emit_type_chain(
        &mut self,
        start: usize,
        mut cnt: usize,
        fname: &str,
        lvl: usize,
    ) -> Result<(), BtfError> {
        let mut last_was_ptr = true;
        while cnt > 0 {
            cnt -= 1;
            let id = self.stack[start + cnt];
            if id == 0 {
                self.emit_mods(start, &mut cnt)?;
                self.out.push_str("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id)?;
            match t.kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(start, &mut cnt)?;
                    self.out.push_str(t.name);
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(start, &mut cnt)?;
                    if t.name_off == 0 {
                        self.emit_struct_def(&t, lvl)?;
                    } else {
                        self.emit_struct_fwd(&t);
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(start, &mut cnt)?;
                    if t.name_off == 0 {
                        self.emit_enum_def(&t, lvl)?;
                    } else {
                        self.emit_enum_fwd(&t);
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(start, &mut cnt)?;
                    self.emit_fwd_def(&t);
                }
                Kind::Typedef => {
                    self.emit_mods(start, &mut cnt)?;
                    let name = self.resolve_name(&t, true).to_owned();
                    self.out.push_str(&name);
                }
                Kind::Ptr => self.out.push_str(if last_was_ptr { "*" } else { " *" }),
                Kind::Volatile => self.out.push_str(" volatile"),
                Kind::Const => self.out.push_str(" const"),
                Kind::Restrict => self.out.push_str(" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(start, &mut cnt)?;
                    if t.kind_flag {
                        let _ = write!(self.out, " __attribute__(({}))", t.name);
                    } else {
                        let _ = write!(self.out, " __attribute__((btf_type_tag(\"{}\")))", t.name);
                    }
                }
                Kind::Array => {
                    let n = t.array().map_or(0, |a| a.nelems);
                    self.drop_mods(start, &mut cnt)?;
                    if cnt == 0 {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{n}]");
                        return Ok(());
                    }
                    let next = self.ty(self.stack[start + cnt - 1])?;
                    let multidim = next.kind == Kind::Array;
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.push(' ');
                    }
                    if !multidim {
                        self.out.push('(');
                    }
                    self.emit_type_chain(start, cnt, fname, lvl)?;
                    if !multidim {
                        self.out.push(')');
                    }
                    let _ = write!(self.out, "[{n}]");
                    return Ok(());
                }
                Kind::FuncProto => {
                    self.drop_mods(start, &mut cnt)?;
                    if cnt > 0 {
                        self.out.push_str(" (");
                        self.emit_type_chain(start, cnt, fname, lvl)?;
                        self.out.push(')');
                    } else {
                        self.emit_name(fname, last_was_ptr);
                    }
                    self.out.push('(');
                    let vlen = t.vlen();
                    if vlen == 0 || (vlen == 1 && param_type(&t, 0) == 0) {
                        self.out.push_str("void)");
                        return Ok(());
                    }
                    for i in 0..vlen {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        let p = t.param(i)?;
                        if i == vlen - 1 && p.type_id == 0 {
                            self.out.push_str("...");
                            break;
                        }
                        self.emit_type_decl(p.type_id, p.name, lvl)?;
                    }
                    self.out.push(')');
                    return Ok(());
                }
                _ => {
                    // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a
                    // declarator: emit nothing for them, like bpftool.
                    log::debug!("btf dump: unexpected {} [{id}] in a declaration", t.kind);
                    return Ok(());
                }
            }
            last_was_ptr = t.kind == Kind::Ptr;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }
}

/// `__builtin_va_list` is a compiler built-in: never redefined.
fn is_blacklisted(t: &Type<'_>) -> bool {
    t.name_off != 0 && t.name == "__builtin_va_list"
}
