//! BTF / .BTF.ext parsing against synthetic blobs and the C test objects.

use std::sync::Arc;

use tinybpf::btf::{essential_name, kernel_btf_paths, Btf, BtfError, BtfExt, Kind};

/// A tiny BTF builder.
#[derive(Default)]
pub struct B {
    types: Vec<u8>,
    strs: Vec<u8>,
    n: u32,
}

impl B {
    pub fn new() -> B {
        B {
            types: vec![],
            strs: vec![0],
            n: 0,
        }
    }
    pub fn s(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        off
    }
    fn w(&mut self, v: u32) {
        self.types.extend_from_slice(&v.to_le_bytes());
    }
    pub fn ty(&mut self, name: &str, kind: u32, kflag: bool, vlen: u32, st: u32) -> u32 {
        let n = self.s(name);
        self.w(n);
        self.w((kind << 24) | vlen | ((kflag as u32) << 31));
        self.w(st);
        self.n += 1;
        self.n
    }
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let id = self.ty(name, 1, false, 0, size);
        self.w(((signed as u32) << 24) | (size * 8));
        id
    }
    pub fn ptr(&mut self, t: u32) -> u32 {
        self.ty("", 2, false, 0, t)
    }
    pub fn array(&mut self, elem: u32, idx: u32, n: u32) -> u32 {
        let id = self.ty("", 3, false, 0, 0);
        self.w(elem);
        self.w(idx);
        self.w(n);
        id
    }
    /// members: (name, type, bit offset, bitfield size)
    pub fn comp(&mut self, union: bool, name: &str, size: u32, m: &[(&str, u32, u32, u32)]) -> u32 {
        let kflag = m.iter().any(|x| x.3 != 0);
        let id = self.ty(name, if union { 5 } else { 4 }, kflag, m.len() as u32, size);
        for (n, t, off, bf) in m {
            let n = self.s(n);
            self.w(n);
            self.w(*t);
            self.w(if kflag { (bf << 24) | off } else { *off });
        }
        id
    }
    pub fn enum32(&mut self, name: &str, signed: bool, e: &[(&str, i32)]) -> u32 {
        let id = self.ty(name, 6, signed, e.len() as u32, 4);
        for (n, v) in e {
            let n = self.s(n);
            self.w(n);
            self.w(*v as u32);
        }
        id
    }
    pub fn enum64(&mut self, name: &str, e: &[(&str, u64)]) -> u32 {
        let id = self.ty(name, 19, false, e.len() as u32, 8);
        for (n, v) in e {
            let n = self.s(n);
            self.w(n);
            self.w(*v as u32);
            self.w((*v >> 32) as u32);
        }
        id
    }
    pub fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let id = self.ty("", 13, false, params.len() as u32, ret);
        for (n, t) in params {
            let n = self.s(n);
            self.w(n);
            self.w(*t);
        }
        id
    }
    pub fn var(&mut self, name: &str, t: u32, linkage: u32) -> u32 {
        let id = self.ty(name, 14, false, 0, t);
        self.w(linkage);
        id
    }
    pub fn datasec(&mut self, name: &str, size: u32, vars: &[(u32, u32, u32)]) -> u32 {
        let id = self.ty(name, 15, false, vars.len() as u32, size);
        for (t, o, s) in vars {
            self.w(*t);
            self.w(*o);
            self.w(*s);
        }
        id
    }
    pub fn decl_tag(&mut self, name: &str, t: u32, comp: i32) -> u32 {
        let id = self.ty(name, 17, false, 0, t);
        self.w(comp as u32);
        id
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = vec![];
        v.extend_from_slice(&0xeb9fu16.to_le_bytes());
        v.push(1);
        v.push(0);
        for x in [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strs.len() as u32,
        ] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&self.types);
        v.extend_from_slice(&self.strs);
        v
    }
}

