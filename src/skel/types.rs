//! BTF types → `#[repr(C)]` Rust definitions that are [`Pod`](crate::Pod)
//! by construction: explicit padding fields, fields whose offset Rust could
//! not reproduce (packed structs, bitfields) as byte arrays, and every size
//! and offset asserted at compile time against the BTF.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::btf::{Btf, Kind, Type, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED};

/// Deepest type nesting followed (crafted BTF may loop through typedefs).
const MAX_DEPTH: u32 = 64;

/// A Rust type expression with the layout rustc gives it.
#[derive(Clone, Debug)]
pub(super) struct RType {
    /// The type, e.g. `u32`, `[u8; 16]`, `Event`.
    pub expr: String,
    /// A constant expression of the type with all bits zero.
    pub zero: String,
    pub size: u64,
    pub align: u64,
    /// An array of C `char`: gets a `*_str()` accessor.
    pub chars: bool,
}

impl RType {
    pub fn bytes(n: u64) -> RType {
        RType {
            expr: format!("[u8; {n}]"),
            zero: format!("[0; {n}]"),
            size: n,
            align: 1,
            chars: false,
        }
    }
    fn prim(name: &str, size: u64) -> RType {
        RType {
            expr: name.into(),
            zero: "0".into(),
            size,
            align: size,
            chars: false,
        }
    }
}

/// One field of a generated struct: a name and where it lies.
pub(super) struct Field {
    pub name: String,
    pub offset: u64,
    pub ty: RType,
    /// The C spelling, for the doc comment.
    pub doc: String,
}

/// Generates the definitions of the types a skeleton needs, once each.
pub(super) struct TypeGen<'a> {
    btf: &'a Btf,
    names: HashMap<u32, RType>,
    used: HashSet<String>,
    /// The emitted definitions, in dependency order.
    pub out: String,
}

/// `snake_or_c_name` → `CamelCase`.
pub(super) fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "union",
];

/// A C name as a Rust identifier: other characters become `_`, keywords
/// get a trailing `_`, a leading digit a leading `_`.
pub(super) fn ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) || out == "_" {
        out.push('_');
    }
    out
}

