use super::*;
use crate::btf::{BtfBuilder, BTF_INT_SIGNED};

/// A BTF with one of everything sanitize may touch; returns it and the ids.
struct Sample {
    btf: Btf,
    int: u32,
    float: u32,
    proto: u32,
    func: u32,
    static_func: u32,
    var: u32,
    datasec: u32,
    decl_tag: u32,
    type_tag: u32,
    ptr: u32,
    enum_signed: u32,
    enum_unsigned: u32,
    enum64: u32,
}

fn sample() -> Sample {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, BTF_INT_SIGNED);
    let float = b.add_float("double", 8);
    let proto = b.add_func_proto(int, &[("ctx", int), ("x", float)]);
    let func = b.add_func("prog", proto, 1);
    let static_func = b.add_func("helper", proto, 0);
    let var = b.add_var("counter", int, 1);
    let datasec = b.add_datasec(".data", 8, &[(var, 4, 4)]);
    let decl_tag = b.add_decl_tag("user", func, -1);
    let type_tag = b.add_type_tag("rcu", int);
    let ptr = b.add_ptr(type_tag);
    let enum_signed = b.add_enum("e_s", 4, true, &[("NEG", -1), ("POS", 1)]);
    let enum_unsigned = b.add_enum("e_u", 4, false, &[("A", 7)]);
    let enum64 = b.add_enum64("e64", 8, false, &[("BIG", 1 << 40), ("SMALL", 2)]);
    Sample {
        btf: Btf::parse(b.to_bytes()).expect("sample BTF parses"),
        int,
        float,
        proto,
        func,
        static_func,
        var,
        datasec,
        decl_tag,
        type_tag,
        ptr,
        enum_signed,
        enum_unsigned,
        enum64,
    }
}

fn run(s: &Sample, have: BtfFeatures) -> Btf {
    let out = sanitize(&s.btf, &have)
        .expect("sanitize")
        .expect("something changed");
    Btf::parse(out).expect("sanitized BTF parses")
}

fn only_missing(f: impl FnOnce(&mut BtfFeatures)) -> BtfFeatures {
    let mut h = BtfFeatures::all();
    f(&mut h);
    h
}

fn kind(b: &Btf, id: u32) -> Kind {
    b.type_by_id(id).unwrap().kind
}

#[test]
fn all_features_changes_nothing() {
    let s = sample();
    assert!(sanitize(&s.btf, &BtfFeatures::all()).unwrap().is_none());
}

#[test]
fn float_becomes_empty_struct_of_same_size() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.float = false));
    let t = b.type_by_id(s.float).unwrap();
    assert_eq!(
        (t.kind, t.name, t.vlen(), t.size()),
        (Kind::Struct, "", 0, Some(8))
    );
    assert_eq!(b.len(), s.btf.len());
    // The rest is untouched.
    assert_eq!(kind(&b, s.type_tag), Kind::TypeTag);
    assert_eq!(kind(&b, s.enum64), Kind::Enum64);
}

#[test]
fn decl_tag_becomes_anonymous_byte_int() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.decl_tag = false));
    let t = b.type_by_id(s.decl_tag).unwrap();
    assert_eq!((t.kind, t.name, t.size()), (Kind::Int, "", Some(1)));
    assert_eq!(t.int().unwrap().bits, 8);
}

#[test]
fn type_tag_becomes_const_of_same_target() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.type_tag = false));
    let t = b.type_by_id(s.type_tag).unwrap();
    assert_eq!(
        (t.kind, t.name, t.ref_type()),
        (Kind::Const, "", Some(s.int))
    );
    assert_eq!(b.type_by_id(s.ptr).unwrap().ref_type(), Some(s.type_tag));
    assert_eq!(b.resolve_size(s.type_tag).unwrap(), 4);
}

#[test]
fn enum64_becomes_union_with_placeholder_members() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.enum64 = false));
    let t = b.type_by_id(s.enum64).unwrap();
    assert_eq!((t.kind, t.name, t.size()), (Kind::Union, "e64", Some(8)));
    let names: Vec<&str> = t.members().map(|m| m.unwrap().name).collect();
    assert_eq!(names, ["BIG", "SMALL"]);
    // One placeholder INT appended after the last original id.
    assert_eq!(b.len(), s.btf.len() + 1);
    let ph = t.member(0).unwrap().type_id;
    assert_eq!(ph, s.btf.len());
    let p = b.type_by_id(ph).unwrap();
    assert_eq!((p.kind, p.size()), (Kind::Int, Some(8)));
    assert!(t.members().all(|m| {
        let m = m.unwrap();
        m.type_id == ph && m.bit_offset == 0
    }));
}

