//! The skeleton's text: types, data sections, and the open/loaded structs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::types::{camel, ident, Field, RType, TypeGen};
use crate::abi::map_type;
use crate::btf::{Btf, Kind};
use crate::obj::{DataKind, ObjectSpec};

/// A global-data section with a generated struct.
struct Section {
    /// ELF section, e.g. `.rodata`.
    section: String,
    /// Accessor name, e.g. `rodata`.
    method: String,
    /// Struct name, e.g. `Rodata`.
    ty: String,
    writable: bool,
    /// (field, C variable) of each global.
    vars: Vec<(String, String)>,
}

/// A map accessor: method name, symbol, and its return type.
struct MapAcc {
    method: String,
    symbol: String,
    doc: String,
    /// `None`: plain `&Map`; else (key, value, per-CPU).
    typed: Option<(String, String, bool)>,
}

/// Names the skeleton itself uses; BTF types get other names.
const RESERVED: &[&str] = &[
    "Map",
    "Object",
    "OpenObject",
    "Pod",
    "Program",
    "Result",
    "TypedMap",
    "PerCpuMap",
    "OpenProgram",
    "OpenMap",
    "Progs",
    "Maps",
    "OpenProgs",
    "OpenMaps",
    "Option",
    "Vec",
    "String",
    "Default",
    "Box",
];

/// A method name unique in `used`.
fn method(used: &mut HashSet<String>, want: &str) -> String {
    let base = ident(want.trim_start_matches('.'));
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// The type ids of the VARs of the DATASEC named `section`, by name.
fn datasec_vars(btf: &Btf, section: &str) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for ds in btf.datasecs().filter(|t| t.name == section) {
        for v in ds.vars() {
            if let Ok(var) = btf.type_by_id(v.type_id) {
                if var.kind == Kind::Var {
                    out.insert(var.name.to_string(), var.size_or_type);
                }
            }
        }
    }
    out
}