fn every_kind() -> (Vec<u8>, Vec<u32>) {
    let mut b = B::new();
    let int = b.int("int", 4, true); // 1
    let ptr = b.ptr(int); // 2
    let arr = b.array(int, int, 10); // 3
    let st = b.comp(
        false,
        "s",
        16,
        &[("a", int, 0, 0), ("bf", int, 32, 3), ("p", ptr, 64, 0)],
    ); // 4
    let un = b.comp(true, "u", 4, &[("x", int, 0, 0)]); // 5
    let en = b.enum32("e", true, &[("E1", -1), ("E2", 2)]); // 6
    let fwd = b.ty("fwd_s", 7, true, 0, 0); // 7
    let td = b.ty("td", 8, false, 0, st); // 8
    let vol = b.ty("", 9, false, 0, td); // 9
    let cst = b.ty("", 10, false, 0, vol); // 10
    let rst = b.ty("", 11, false, 0, ptr); // 11
    let fp = b.func_proto(int, &[("x", int), ("y", ptr)]); // 12
    let func = b.ty("f", 12, false, 1, fp); // 13
    let var = b.var("v", int, 1); // 14
    let ds = b.datasec(".data", 4, &[(var, 0, 4)]); // 15
    let fl = b.ty("double", 16, false, 0, 8); // 16
    let tag = b.decl_tag("tag", st, 1); // 17
    let tt = b.ty("tt", 18, false, 0, int); // 18
    let e64 = b.enum64("e64", &[("BIG", 1 << 40)]); // 19
    (
        b.bytes(),
        vec![
            int, ptr, arr, st, un, en, fwd, td, vol, cst, rst, fp, func, var, ds, fl, tag, tt, e64,
        ],
    )
}

#[test]
fn parses_every_kind() {
    let (bytes, ids) = every_kind();
    let btf = Btf::parse(bytes).unwrap();
    assert_eq!(btf.len(), 20);
    let kinds: Vec<Kind> = ids
        .iter()
        .map(|&i| btf.type_by_id(i).unwrap().kind)
        .collect();
    use Kind::*;
    assert_eq!(
        kinds,
        [
            Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict,
            FuncProto, Func, Var, Datasec, Float, DeclTag, TypeTag, Enum64
        ]
    );
    let t = btf.type_by_id(1).unwrap();
    assert_eq!(t.int().unwrap().bits, 32);
    assert_eq!(t.int().unwrap().encoding, 1);
    assert_eq!(btf.type_by_id(3).unwrap().array().unwrap().nelems, 10);
    let s = btf.type_by_id(4).unwrap();
    let m: Vec<_> = s.members().map(|m| m.unwrap()).collect();
    assert_eq!(m[1].name, "bf");
    assert_eq!((m[1].bit_offset, m[1].bitfield_size), (32, 3));
    assert_eq!(m[2].bit_offset, 64);
    let e = btf.type_by_id(6).unwrap();
    assert_eq!(e.enumerator(0).unwrap().value as i64, -1);
    assert_eq!(
        btf.type_by_id(19).unwrap().enumerator(0).unwrap().value,
        1 << 40
    );
    assert_eq!(btf.type_by_id(12).unwrap().param(1).unwrap().name, "y");
    assert_eq!(btf.type_by_id(13).unwrap().linkage(), Some(1));
    assert_eq!(btf.type_by_id(14).unwrap().linkage(), Some(1));
    assert_eq!(btf.type_by_id(15).unwrap().var_secinfo(0).unwrap().size, 4);
    assert_eq!(btf.type_by_id(17).unwrap().decl_tag_component(), Some(1));
    assert_eq!(btf.skip_mods_and_typedefs(10).unwrap().id, 4);
    assert_eq!(btf.resolve_size(10).unwrap(), 16);
    assert_eq!(btf.resolve_size(3).unwrap(), 40);
    assert_eq!(btf.resolve_size(11).unwrap(), 8);
    assert!(btf.resolve_size(12).is_err());
    assert_eq!(btf.find_by_name_kind("s", Kind::Struct), Some(4));
    assert_eq!(btf.find_by_name_kind("s", Kind::Union), None);
    assert_eq!(btf.find_by_name_kind("td", Kind::Typedef), Some(8));
    assert_eq!(btf.find_by_name("e64"), Some(19));
    assert_eq!(btf.name(0).unwrap(), "");
    assert!(matches!(
        btf.type_by_id(20),
        Err(BtfError::NoSuchType { id: 20, .. })
    ));
    assert_eq!(btf.iter().count(), 19);
}