#[test]
fn enum64_placeholders_one_per_size() {
    let mut bb = BtfBuilder::new();
    let a = bb.add_enum64("a", 8, false, &[("X", 1 << 33)]);
    let c = bb.add_enum64("c", 4, false, &[("Y", 1)]);
    let d = bb.add_enum64("d", 8, true, &[("Z", u64::MAX)]);
    let btf = Btf::parse(bb.to_bytes()).unwrap();
    let out = sanitize(&btf, &only_missing(|h| h.enum64 = false))
        .unwrap()
        .unwrap();
    let b = Btf::parse(out).unwrap();
    assert_eq!(b.len(), btf.len() + 2);
    let ty = |id| b.type_by_id(id).unwrap().member(0).unwrap().type_id;
    assert_eq!(ty(a), ty(d));
    assert_ne!(ty(a), ty(c));
    assert_eq!(b.type_by_id(ty(c)).unwrap().size(), Some(4));
    // An ENUM64 of an odd size cannot be represented: typed error.
    let mut bb = BtfBuilder::new();
    bb.add_enum64("odd", 3, false, &[("X", 1)]);
    let odd = Btf::parse(bb.to_bytes()).unwrap();
    let e = sanitize(&odd, &BtfFeatures::none()).unwrap_err();
    assert!(e.to_string().contains("ENUM64 size"), "{e}");
}

#[test]
fn signed_enum_loses_kind_flag_keeps_values() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.enum_kflag = false));
    let t = b.type_by_id(s.enum_signed).unwrap();
    assert_eq!((t.kind, t.kind_flag), (Kind::Enum, false));
    let v: Vec<u64> = t.enumerators().map(|e| e.unwrap().value).collect();
    assert_eq!(v, [u32::MAX as u64, 1]);
    let u = b.type_by_id(s.enum_unsigned).unwrap();
    assert_eq!((u.kind, u.kind_flag), (Kind::Enum, false));
}

#[test]
fn global_func_becomes_static_only_without_global_support() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.func_global = false));
    assert_eq!(b.type_by_id(s.func).unwrap().linkage(), Some(0));
    assert_eq!(b.type_by_id(s.func).unwrap().kind, Kind::Func);
    assert_eq!(b.type_by_id(s.static_func).unwrap().linkage(), Some(0));
    assert_eq!(kind(&b, s.proto), Kind::FuncProto);
}

#[test]
fn without_func_support_func_is_typedef_and_proto_enum() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.func = false));
    let f = b.type_by_id(s.func).unwrap();
    assert_eq!(
        (f.kind, f.name, f.ref_type()),
        (Kind::Typedef, "prog", Some(s.proto))
    );
    let p = b.type_by_id(s.proto).unwrap();
    assert_eq!((p.kind, p.size(), p.vlen()), (Kind::Enum, Some(4), 2));
    let names: Vec<&str> = p.enumerators().map(|e| e.unwrap().name).collect();
    assert_eq!(names, ["ctx", "x"]);
}

#[test]
fn without_datasec_var_is_int_and_datasec_struct() {
    let s = sample();
    let b = run(&s, only_missing(|h| h.datasec = false));
    let v = b.type_by_id(s.var).unwrap();
    assert_eq!((v.kind, v.name, v.size()), (Kind::Int, "counter", Some(1)));
    let d = b.type_by_id(s.datasec).unwrap();
    assert_eq!((d.kind, d.name, d.size()), (Kind::Struct, "_data", Some(8)));
    let m = d.member(0).unwrap();
    assert_eq!((m.name, m.type_id, m.bit_offset), ("counter", s.var, 32));
}

#[test]
fn nothing_left_with_no_features() {
    let s = sample();
    let b = run(&s, BtfFeatures::none());
    for t in b.iter() {
        assert!(
            !matches!(
                t.kind,
                Kind::Float
                    | Kind::DeclTag
                    | Kind::TypeTag
                    | Kind::Enum64
                    | Kind::Var
                    | Kind::Datasec
                    | Kind::Func
                    | Kind::FuncProto
            ),
            "{t:?} left"
        );
        assert!(!(t.kind == Kind::Enum && t.kind_flag), "{t:?} still signed");
    }
    // Same ids, same names for the named types that stay named.
    assert_eq!(b.name(s.int).unwrap(), "int");
    assert_eq!(b.name(s.enum_signed).unwrap(), "e_s");
    assert_eq!(b.name(s.func).unwrap(), "prog");
}

#[test]
fn split_btf_is_a_typed_error() {
    let base = std::sync::Arc::new(sample().btf);
    let mut bb = BtfBuilder::new();
    bb.add_float("f", 4);
    let split = Btf::parse_split(Box::new(bb.to_bytes()), base).expect("split parses");
    let e = sanitize(&split, &BtfFeatures::none()).unwrap_err();
    assert!(e.to_string().contains("split"), "{e}");
}