pub(super) fn skeleton(spec: &ObjectSpec, name: &str, include: &str) -> String {
    let Some(btf) = spec.btf.as_ref() else {
        return String::new();
    };
    let skel = format!("{}Skel", camel(name));
    let open_skel = format!("Open{skel}");
    let mut reserved: Vec<&str> = RESERVED.to_vec();
    reserved.push(&skel);
    reserved.push(&open_skel);
    let mut tg = TypeGen::new(btf, &reserved);

    // Global sections: names first, so BTF types do not take them.
    let mut sections = Vec::new();
    let mut sec_methods = HashSet::new();
    for m in &spec.maps {
        let writable = match m.data {
            Some(DataKind::Rodata) => false,
            Some(DataKind::Data) | Some(DataKind::Bss) => true,
            _ => continue,
        };
        if !spec.globals.iter().any(|g| g.section == m.section) {
            continue;
        }
        sections.push(Section {
            section: m.section.clone(),
            method: method(&mut sec_methods, &m.section),
            ty: tg.unique(m.section.trim_start_matches('.')),
            writable,
            vars: Vec::new(),
        });
    }
    for s in &mut sections {
        let size = spec
            .maps
            .iter()
            .find(|m| m.section == s.section && m.data.is_some())
            .map_or(0, |m| u64::from(m.value_size));
        let types = datasec_vars(btf, &s.section);
        let mut fields = Vec::new();
        let mut used = HashSet::new();
        for g in spec.globals.iter().filter(|g| g.section == s.section) {
            let ty = match types.get(&g.name) {
                Some(&id) => tg.rust_type(id, &g.name),
                None => RType::bytes(g.size),
            };
            let ty = if ty.size == g.size {
                ty
            } else {
                RType::bytes(g.size)
            };
            fields.push(Field {
                name: method(&mut used, &g.name),
                offset: g.offset,
                ty,
                doc: format!("`{}`", g.name),
            });
        }
        let by_field: HashMap<String, String> = spec
            .globals
            .iter()
            .filter(|g| g.section == s.section)
            .zip(fields.iter())
            .map(|(g, f)| (f.name.clone(), g.name.clone()))
            .collect();
        let doc = format!(
            "The globals of `{}` ({size} bytes){}.",
            s.section,
            if s.writable {
                ""
            } else {
                ": set before load, read-only after"
            }
        );
        let (_, kept) = tg.emit_struct(&s.ty, &doc, size, fields);
        s.vars = kept
            .iter()
            .filter_map(|f| Some((f.name.clone(), by_field.get(&f.name)?.clone())))
            .collect();
    }

    // Maps: typed key/value where the map is a plain key → value store.
    let mut map_methods = HashSet::new();
    let mut maps = Vec::new();
    for m in &spec.maps {
        let kind = crate::abi::MapType::from(m.map_type);
        let mut acc = MapAcc {
            method: method(&mut map_methods, &m.symbol),
            symbol: m.symbol.clone(),
            doc: format!("`{}` ({kind}, {} entries)", m.symbol, m.max_entries),
            typed: None,
        };
        let keyed = matches!(
            m.map_type,
            map_type::HASH
                | map_type::ARRAY
                | map_type::PERCPU_HASH
                | map_type::PERCPU_ARRAY
                | map_type::LRU_HASH
                | map_type::LRU_PERCPU_HASH
                | map_type::LPM_TRIE
        );
        if keyed && m.data.is_none() && m.btf_key_type_id != 0 && m.btf_value_type_id != 0 {
            let k = tg.rust_type(m.btf_key_type_id, &format!("{}_key", m.symbol));
            let v = tg.rust_type(m.btf_value_type_id, &format!("{}_value", m.symbol));
            if k.size == u64::from(m.key_size) && v.size == u64::from(m.value_size) {
                let percpu = matches!(
                    m.map_type,
                    map_type::PERCPU_HASH | map_type::PERCPU_ARRAY | map_type::LRU_PERCPU_HASH
                );
                acc.typed = Some((k.expr, v.expr, percpu));
            }
        }
        maps.push(acc);
    }

    let mut o = String::new();
    let _ = writeln!(
        o,
        "// Generated by `tinybpf gen skeleton` from the object `{name}`: do not edit.\n\
         // The object's programs, maps and globals, typed; see tinybpf::skel.\n\
         #[allow(dead_code, unused_imports, unused_mut, missing_docs, non_snake_case, non_upper_case_globals, clippy::all)]\n\
         mod imp {{\n\
         use tinybpf::{{Map, Object, OpenObject, Pod, Program, Result}};\n\
         use tinybpf::skeleton::{{c_str, initial, OpenMap, OpenProgram, PerCpuMap, TypedMap}};\n\n\
         /// The object's bytes.\n\
         pub const OBJECT: &[u8] = include_bytes!({include});\n\
         /// The object's name.\n\
         pub const NAME: &str = {name:?};\n"
    );
    o.push_str(&tg.out);
    open_struct(&mut o, spec, &skel, &open_skel, &sections, &maps);
    loaded_struct(&mut o, spec, &skel, &sections, &maps);
    o.push_str("}\n#[allow(unused_imports)]\npub use imp::*;\n");
    o
}