#[test]
fn truncated_and_garbage_inputs_are_errors_not_panics() {
    let (bytes, _) = every_kind();
    for n in 0..bytes.len() {
        let _ = Btf::parse(bytes[..n].to_vec()).map(|b| {
            for t in b.iter() {
                let _ = t.members().count();
            }
        });
    }
    assert!(Btf::parse(bytes[..10].to_vec()).is_err());
    // lying header: type_len larger than buffer
    let mut lie = bytes.clone();
    lie[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(Btf::parse(lie), Err(BtfError::BadHeader(_))));
    // big-endian magic
    let mut be = bytes.clone();
    be[0] = 0xeb;
    be[1] = 0x9f;
    assert!(matches!(Btf::parse(be), Err(BtfError::BigEndian)));
    // unknown kind at type 1
    let mut bad = bytes.clone();
    bad[24 + 7] = 0x1f;
    assert!(matches!(
        Btf::parse(bad),
        Err(BtfError::BadType { id: 1, .. })
    ));
    // every single-byte corruption: no panic; accessors stay in bounds
    let mut seed = 0x1234_5678u32;
    for i in 0..bytes.len() {
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut c = bytes.clone();
            c[i] = seed as u8;
            if let Ok(b) = Btf::parse(c) {
                for id in 0..b.len() + 2 {
                    if let Ok(t) = b.type_by_id(id) {
                        let _ = t.members().count() + t.params().count() + t.enumerators().count();
                        let _ = b.resolve_size(id);
                        let _ = b.skip_mods_and_typedefs(id);
                    }
                }
                let _ = b.find_by_name("s");
                let _ = b.map_defs();
            }
        }
    }
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let (bytes, _) = every_kind();
    let base = Arc::new(Btf::parse(bytes).unwrap());
    // split: strings start after the base's; ids after 19
    let base_strs = base.to_bytes().len() as u32; // unused for offsets
    let _ = base_strs;
    let base_str_len = {
        let b = base.to_bytes();
        u32::from_le_bytes(b[20..24].try_into().unwrap())
    };
    let mut types = vec![];
    let mut strs = vec![];
    let name_off = base_str_len; // "mod_s"
    strs.extend_from_slice(b"mod_s\0");
    let m_off = base_str_len + 6; // "m"
    strs.extend_from_slice(b"m\0");
    for w in [
        name_off,
        (4 << 24) | 1,
        8,
        m_off,
        4, /* struct s from base */
        0,
    ] {
        types.extend_from_slice(&u32::to_le_bytes(w));
    }
    let mut v = vec![0x9f, 0xeb, 1, 0];
    for x in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strs.len() as u32,
    ] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&types);
    v.extend_from_slice(&strs);
    let split = Btf::parse_split(Box::new(v), base.clone()).unwrap();
    assert_eq!(split.first_own_id(), 20);
    assert_eq!(split.len(), 21);
    let t = split.type_by_id(20).unwrap();
    assert_eq!(t.name, "mod_s");
    let m = t.member(0).unwrap();
    assert_eq!(m.name, "m");
    assert_eq!(split.type_by_id(m.type_id).unwrap().name, "s");
    assert_eq!(split.find_by_name_kind("mod_s", Kind::Struct), Some(20));
    assert_eq!(split.find_by_name_kind("s", Kind::Struct), Some(4));
    assert_eq!(split.own_ids_by_essential_name("s").count(), 0);
}

