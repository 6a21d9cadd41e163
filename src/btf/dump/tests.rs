use super::*;
use crate::btf::BTF_MAGIC;

/// A tiny BTF builder for crafted inputs.
struct B {
    types: Vec<u8>,
    strs: Vec<u8>,
    n: u32,
    /// For split BTF: the base's string length (offsets continue after it).
    str_base: u32,
}

impl B {
    fn new() -> B {
        B {
            types: vec![],
            strs: vec![0],
            n: 0,
            str_base: 0,
        }
    }
    fn s(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.str_base + self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        off
    }
    fn w(&mut self, v: u32) {
        self.types.extend_from_slice(&v.to_le_bytes());
    }
    fn ty(&mut self, name: &str, kind: Kind, kflag: bool, vlen: u32, st: u32) -> u32 {
        let n = self.s(name);
        self.w(n);
        self.w(((kind as u32) << 24) | vlen | ((kflag as u32) << 31));
        self.w(st);
        self.n += 1;
        self.n
    }
    fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let id = self.ty(name, Kind::Int, false, 0, size);
        self.w(((signed as u32) << 24) | (size * 8));
        id
    }
    /// Members: (name, type, bit offset, bitfield size).
    fn comp(&mut self, kind: Kind, name: &str, size: u32, m: &[(&str, u32, u32, u32)]) -> u32 {
        let kflag = m.iter().any(|x| x.3 != 0);
        let id = self.ty(name, kind, kflag, m.len() as u32, size);
        for &(n, t, off, bits) in m {
            let n = self.s(n);
            self.w(n);
            self.w(t);
            self.w(if kflag { (bits << 24) | off } else { off });
        }
        id
    }
    fn build(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        let tl = self.types.len() as u32;
        for w in [24u32, 0, tl, tl, self.strs.len() as u32] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(&self.types);
        b.extend_from_slice(&self.strs);
        b
    }
    fn dump(&self) -> Result<String, BtfError> {
        to_c_header(&Btf::parse(self.build()).unwrap())
    }
}

/// The header without the wrapper.
fn body(h: &str) -> &str {
    h.strip_prefix(HEADER)
        .unwrap()
        .strip_suffix(FOOTER)
        .unwrap()
}

#[test]
fn empty_btf_is_only_the_wrapper() {
    assert_eq!(B::new().dump().unwrap(), format!("{HEADER}{FOOTER}"));
}

#[test]
fn mutual_pointers_get_a_forward_declaration() {
    let mut b = B::new();
    let int = b.int("int", 4, true); // 1
    let pa = b.ty("", Kind::Ptr, false, 0, 4); // 2 -> struct a
    let pb = b.ty("", Kind::Ptr, false, 0, 5); // 3 -> struct b
    b.comp(Kind::Struct, "a", 16, &[("x", int, 0, 0), ("b", pb, 64, 0)]); // 4
    b.comp(Kind::Struct, "b", 8, &[("a", pa, 0, 0)]); // 5
    let h = b.dump().unwrap();
    assert_eq!(
        body(&h),
        "struct b;\n\nstruct a {\n\tint x;\n\tstruct b *b;\n};\n\n\
         struct b {\n\tstruct a *a;\n};\n\n"
    );
}

#[test]
fn bitfields_padding_packed_and_anonymous_members() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, false); // 1
    let long = b.int("long", 8, true); // 2
    let anon = b.comp(Kind::Union, "", 8, &[("l", long, 0, 0), ("u", u32_, 0, 0)]); // 3
    b.comp(
        Kind::Struct,
        "s",
        24,
        &[("a", u32_, 0, 3), ("b", u32_, 5, 4), ("", anon, 64, 0)],
    );
    b.comp(
        Kind::Struct,
        "p",
        12,
        &[("c", u32_, 0, 0), ("l", long, 32, 0)],
    );
    let h = b.dump().unwrap();
    assert_eq!(
        body(&h),
        "struct s {\n\tunsigned int a: 3;\n\tchar: 2;\n\tunsigned int b: 4;\n\tunion {\n\t\tlong l;\
         \n\t\tunsigned int u;\n\t};\n\tlong: 64;\n};\n\n\
         struct p {\n\tunsigned int c;\n\tlong l;\n} __attribute__((packed));\n\n"
    );
}

#[test]
fn duplicate_names_get_suffixes() {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    b.comp(Kind::Struct, "dup", 4, &[("x", int, 0, 0)]);
    b.comp(Kind::Struct, "dup", 4, &[("y", int, 0, 0)]);
    b.ty("t", Kind::Typedef, false, 0, int);
    b.ty("t", Kind::Typedef, false, 0, int);
    let h = b.dump().unwrap();
    assert!(h.contains("struct dup {\n\tint x;"), "{h}");
    assert!(h.contains("struct dup___2 {\n\tint y;"), "{h}");
    assert!(
        h.contains("typedef int t;\n") && h.contains("typedef int t___2;\n"),
        "{h}"
    );
}