fn open_struct(
    o: &mut String,
    spec: &ObjectSpec,
    skel: &str,
    open: &str,
    sections: &[Section],
    maps: &[MapAcc],
) {
    let _ = writeln!(
        o,
        "/// The object opened, not loaded yet: set globals, choose programs, size maps."
    );
    let _ = writeln!(o, "pub struct {open} {{\n    obj: OpenObject,");
    for s in sections {
        let _ = writeln!(o, "    {}: {},", s.method, s.ty);
    }
    let _ = writeln!(o, "}}\n\nimpl {open} {{");
    let _ = writeln!(
        o,
        "    /// Parse the embedded object.\n    pub fn open() -> Result<{open}> {{"
    );
    let _ = writeln!(
        o,
        "        let obj = OpenObject::from_bytes(NAME, OBJECT)?;"
    );
    for s in sections {
        let _ = writeln!(
            o,
            "        let {} = initial(&obj, {:?}, {}::ZERO);",
            s.method, s.section, s.ty
        );
    }
    let fields: Vec<&str> = sections.iter().map(|s| s.method.as_str()).collect();
    let sep = if fields.is_empty() { "" } else { ", " };
    let _ = writeln!(
        o,
        "        Ok({open} {{ obj{sep}{} }})\n    }}",
        fields.join(", ")
    );
    let _ = writeln!(o, "    /// The underlying [`OpenObject`].\n    pub fn object_mut(&mut self) -> &mut OpenObject {{\n        &mut self.obj\n    }}");
    for s in sections {
        let _ = writeln!(
            o,
            "    /// The globals of `{}`, as they will be loaded.",
            s.section
        );
        let _ = writeln!(
            o,
            "    pub fn {0}(&self) -> &{1} {{\n        &self.{0}\n    }}",
            s.method, s.ty
        );
        let _ = writeln!(
            o,
            "    /// The globals of `{}`, to set before load.",
            s.section
        );
        let _ = writeln!(
            o,
            "    pub fn {0}_mut(&mut self) -> &mut {1} {{\n        &mut self.{0}\n    }}",
            s.method, s.ty
        );
    }
    let _ = writeln!(o, "    /// The programs, to choose which to load.\n    pub fn progs_mut(&mut self) -> OpenProgs<'_> {{\n        OpenProgs {{ obj: &mut self.obj }}\n    }}");
    let _ = writeln!(o, "    /// The maps, to size them.\n    pub fn maps_mut(&mut self) -> OpenMaps<'_> {{\n        OpenMaps {{ obj: &mut self.obj }}\n    }}");
    let _ = writeln!(o, "    /// Write the globals, then load everything.\n    pub fn load(mut self) -> Result<{skel}> {{");
    for s in sections {
        for (field, var) in &s.vars {
            let _ = writeln!(
                o,
                "        self.obj.set_global({var:?}, Pod::as_bytes(&{{ self.{}.{field} }}))?;",
                s.method
            );
        }
    }
    let _ = writeln!(o, "        {skel}::new(self.obj.load()?)\n    }}\n}}\n");

    let _ = writeln!(o, "/// The programs before load.\npub struct OpenProgs<'a> {{\n    obj: &'a mut OpenObject,\n}}\n\nimpl OpenProgs<'_> {{");
    let mut used = HashSet::new();
    for p in &spec.programs {
        let m = method(&mut used, &p.name);
        let _ = writeln!(o, "    /// `{}` (`SEC(\"{}\")`).", p.name, p.section);
        let _ = writeln!(o, "    pub fn {m}(&mut self) -> OpenProgram<'_> {{\n        OpenProgram::new(self.obj, {:?})\n    }}", p.name);
    }
    let _ = writeln!(o, "}}\n");
    let _ = writeln!(o, "/// The maps before load.\npub struct OpenMaps<'a> {{\n    obj: &'a mut OpenObject,\n}}\n\nimpl OpenMaps<'_> {{");
    for m in maps {
        let _ = writeln!(o, "    /// {}.", m.doc);
        let _ = writeln!(o, "    pub fn {}(&mut self) -> OpenMap<'_> {{\n        OpenMap::new(self.obj, {:?})\n    }}", m.method, m.symbol);
    }
    let _ = writeln!(o, "}}\n");
}