#[test]
fn datasec_patching_roundtrips() {
    let (bytes, _) = every_kind();
    let mut btf = Btf::parse(bytes).unwrap();
    let ds: Vec<u32> = btf.datasecs().map(|t| t.id).collect();
    assert_eq!(ds, [15]);
    btf.set_datasec_size(15, 64).unwrap();
    btf.set_datasec_var_offset(15, 0, 12).unwrap();
    assert!(btf.set_datasec_var_offset(15, 1, 0).is_err());
    assert!(btf.set_datasec_size(4, 1).is_err());
    let again = Btf::parse(btf.to_bytes()).unwrap();
    let t = again.type_by_id(15).unwrap();
    assert_eq!(t.size(), Some(64));
    assert_eq!(t.var_secinfo(0).unwrap().offset, 12);
    // shared storage is copied on write
    let (bytes, _) = every_kind();
    let mut shared = Btf::parse_shared(Box::new(bytes)).unwrap();
    shared.set_datasec_size(15, 8).unwrap();
    assert_eq!(shared.type_by_id(15).unwrap().size(), Some(8));
}

#[test]
fn essential_names() {
    assert_eq!(essential_name("task_struct___2"), "task_struct");
    assert_eq!(essential_name("a___b___c"), "a___b");
    assert_eq!(essential_name("__x"), "__x");
    assert_eq!(essential_name("x____y"), "x____y");
    assert_eq!(essential_name("x___"), "x___");
}

#[test]
fn kernel_paths() {
    let p = kernel_btf_paths("6.18.0");
    assert_eq!(p[0].to_str(), Some("/sys/kernel/btf/vmlinux"));
    assert!(p
        .iter()
        .any(|x| x.to_str() == Some("/lib/modules/6.18.0/vmlinux-6.18.0")));
    assert_eq!(p.len(), 8);
}