impl<'a> TypeGen<'a> {
    pub fn new(btf: &'a Btf, reserved: &[&str]) -> TypeGen<'a> {
        TypeGen {
            btf,
            names: HashMap::new(),
            used: reserved.iter().map(|s| s.to_string()).collect(),
            out: String::new(),
        }
    }

    /// A fresh type name based on `want`.
    pub fn unique(&mut self, want: &str) -> String {
        let base = camel(want);
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    /// The Rust type of BTF type `id` (generating its definition if needed);
    /// `hint` names anonymous structs, unions and enums.
    pub fn rust_type(&mut self, id: u32, hint: &str) -> RType {
        self.rust_type_at(id, hint, 0)
    }

    fn rust_type_at(&mut self, id: u32, hint: &str, depth: u32) -> RType {
        if let Some(t) = self.names.get(&id) {
            return t.clone();
        }
        let Ok(t) = self.btf.type_by_id(id) else {
            return RType::bytes(0);
        };
        if depth > MAX_DEPTH {
            return RType::bytes(self.btf.resolve_size(id).unwrap_or(0).into());
        }
        match t.kind {
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::Var => {
                let hint = if t.kind == Kind::Typedef && !t.name.is_empty() {
                    t.name
                } else {
                    hint
                };
                self.rust_type_at(t.ref_type().unwrap_or(0), hint, depth + 1)
            }
            Kind::Int => int_type(&t),
            Kind::Ptr => RType::prim("u64", 8),
            Kind::Float => match t.size_or_type {
                4 => RType::prim("u32", 4),
                8 => RType::prim("u64", 8),
                n => RType::bytes(n.into()),
            },
            Kind::Array => {
                let Some(a) = t.array() else {
                    return RType::bytes(0);
                };
                let e = self.rust_type_at(a.elem_type, hint, depth + 1);
                let n = u64::from(a.nelems);
                RType {
                    expr: format!("[{}; {n}]", e.expr),
                    zero: format!("[{}; {n}]", e.zero),
                    size: e.size.saturating_mul(n),
                    align: e.align,
                    chars: e.expr == "u8" && e.chars,
                }
            }
            Kind::Struct | Kind::Union => self.composite(&t, hint, depth),
            Kind::Enum | Kind::Enum64 => self.enumeration(&t, hint),
            _ => RType::bytes(t.size().unwrap_or(0).into()),
        }
    }

    fn composite(&mut self, t: &Type<'_>, hint: &str, depth: u32) -> RType {
        let size = u64::from(t.size_or_type);
        let c_name = if t.name.is_empty() { hint } else { t.name };
        let name = self.unique(if c_name.is_empty() { "anon" } else { c_name });
        let kw = if t.kind == Kind::Union {
            "union"
        } else {
            "struct"
        };
        let placeholder = RType {
            expr: name.clone(),
            zero: format!("{name}::ZERO"),
            size,
            align: 1,
            chars: false,
        };
        // Recursion reaches this id again only through crafted BTF (pointers
        // are u64): such a member comes out as this type.
        self.names.insert(t.id, placeholder);
        let members: Vec<_> = t.members().filter_map(|m| m.ok()).collect();
        let doc = format!("`{kw} {c_name}` (BTF type {}, {size} bytes).", t.id);
        let ty = if t.kind == Kind::Union {
            let mut accessors = Vec::new();
            for m in &members {
                if m.bitfield_size != 0 || m.bit_offset != 0 || m.name.is_empty() {
                    continue;
                }
                let mt = self.rust_type_at(m.type_id, &format!("{c_name}_{}", m.name), depth + 1);
                if mt.size <= size {
                    accessors.push((ident(m.name), mt));
                }
            }
            self.emit_union(&name, &doc, size, &accessors);
            RType {
                align: 1,
                ..self.names[&t.id].clone()
            }
        } else {
            let mut fields = Vec::new();
            let mut anon = 0;
            for m in &members {
                let fname = if m.name.is_empty() {
                    anon += 1;
                    format!("_anon{anon}")
                } else {
                    ident(m.name)
                };
                if m.bitfield_size != 0 || m.bit_offset % 8 != 0 {
                    let first = u64::from(m.bit_offset / 8);
                    let bits = u64::from(m.bit_offset) + u64::from(m.bitfield_size.max(1));
                    let end = bits.div_ceil(8);
                    fields.push(Field {
                        name: format!("_bitfield_{fname}"),
                        offset: first,
                        ty: RType::bytes(end - first),
                        doc: format!("bitfield `{}` ({} bits)", m.name, m.bitfield_size),
                    });
                    continue;
                }
                let hint = format!("{c_name}_{}", fname.trim_start_matches('_'));
                let mt = self.rust_type_at(m.type_id, &hint, depth + 1);
                fields.push(Field {
                    name: fname,
                    offset: u64::from(m.bit_offset / 8),
                    ty: mt,
                    doc: String::new(),
                });
            }
            let (align, _) = self.emit_struct(&name, &doc, size, fields);
            RType {
                align,
                ..self.names[&t.id].clone()
            }
        };
        self.names.insert(t.id, ty.clone());
        ty
    }

    fn enumeration(&mut self, t: &Type<'_>, hint: &str) -> RType {
        let size = u64::from(t.size_or_type);
        let signed = t.is_signed_enum();
        let repr = match (size, signed) {
            (1, false) => "u8",
            (2, false) => "u16",
            (4, false) => "u32",
            (8, false) => "u64",
            (1, true) => "i8",
            (2, true) => "i16",
            (4, true) => "i32",
            (8, true) => "i64",
            _ => return RType::bytes(size),
        };
        let c_name = if t.name.is_empty() { hint } else { t.name };
        let name = self.unique(if c_name.is_empty() {
            "anon_enum"
        } else {
            c_name
        });
        let o = &mut self.out;
        let _ = writeln!(
            o,
            "/// `enum {c_name}` (BTF type {}): its values are the associated constants.",
            t.id
        );
        let _ = writeln!(o, "#[repr(transparent)]");
        let _ = writeln!(
            o,
            "#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]"
        );
        let _ = writeln!(o, "pub struct {name}(pub {repr});");
        let _ = writeln!(o, "tinybpf::pod!({name}: {repr});");
        let _ = writeln!(o, "impl {name} {{");
        let _ = writeln!(o, "    /// All bits zero.");
        let _ = writeln!(o, "    pub const ZERO: {name} = {name}(0);");
        let mut seen = HashSet::from(["ZERO".to_string()]);
        for e in t.enumerators().filter_map(|e| e.ok()) {
            let c = ident(e.name);
            if !seen.insert(c.clone()) {
                continue;
            }
            let bits = size * 8;
            let v = if signed {
                let x = (e.value << (64 - bits)) as i64 >> (64 - bits);
                x.to_string()
            } else {
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                (e.value & mask).to_string()
            };
            let _ = writeln!(o, "    /// `{}`.", e.name);
            let _ = writeln!(o, "    pub const {c}: {name} = {name}({v});");
        }
        let _ = writeln!(o, "}}\n");
        let ty = RType {
            expr: name.clone(),
            zero: format!("{name}::ZERO"),
            size,
            align: size,
            chars: false,
        };
        self.names.insert(t.id, ty.clone());
        ty
    }

    fn emit_union(&mut self, name: &str, doc: &str, size: u64, members: &[(String, RType)]) {
        let o = &mut self.out;
        let _ = writeln!(o, "/// {doc} Its bytes; members through the accessors.");
        let _ = writeln!(
            o,
            "#[repr(C)]\n#[derive(Clone, Copy, Debug, PartialEq, Eq)]"
        );
        let _ = writeln!(o, "pub struct {name} {{\n    pub bytes: [u8; {size}],\n}}");
        let _ = writeln!(o, "tinybpf::pod!({name} {{ bytes }});");
        let _ = writeln!(
            o,
            "const _: () = assert!(core::mem::size_of::<{name}>() == {size});"
        );
        let _ = writeln!(o, "impl {name} {{");
        let _ = writeln!(o, "    /// All bits zero.");
        let _ = writeln!(
            o,
            "    pub const ZERO: {name} = {name} {{ bytes: [0; {size}] }};"
        );
        for (m, t) in members {
            let _ = writeln!(o, "    /// Member `{m}`.");
            let _ = writeln!(
                o,
                "    pub fn {m}(&self) -> {0} {{\n        <{0} as tinybpf::Pod>::from_bytes(&self.bytes).unwrap_or({1})\n    }}",
                t.expr, t.zero
            );
            let _ = writeln!(o, "    /// Set member `{m}`.");
            let _ = writeln!(
                o,
                "    pub fn set_{m}(&mut self, v: {}) {{\n        let b = tinybpf::Pod::as_bytes(&v);\n        if let Some(d) = self.bytes.get_mut(..b.len()) {{\n            d.copy_from_slice(b);\n        }}\n    }}",
                t.expr
            );
        }
        let _ = writeln!(o, "}}");
        let _ = writeln!(o, "impl Default for {name} {{\n    fn default() -> Self {{\n        Self::ZERO\n    }}\n}}\n");
    }

    /// Emit a struct of `size` bytes with `fields`; returns its alignment
    /// and the fields kept (with the padding added).
    pub fn emit_struct(
        &mut self,
        name: &str,
        doc: &str,
        size: u64,
        fields: Vec<Field>,
    ) -> (u64, Vec<Field>) {
        let (fields, align, packed) = layout(size, fields);
        let o = &mut self.out;
        let _ = writeln!(o, "/// {doc}");
        match packed {
            // Fields of packed structs are read by value (no references).
            Some(n) => {
                let _ = writeln!(o, "#[repr(C, packed({n}))]");
            }
            None => {
                let _ = writeln!(o, "#[repr(C)]");
            }
        }
        let _ = writeln!(o, "#[derive(Clone, Copy, Debug, PartialEq, Eq)]");
        let _ = writeln!(o, "pub struct {name} {{");
        for f in &fields {
            if !f.doc.is_empty() {
                let _ = writeln!(o, "    /// {}", f.doc);
            }
            let _ = writeln!(o, "    pub {}: {},", f.name, f.ty.expr);
        }
        let _ = writeln!(o, "}}");
        let list: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        if list.is_empty() {
            let _ = writeln!(
                o,
                "// SAFETY: no fields, no bytes.\nunsafe impl tinybpf::Pod for {name} {{}}"
            );
        } else if packed.is_some() {
            // `pod!` by field would take references to packed fields.
            let types: Vec<&str> = fields.iter().map(|f| f.ty.expr.as_str()).collect();
            let _ = writeln!(o, "tinybpf::pod!({name}: {});", types.join(", "));
        } else {
            let _ = writeln!(o, "tinybpf::pod!({name} {{ {} }});", list.join(", "));
        }
        let _ = writeln!(
            o,
            "const _: () = assert!(core::mem::size_of::<{name}>() == {size});"
        );
        for f in &fields {
            let _ = writeln!(
                o,
                "const _: () = assert!(core::mem::offset_of!({name}, {}) == {});",
                f.name, f.offset
            );
        }
        let _ = writeln!(o, "impl {name} {{");
        let _ = writeln!(o, "    /// All bits zero.");
        let zeros: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.ty.zero))
            .collect();
        let _ = writeln!(
            o,
            "    pub const ZERO: {name} = {name} {{ {} }};",
            zeros.join(", ")
        );
        for f in fields
            .iter()
            .filter(|f| f.ty.chars && f.ty.expr.starts_with('['))
        {
            let _ = writeln!(o, "    /// `{0}` as text, up to its first NUL.", f.name);
            let _ = writeln!(
                o,
                "    pub fn {}_str(&self) -> std::borrow::Cow<'_, str> {{\n        c_str(&self.{})\n    }}",
                f.name.trim_end_matches('_'),
                f.name
            );
        }
        let _ = writeln!(o, "}}");
        let _ = writeln!(o, "impl Default for {name} {{\n    fn default() -> Self {{\n        Self::ZERO\n    }}\n}}\n");
        (align, fields)
    }
}