fn loaded_struct(
    o: &mut String,
    spec: &ObjectSpec,
    skel: &str,
    sections: &[Section],
    maps: &[MapAcc],
) {
    let np = spec.programs.len();
    let nm = maps.len();
    let _ = writeln!(
        o,
        "/// The object loaded: its programs, maps and globals, typed."
    );
    let _ = writeln!(o, "pub struct {skel} {{\n    obj: Object,\n    progs: [Option<usize>; {np}],\n    maps: [usize; {nm}],\n}}\n");
    let _ = writeln!(o, "impl {skel} {{");
    let _ = writeln!(o, "    /// Parse the embedded object (then set globals, and load).\n    pub fn open() -> Result<Open{skel}> {{\n        Open{skel}::open()\n    }}");
    let _ = writeln!(o, "    /// Open and load with the defaults.\n    pub fn load() -> Result<{skel}> {{\n        Open{skel}::open()?.load()\n    }}");
    let _ = writeln!(o, "    fn new(obj: Object) -> Result<{skel}> {{");
    let _ = writeln!(o, "        let missing = |what: &str| tinybpf::Error::Invalid(format!(\"skeleton of {{NAME}}: {{what}} is missing after load; regenerate the skeleton from this object\"));");
    let progs: Vec<String> = spec
        .programs
        .iter()
        .map(|p| {
            format!(
                "obj.programs().iter().position(|p| p.name() == {:?})",
                p.name
            )
        })
        .collect();
    let _ = writeln!(o, "        let progs = [{}];", progs.join(", "));
    let _ = writeln!(o, "        let map = |s: &str| obj.maps().iter().position(|m| m.symbol() == s).ok_or_else(|| missing(s));");
    let ms: Vec<String> = maps
        .iter()
        .map(|m| format!("map({:?})?", m.symbol))
        .collect();
    let _ = writeln!(o, "        let maps = [{}];", ms.join(", "));
    for s in sections {
        let _ = writeln!(o, "        obj.map({:?}).and_then(|m| m.data_as::<{}>()).ok_or_else(|| missing(\"the mapped section {}\"))?;", s.section, s.ty, s.section);
    }
    let _ = writeln!(o, "        Ok({skel} {{ obj, progs, maps }})\n    }}");
    let _ = writeln!(o, "    /// The underlying [`Object`].\n    pub fn object(&self) -> &Object {{\n        &self.obj\n    }}");
    let _ = writeln!(o, "    /// The underlying [`Object`], mutably.\n    pub fn object_mut(&mut self) -> &mut Object {{\n        &mut self.obj\n    }}");
    let _ = writeln!(o, "    /// The programs.\n    pub fn progs(&self) -> Progs<'_> {{\n        Progs {{ obj: &self.obj, idx: &self.progs }}\n    }}");
    let _ = writeln!(o, "    /// The maps.\n    pub fn maps(&self) -> Maps<'_> {{\n        Maps {{ obj: &self.obj, idx: &self.maps }}\n    }}");
    let _ = writeln!(o, "    /// Attach every loaded program where its section says; the number attached.\n    pub fn attach(&mut self) -> Result<usize> {{\n        self.obj.attach_all()\n    }}");
    for s in sections {
        let unreachable = format!("unreachable!(\"{} checked at load\")", s.section);
        let _ = writeln!(
            o,
            "    /// The globals of `{}`, live (memory-mapped).",
            s.section
        );
        let _ = writeln!(o, "    pub fn {}(&self) -> &{} {{\n        match self.obj.map({:?}).and_then(|m| m.data_as()) {{\n            Some(v) => v,\n            None => {unreachable},\n        }}\n    }}", s.method, s.ty, s.section);
        if s.writable {
            let _ = writeln!(
                o,
                "    /// The globals of `{}`, live and writable.",
                s.section
            );
            let _ = writeln!(o, "    pub fn {}_mut(&mut self) -> &mut {} {{\n        match self.obj.map_mut({:?}).and_then(|m| m.data_as_mut()) {{\n            Some(v) => v,\n            None => {unreachable},\n        }}\n    }}", s.method, s.ty, s.section);
        }
    }
    let _ = writeln!(o, "}}\n");

    let _ = writeln!(o, "/// The loaded programs.\npub struct Progs<'a> {{\n    obj: &'a Object,\n    idx: &'a [Option<usize>; {np}],\n}}\n\nimpl<'a> Progs<'a> {{");
    let mut used = HashSet::new();
    for (i, p) in spec.programs.iter().enumerate() {
        let m = method(&mut used, &p.name);
        let _ = writeln!(
            o,
            "    /// `{}` (`SEC(\"{}\")`); `None` if it was not loaded.",
            p.name, p.section
        );
        let _ = writeln!(o, "    pub fn {m}(&self) -> Option<&'a Program> {{\n        self.idx[{i}].and_then(|i| self.obj.programs().get(i))\n    }}");
    }
    let _ = writeln!(o, "}}\n");
    let _ = writeln!(o, "/// The maps.\npub struct Maps<'a> {{\n    obj: &'a Object,\n    idx: &'a [usize; {nm}],\n}}\n\nimpl<'a> Maps<'a> {{");
    let _ = writeln!(
        o,
        "    fn at(&self, i: usize) -> &'a Map {{\n        &self.obj.maps()[self.idx[i]]\n    }}"
    );
    for (i, m) in maps.iter().enumerate() {
        let _ = writeln!(o, "    /// {}.", m.doc);
        match &m.typed {
            None => {
                let _ = writeln!(
                    o,
                    "    pub fn {}(&self) -> &'a Map {{\n        self.at({i})\n    }}",
                    m.method
                );
            }
            Some((k, v, percpu)) => {
                let w = if *percpu { "PerCpuMap" } else { "TypedMap" };
                let _ = writeln!(o, "    pub fn {}(&self) -> {w}<'a, {k}, {v}> {{\n        {w}::new(self.at({i}))\n    }}", m.method);
            }
        }
    }
    let _ = writeln!(o, "}}");
}