fn obj(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn map_defs_from_object() {
    let btf = Btf::from_elf(&obj("bpf/tests/core/fields.bpf.o")).unwrap();
    let maps = btf.map_defs().unwrap();
    assert_eq!(maps.len(), 1);
    let m = &maps[0];
    assert_eq!(m.name, "cf_buf");
    assert_eq!(
        (m.map_type, m.max_entries, m.key_size, m.value_size),
        (2, 1, 4, 256)
    );
    assert!(m.key_type_id.is_some() && m.value_type_id.is_some());
    assert_eq!(m.var_offset_in_section, 0);
}

#[test]
fn map_in_map_and_unknown_member() {
    let mut b = B::new();
    let int = b.int("int", 4, false); // 1
    let a12 = b.array(int, int, 12); // 2: type = 12 (array of maps)
    let p12 = b.ptr(a12); // 3
    let a1 = b.array(int, int, 1); // 4
    let p1 = b.ptr(a1); // 5
    let a2 = b.array(int, int, 2); // 6 (inner: array)
    let p2 = b.ptr(a2); // 7
    let pint = b.ptr(int); // 8
    let inner = b.comp(
        false,
        "",
        24,
        &[
            ("type", p2, 0, 0),
            ("max_entries", p1, 64, 0),
            ("value", pint, 128, 0),
        ],
    ); // 9
    let pinner = b.ptr(inner); // 10
    let vals = b.array(pinner, int, 0); // 11
    let outer = b.comp(
        false,
        "",
        24,
        &[
            ("type", p12, 0, 0),
            ("max_entries", p1, 64, 0),
            ("values", vals, 128, 0),
        ],
    ); // 12
    let v = b.var("outer", outer, 1); // 13
    let bad = b.comp(false, "", 8, &[("bogus", p1, 0, 0)]); // 14
    let v2 = b.var("badmap", bad, 1); // 15
    b.datasec(".maps", 32, &[(v, 0, 24)]);
    let btf = Btf::parse(b.bytes()).unwrap();
    let m = btf.map_defs().unwrap();
    assert_eq!(m[0].map_type, 12);
    assert_eq!(m[0].value_size, 4);
    assert_eq!(m[0].values_member_offset, Some(16));
    let inner = m[0].inner.as_ref().unwrap();
    assert_eq!(
        (inner.map_type, inner.max_entries, inner.value_size),
        (2, 1, 4)
    );
    b.datasec(".maps", 32, &[(v2, 0, 8)]);
    // a second .maps datasec is ignored by find(); build a fresh one
    let mut b2 = B::new();
    let int = b2.int("int", 4, false);
    let a1 = b2.array(int, int, 1);
    let p1 = b2.ptr(a1);
    let bad = b2.comp(false, "", 8, &[("bogus", p1, 0, 0)]);
    let v2 = b2.var("badmap", bad, 1);
    b2.datasec(".maps", 8, &[(v2, 0, 8)]);
    match Btf::parse(b2.bytes()).unwrap().map_defs() {
        Err(BtfError::MapDef { map, what }) => {
            assert_eq!(map, "badmap");
            assert!(what.contains("bogus"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn btf_ext_parse_and_garbage() {
    let data = obj("bpf/tests/core/fields.bpf.o");
    let btf = Btf::from_elf(&data).unwrap();
    use object::{Object, ObjectSection};
    let f = object::File::parse(&*data).unwrap();
    let ext_bytes = f
        .section_by_name(".BTF.ext")
        .unwrap()
        .data()
        .unwrap()
        .to_vec();
    let ext = BtfExt::parse(&ext_bytes, &btf).unwrap();
    assert_eq!(ext.func_info_for("xdp").len(), 1);
    assert!(ext.line_info_for("xdp").len() > 10);
    assert!(ext.core_relos_for("xdp").len() > 30);
    assert_eq!(ext.func_info_rec_size, 8);
    assert_eq!(ext.line_info_rec_size, 16);
    for n in 0..ext_bytes.len() {
        let _ = BtfExt::parse(&ext_bytes[..n], &btf);
    }
    for i in 0..ext_bytes.len() {
        let mut c = ext_bytes.clone();
        c[i] ^= 0xa5;
        let _ = BtfExt::parse(&c, &btf);
    }
    // a lying record count
    let mut c = ext_bytes.clone();
    let fi_off = u32::from_le_bytes(c[8..12].try_into().unwrap()) as usize;
    let hdr = u32::from_le_bytes(c[4..8].try_into().unwrap()) as usize;
    let num_at = hdr + fi_off + 4 + 4;
    c[num_at..num_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(BtfExt::parse(&c, &btf), Err(BtfError::Ext { .. })));
}

#[test]
fn vmlinux_parse_is_fast_and_finds_task_struct() {
    let Ok(bytes) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        if std::env::var_os("CI").is_some() {
            panic!("no /sys/kernel/btf/vmlinux under CI");
        }
        eprintln!("skipping: /sys/kernel/btf/vmlinux not readable");
        return;
    };
    let t0 = std::time::Instant::now();
    let btf = Btf::parse_shared(Box::new(bytes)).unwrap();
    let id = btf.find_by_name_kind("task_struct", Kind::Struct).unwrap();
    let dt = t0.elapsed();
    eprintln!("vmlinux: {} types, parse+index+find {:?}", btf.len(), dt);
    let t = btf.type_by_id(id).unwrap();
    assert!(t.members().any(|m| m.unwrap().name == "real_parent"));
    assert!(btf.len() > 10_000);
}

/// Many types of mixed sizes (so ids fall at every position between the
/// recorded offsets, one per 16 types), names sharing first bytes and
/// flavors: every id decodes to what was built, and every name lookup finds
/// the right ids in increasing order.
#[test]
fn sparse_offsets_and_grouped_name_index() {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    let mut want: Vec<(u32, String, u32)> = Vec::new(); // (id, name, kind)
    for i in 0..300u32 {
        let name = match i % 5 {
            0 => format!("ta{i}"),
            1 => format!("tb{i}___v{}", i % 3),
            2 => format!("t{i}"),
            3 => format!("x{}", i % 7),
            _ => String::new(),
        };
        let id = match i % 4 {
            0 => b.comp(false, &name, 8, &[("a", int, 0, 0), ("b", int, 32, 0)]),
            1 => b.ptr(int),
            2 => b.enum32(&name, false, &[("A", 1), ("B", 2), ("C", 3)]),
            _ => b.array(int, int, i),
        };
        let kind = match i % 4 {
            0 => 4,
            1 => 2,
            2 => 6,
            _ => 3,
        };
        // ptr and array are anonymous whatever the name was.
        let named = if kind == 2 || kind == 3 {
            String::new()
        } else {
            name
        };
        want.push((id, named, kind));
    }
    // Short names whose flavor cut falls in the first two bytes.
    for name in ["q___v1", "q", "q___v2___w", "___z", "r___", "q___v2"] {
        let id = b.comp(false, name, 4, &[("a", int, 0, 0)]);
        want.push((id, name.to_string(), 4));
    }
    let btf = Btf::parse(b.bytes()).unwrap();
    assert_eq!(btf.len(), want.last().unwrap().0 + 1);
    for (id, name, kind) in &want {
        let t = btf.type_by_id(*id).unwrap();
        assert_eq!((t.kind as u32, t.name), (*kind, name.as_str()), "id {id}");
        if *kind == 3 {
            // Arrays were built with nelems = their loop index.
            let i = want.iter().position(|w| w.0 == *id).unwrap() as u32;
            assert_eq!(t.array().unwrap().nelems, i);
        }
    }
    for (id, name, kind) in &want {
        if name.is_empty() {
            continue;
        }
        let k = btf.type_by_id(*id).unwrap().kind;
        let first = want
            .iter()
            .find(|(_, n, kk)| n == name && kk == kind)
            .unwrap()
            .0;
        assert_eq!(btf.find_by_name_kind(name, k), Some(first), "{name}");
        let ess = essential_name(name);
        let got: Vec<u32> = btf.own_ids_by_essential_name(ess).collect();
        let expect: Vec<u32> = want
            .iter()
            .filter(|(_, n, _)| !n.is_empty() && essential_name(n) == ess)
            .map(|w| w.0)
            .collect();
        assert_eq!(got, expect, "{ess}");
    }
    let q: Vec<u32> = btf.own_ids_by_essential_name("q").collect();
    assert_eq!(q.len(), 3, "q___v1, q and q___v2");
    assert_eq!(btf.own_ids_by_essential_name("q___v2").count(), 1);
    assert_eq!(btf.find_by_name_kind("tz", Kind::Struct), None);
    assert_eq!(btf.find_by_name("x9"), None);
    assert_eq!(
        btf.find_by_name("x6"),
        want.iter().find(|w| w.1 == "x6").map(|w| w.0)
    );
}

/// `Btf::datasec_named`: found by its whole name, also when the name is
/// the tail of a longer string (a name offset may point inside one); not
/// found when only a longer name or a prefix of it is in the strings.
#[test]
fn datasec_named_finds_exact_names_only() {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    let v = b.var("counter", int, 1);
    b.datasec(".data", 4, &[(v, 0, 4)]);
    b.datasec(".kconfig_not", 0, &[]);
    // A DATASEC whose name is the tail of "my.ksyms": offset + 2.
    let off = b.s("my.ksyms") + 2;
    b.types.extend_from_slice(&off.to_le_bytes());
    b.types.extend_from_slice(&(15u32 << 24).to_le_bytes());
    b.types.extend_from_slice(&0u32.to_le_bytes());
    b.n += 1;
    let btf = Btf::parse(b.bytes()).unwrap();
    assert_eq!(btf.datasec_named(".data").map(|t| t.id), Some(3));
    assert_eq!(btf.datasec_named(".ksyms").map(|t| t.id), Some(5));
    assert_eq!(btf.datasec_named(".kconfig").map(|t| t.id), None);
    assert_eq!(btf.datasec_named(".dat").map(|t| t.id), None);
    assert_eq!(btf.datasec_named("counter").map(|t| t.id), None, "a VAR");
}