fn int_type(t: &Type<'_>) -> RType {
    let enc = t.int().map(|i| i.encoding).unwrap_or(0);
    let size = u64::from(t.size_or_type);
    if size == 1 && (enc & (BTF_INT_CHAR | BTF_INT_BOOL) != 0 || t.name.contains("char")) {
        return RType {
            chars: true,
            ..RType::prim("u8", 1)
        };
    }
    let signed = enc & BTF_INT_SIGNED != 0;
    let name = match (size, signed) {
        (1, false) => "u8",
        (2, false) => "u16",
        (4, false) => "u32",
        (8, false) => "u64",
        (1, true) => "i8",
        (2, true) => "i16",
        (4, true) => "i32",
        (8, true) => "i64",
        // __int128 is 16-aligned in C and in Rust (x86_64, aarch64).
        (16, false) => "u128",
        (16, true) => "i128",
        _ => return RType::bytes(size),
    };
    RType::prim(name, size)
}

/// Order `fields` by offset, drop overlapping ones (merging overlapping
/// bitfield storage), make misaligned ones byte arrays and insert explicit
/// padding so that `#[repr(C)]` gives exactly these offsets and `size`.
/// A field aligned more than `size` allows (a packed C struct, or a 12-byte
/// `.bss` holding a u64) makes the struct `packed(N)`, N the largest power
/// of two dividing `size`. Returns the fields, the struct's alignment and N
/// if packed.
pub(super) fn layout(size: u64, mut fields: Vec<Field>) -> (Vec<Field>, u64, Option<u64>) {
    fields.sort_by_key(|f| f.offset);
    let cap = if size == 0 {
        16
    } else {
        (size & size.wrapping_neg()).min(16)
    };
    let mut out: Vec<Field> = Vec::new();
    let mut cursor = 0u64;
    let mut align = 1u64;
    let mut packed = false;
    let mut pads = 0;
    for mut f in fields.into_iter() {
        let end = f.offset.saturating_add(f.ty.size);
        if end > size {
            continue; // lies outside the struct: crafted BTF
        }
        if f.offset < cursor {
            // Overlap: grow the previous bitfield storage, else drop.
            if let Some(prev) = out.last_mut() {
                if prev.name.starts_with("_bitfield") && f.name.starts_with("_bitfield") {
                    if end > cursor {
                        prev.ty = RType::bytes(end - prev.offset);
                        cursor = end;
                    }
                    prev.doc = format!("{}; {}", prev.doc, f.doc);
                }
            }
            continue;
        }
        let eff = f.ty.align.clamp(1, cap);
        if f.offset % eff != 0 {
            f.doc = format!("`{}`, as bytes (unaligned here)", f.ty.expr);
            f.ty = RType::bytes(f.ty.size);
        } else if f.ty.align > cap {
            packed = true;
        }
        if f.offset > cursor {
            out.push(pad(&mut pads, cursor, f.offset - cursor));
        }
        align = align.max(f.ty.align.clamp(1, cap));
        cursor = end;
        out.push(f);
    }
    if size > cursor {
        out.push(pad(&mut pads, cursor, size - cursor));
    }
    (out, align, packed.then_some(cap))
}

fn pad(n: &mut u32, offset: u64, len: u64) -> Field {
    let f = Field {
        name: format!("_pad{n}"),
        offset,
        ty: RType::bytes(len),
        doc: String::new(),
    };
    *n += 1;
    f
}