#[test]
fn function_pointers_arrays_and_enums() {
    let mut b = B::new();
    let int = b.int("int", 4, true); // 1
    let proto = b.ty("", Kind::FuncProto, false, 2, int); // 2: int (int, ...)
    let n = b.s("a");
    b.w(n);
    b.w(int);
    b.w(0);
    b.w(0);
    let ptr = b.ty("", Kind::Ptr, false, 0, proto); // 3
    let arr = b.ty("", Kind::Array, false, 0, 0); // 4: fn_ptr[4]
    b.w(ptr);
    b.w(int);
    b.w(4);
    b.ty("handlers_t", Kind::Typedef, false, 0, arr); // 5
    b.ty("e", Kind::Enum, true, 1, 1); // 6 (signed, 1 byte)
    let n = b.s("NEG");
    b.w(n);
    b.w(-1i32 as u32);
    let h = b.dump().unwrap();
    assert_eq!(
        body(&h),
        "typedef int (*handlers_t[4])(int a, ...);\n\n\
         enum e {\n\tNEG = -1,\n} __attribute__((mode(byte)));\n\n"
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    // A struct embedding itself.
    let mut b = B::new();
    b.comp(Kind::Struct, "self", 8, &[("me", 1, 0, 0)]);
    assert!(b.dump().is_err());
    // A pointer to itself, a typedef chain loop, an anonymous struct
    // holding a pointer to itself.
    let mut b = B::new();
    b.ty("", Kind::Ptr, false, 0, 1); // 1
    b.ty("loop", Kind::Typedef, false, 0, 3); // 2
    b.ty("loop2", Kind::Typedef, false, 0, 2); // 3
    b.ty("", Kind::Ptr, false, 0, 5); // 4
    b.comp(Kind::Struct, "", 8, &[("p", 4, 0, 0)]); // 5
    b.comp(Kind::Struct, "user", 8, &[("a", 5, 0, 0)]); // 6
    b.ty("", Kind::Ptr, false, 0, 99); // 7: dangling
    assert!(b.dump().is_err());
}

#[test]
fn mutated_inputs_never_panic() {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    let p = b.ty("", Kind::Ptr, false, 0, 4);
    let anon = b.comp(Kind::Union, "", 4, &[("i", int, 0, 0)]);
    b.comp(Kind::Struct, "s", 16, &[("u", anon, 0, 0), ("p", p, 64, 0)]);
    b.ty("s_t", Kind::Typedef, false, 0, 4);
    let base = b.build();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..3000 {
        let mut m = base.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = 24 + (seed as usize % (m.len() - 24));
            m[i] = (seed >> 40) as u8;
        }
        if let Ok(btf) = Btf::parse(m) {
            let _ = to_c_header(&btf);
        }
    }
}

#[test]
fn huge_holes_and_exponential_nesting_are_bounded() {
    // A 4 GiB struct: bpftool would print 500 million padding lines.
    let mut b = B::new();
    let int = b.int("int", 4, true);
    b.comp(Kind::Struct, "huge", u32::MAX, &[("x", int, 0, 0)]);
    assert!(b.dump().is_err());
    // Anonymous unions each holding two copies of the previous one.
    let mut b = B::new();
    let mut prev = b.int("int", 4, true);
    for _ in 0..40 {
        prev = b.comp(Kind::Union, "", 4, &[("a", prev, 0, 0), ("b", prev, 0, 0)]);
    }
    b.comp(Kind::Struct, "top", 4, &[("u", prev, 0, 0)]);
    assert!(b.dump().is_err());
}

#[test]
fn split_btf_dumps_base_and_own_types() {
    let mut base = B::new();
    let int = base.int("int", 4, true); // 1
    base.comp(Kind::Struct, "base_s", 4, &[("x", int, 0, 0)]); // 2
    let base_bytes = base.build();
    let base_btf = std::sync::Arc::new(Btf::parse(base_bytes).unwrap());
    let mut m = B::new();
    m.n = 2;
    m.str_base = base.strs.len() as u32;
    m.strs.clear();
    m.comp(
        Kind::Struct,
        "mod_s",
        8,
        &[("b", 2, 0, 0), ("y", int, 32, 0)],
    ); // 3
    let split = Btf::parse_split(Box::new(m.build()), base_btf).unwrap();
    let h = to_c_header(&split).unwrap();
    assert_eq!(
        body(&h),
        "struct base_s {\n\tint x;\n};\n\nstruct mod_s {\n\tstruct base_s b;\n\tint y;\n};\n\n"
    );
}
